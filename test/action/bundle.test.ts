/**
 * The committed bundle: rebuilt, it is byte for byte what is committed (so CI
 * fails on a stale one); and run as a runner runs a node action on a
 * pull_request event, with nothing but the runner's environment, it passes an
 * honest submission and fails a non-owner's, saying why; and on a push, it
 * builds a large index's API on worker threads, as the CLI does.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain ESM build script, without types
import { buildAction } from '../../scripts/build-action.mjs'
import { buildApi } from '../../src/api/index.js'
import { openRepo } from '../../src/git/index.js'
import { siteRenderer } from '../../src/site/index.js'
import { createSyntheticIndex } from '../fixtures/api/synthetic.js'
import { readTree, treeDifferences } from '../fixtures/api/tree.js'
import { client, git, pushBranch, run, tempDir, useEmulator } from '../github/helpers.js'
import { createIndexFixture, REPO, type IndexFixture } from './fixture.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BUNDLE = path.join(ROOT, 'dist/action/index.js')

/** What a runner sets for every step of a job on `eventName`, with the (empty) files a step writes its outputs and summary to, under `home`. */
function runnerEnv(home: string, eventName: string) {
  const files = { GITHUB_OUTPUT: path.join(home, 'output'), GITHUB_STEP_SUMMARY: path.join(home, 'summary.md') }
  for (const f of Object.values(files)) fs.writeFileSync(f, '')
  return { files, env: { PATH: process.env.PATH, HOME: home, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: eventName, RUNNER_TEMP: home, ...files } }
}

describe('the committed bundle', () => {
  it('is what a fresh build of the sources writes', async () => {
    const out = path.join(await tempDir('wharf-bundle-'), 'action')
    const files: string[] = await buildAction(out)
    for (const file of files) {
      const fresh = fs.readFileSync(path.join(out, file))
      const committed = fs.readFileSync(path.join(ROOT, 'dist/action', file))
      expect(committed.equals(fresh), `dist/action/${file} is stale: run node scripts/build-action.mjs and commit dist/action`).toBe(true)
    }
    const committedFiles = fs.readdirSync(path.join(ROOT, 'dist/action'), { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(ROOT, 'dist/action', f)).isFile())
    expect(committedFiles.sort()).toEqual([...files].sort())
  }, 120_000)

  it('is what action.yml runs, on the node24 runtime', () => {
    const yml = fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
    expect(yml).toMatch(/\n {2}using: node24\n {2}main: dist\/action\/index\.js\n/)
  })
})

