/**
 * The committed bundle's `release` command, run as a runner runs a node
 * action on a push to main (the event payload the emulator delivered, a full
 * checkout, nothing but the runner's environment): it ships the version the
 * push added as an asset of the index repo's release, with the record's
 * digest; run again on the same push it uploads nothing and changes nothing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VersionRecord } from '../../src/core/types.js'
import { client, clone, git, run, tempDir, useEmulator } from '../github/helpers.js'
import { createIndexFixture, REPO, type IndexFixture } from './fixture.js'

const BUNDLE = path.resolve(import.meta.dirname, '../../dist/action/index.js')

describe('the bundle on a push event: release', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  beforeAll(async () => {
    fx = await createIndexFixture(ctx.emu)
  })
  afterAll(() => fx?.close())

  /** Runs `node dist/action/index.js` as a release job would: a checkout with fetch-depth 0 and a contents: write token. */
  async function runAsRunner(payload: Record<string, unknown>) {
    const token = ctx.emu.mintToken({ permissions: { contents: 'write' }, repositories: [REPO] })
    const home = await tempDir('wharf-runner-')
    const workspace = await clone(ctx.emu, REPO, token)
    const eventPath = path.join(home, 'event.json')
    fs.writeFileSync(eventPath, JSON.stringify(payload))
    const files = { GITHUB_OUTPUT: path.join(home, 'output'), GITHUB_STEP_SUMMARY: path.join(home, 'summary.md') }
    for (const f of Object.values(files)) fs.writeFileSync(f, '')
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: REPO,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: payload.after as string,
      GITHUB_ACTOR: 'admin',
      GITHUB_RUN_ID: '7',
      GITHUB_WORKSPACE: workspace,
      GITHUB_API_URL: ctx.emu.urls.api,
      GITHUB_SERVER_URL: ctx.emu.urls.html,
      RUNNER_TEMP: home,
      ...files,
      INPUT_COMMAND: 'release',
      INPUT_TOKEN: token,
      INPUT_INDEX: '.',
      'INPUT_PACE-WRITES': 'false',
    }
    const result = await run(process.execPath, [BUNDLE], { cwd: workspace, env })
    return { ...result, summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'), output: fs.readFileSync(files.GITHUB_OUTPUT, 'utf8') }
  }

  it('uploads the version the push added as a release asset, and a second run uploads nothing', async () => {
    const record = fx.record('1.1.0')
    const work = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    fs.mkdirSync(path.dirname(path.join(work, record.path)), { recursive: true })
    fs.writeFileSync(path.join(work, record.path), record.content)
    await git(work, 'add', '-A')
    await git(work, 'commit', '--quiet', '-m', 'Add acme:calc@1.1.0')
    ctx.emu.takeDeliveries()
    await git(work, 'push', '--quiet', 'origin', 'main')
    const push = ctx.emu.takeDeliveries().find((d) => d.name === 'push')
    expect(push).toBeDefined()
    expect(push!.payload.after).toBe((await git(work, 'rev-parse', 'HEAD')).trim())

    const first = await runAsRunner(push!.payload)
    expect(first.stdout).not.toContain('::error')
    expect(first.code, first.stdout + first.stderr).toBe(0)
    expect(first.output).toMatch(/uploaded<<.*\n1\n/)
    expect(first.output).toMatch(/released<<.*\n\["acme:calc@1\.1\.0"\]\n/)
    expect(first.summary).toContain('<code>acme:calc@1.1.0</code>')
    expect(first.summary).toContain('calc.wasm uploaded')

    const gh = client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
    const declared = (JSON.parse(record.content) as VersionRecord).artifacts[0]!
    const release = await gh.releases.getByTag({ owner: 'wharf', repo: 'index' }, 'acme.calc@1.1.0')
    expect(release?.assets.map((a) => ({ name: a.name, size: a.size, digest: a.digest }))).toEqual([{ name: 'calc.wasm', size: declared.size, digest: `sha256:${declared.sha256}` }])

    const second = await runAsRunner(push!.payload)
    expect(second.code, second.stdout + second.stderr).toBe(0)
    expect(second.output).toMatch(/uploaded<<.*\n0\n/)
    expect(second.summary).toContain('calc.wasm present')
    const again = await gh.releases.getByTag({ owner: 'wharf', repo: 'index' }, 'acme.calc@1.1.0')
    expect(again?.assets).toEqual(release?.assets)
  }, 120_000)

  it('refuses to run on an event that names no push, saying which inputs to give', async () => {
    const result = await runAsRunner({ after: 'not a sha' })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/::error::release needs the push's commits.*Fix: .*before and after inputs/)
  }, 60_000)
})