describe('the bundle on a pull_request event', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  beforeAll(async () => {
    fx = await createIndexFixture(ctx.emu)
  })
  afterAll(() => fx?.close())

  /** Opens a pull request from `login`'s branch adding `files`, and returns the `pull_request` payload GitHub delivers. */
  async function openPull(login: string, branch: string, files: Record<string, string>) {
    const token = ctx.emu.mintToken({ user: login })
    const work = await fx.clone(token)
    await pushBranch(work, branch, files, `Add ${branch}`)
    ctx.emu.takeDeliveries()
    await client(ctx.emu, token).pulls.create({ owner: 'wharf', repo: 'index' }, { title: branch, head: branch, base: 'main' })
    const delivery = ctx.emu.takeDeliveries().find((d) => d.name === 'pull_request' && d.payload.action === 'opened')
    expect(delivery).toBeDefined()
    return delivery!.payload
  }

  /** Checks out the test merge as actions/checkout does, and runs `node dist/action/index.js` with the runner's environment only. */
  async function runAsRunner(payload: Record<string, unknown>) {
    const token = ctx.emu.mintToken({ permissions: { contents: 'read', 'pull-requests': 'read' }, repositories: [REPO] })
    const home = await tempDir('wharf-runner-')
    const workspace = path.join(home, 'workspace')
    const number = (payload.pull_request as { number: number }).number
    const url = ctx.emu.cloneUrl(REPO)
    fs.mkdirSync(workspace)
    await git(workspace, 'init', '-q')
    await git(workspace, 'remote', 'add', 'origin', url)
    await git(workspace, 'config', '--local', `http.${url}/.extraheader`, `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`)
    await git(workspace, 'fetch', '-q', '--no-tags', '--depth=1', 'origin', `+refs/pull/${number}/merge:refs/remotes/pull/${number}/merge`)
    await git(workspace, 'checkout', '-q', '--detach', `refs/remotes/pull/${number}/merge`)
    const eventPath = path.join(home, 'event.json')
    fs.writeFileSync(eventPath, JSON.stringify(payload))
    const { env: base, files } = runnerEnv(home, 'pull_request')
    const env = {
      ...base,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: REPO,
      GITHUB_REF: `refs/pull/${number}/merge`,
      GITHUB_SHA: (await git(workspace, 'rev-parse', 'HEAD')).trim(),
      GITHUB_ACTOR: (payload.sender as { login: string }).login,
      GITHUB_RUN_ID: '1',
      GITHUB_WORKSPACE: workspace,
      GITHUB_API_URL: ctx.emu.urls.api,
      GITHUB_SERVER_URL: ctx.emu.urls.html,
      INPUT_COMMAND: 'check',
      INPUT_TOKEN: token,
      INPUT_INDEX: '.',
      'INPUT_PACE-WRITES': 'false',
    }
    const result = await run(process.execPath, [BUNDLE], { cwd: workspace, env })
    return { ...result, summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'), output: fs.readFileSync(files.GITHUB_OUTPUT, 'utf8') }
  }

  it('passes an honest submission, and its summary names the package', async () => {
    const record = fx.record('1.1.0')
    const payload = await openPull('alice', 'calc-1.1.0', { [record.path]: record.content })
    const result = await runAsRunner(payload)
    expect(result.stdout).not.toContain('::error')
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.summary).toContain('✅ accepted')
    expect(result.summary).toContain('<code>acme:calc@1.1.0</code>')
    expect(result.output).toMatch(/accepted<<.*\ntrue\n/)
  }, 60_000)

  it("fails a non-owner's submission with an annotation and a summary that name the rule and the fix", async () => {
    const record = fx.record('1.2.0')
    const payload = await openPull('mallory', 'calc-1.2.0', { [record.path]: record.content })
    const result = await runAsRunner(payload)
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/::error title=namespace\/not-owner,file=index\/packages\/acme\/calc\/1\.2\.0\.json::mallory is not an owner of namespace "acme"\. Fix: submit from an owner's account/)
    expect(result.summary).toContain('❌ rejected')
    expect(result.summary).toContain('<code>namespace/not-owner</code>')
    expect(result.summary).toMatch(/submit from an owner's account/)
    expect(result.stdout).toContain('::error::pull request #')
    expect(result.output).toMatch(/accepted<<.*\nfalse\n/)
  }, 60_000)
})

describe('the bundle on a push, building the API', () => {
  it('uses worker threads for a large index (they load the bundle and site.js) and writes the bytes the sources write', async () => {
    const home = await tempDir('wharf-runner-api-')
    // Past the history length at which a full build starts threads (src/api/full.ts).
    const index = await createSyntheticIndex(4_100, home)
    const registryKey = fs.readFileSync(path.join(index.dir, '.wharf/registry.key'), 'utf8')
    const profiles = path.join(home, 'profiles')
    const env = {
      ...runnerEnv(home, 'push').env,
      GITHUB_REPOSITORY: REPO,
      GITHUB_SHA: index.head,
      GITHUB_WORKSPACE: index.dir,
      GITHUB_SERVER_URL: 'https://github.com',
      INPUT_COMMAND: 'build-api',
      // action.yml's default (github.token); build-api makes no API call.
      INPUT_TOKEN: 'ghs_unused',
      INPUT_INDEX: '.',
      INPUT_OUT: '_site',
      'INPUT_BASE-URL': 'https://registry.example',
      'INPUT_REGISTRY-KEY': registryKey,
    }
    // Every thread that runs JavaScript leaves a profile: their count says how many ran.
    const result = await run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--cpu-prof-interval=100000', BUNDLE], { cwd: index.dir, env })
    expect(result.stdout).not.toContain('::error')
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/Built the API of [0-9a-f]{12} full/)
    expect(fs.readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')).length).toBeGreaterThan(1)

    const reference = path.join(home, 'reference')
    await buildApi({ repo: openRepo(index.dir), out: reference, baseUrl: 'https://registry.example', releases: `https://github.com/${REPO}`, registryKey, pages: siteRenderer, threads: 0 })
    const built = readTree(path.join(index.dir, '_site'))
    const expected = readTree(reference)
    // The signed snapshot names the time of its build; everything else is the same bytes.
    for (const tree of [built, expected]) tree.delete('snapshot.json')
    expect(built.size).toBeGreaterThan(10_000)
    expect(treeDifferences(expected, built)).toEqual([])
  }, 180_000)
})
