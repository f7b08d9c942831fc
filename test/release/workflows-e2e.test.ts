/**
 * GitHub mode end to end, through the workflow files on the emulator: a crate
 * repo's publish workflow (the README's template, with `crate: .`) releases the
 * .crate in the crate repo and opens a pull request on the index repo;
 * validate.yml checks it and runs its matrix leg (real cargo); merge.yml
 * comments and merges; release.yml ships the .crate as a release asset of the
 * index repo, commits the validated report, and deploys the API and site.
 * Then, against the deployed output served by nginx: the reads and the
 * download the Run 2.0 client makes, and real cargo building an application
 * that depends on the published crate. A re-run of release.yml on the same
 * push uploads nothing and commits nothing.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VersionRecord } from '../../src/core/types.js'
import { createIndexFixture, REPO, type IndexFixture } from '../action/fixture.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import type { Delivery } from '../github/emulator/state.js'
import { client, git, tempDir, useEmulator } from '../github/helpers.js'
import { createRunner, type Runner, type WorkflowRunResult } from '../github/runner/runner.js'
import { CARGO, runGreetApp } from './cargo-app.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const WORKFLOWS = ['validate.yml', 'merge.yml', 'release.yml']
const INDEX = { owner: 'wharf', repo: 'index' }
/** The Action as a crate repo names it; the runner maps it to this checkout (action.yml and the committed bundle). */
const ACTION = `wharf/wharf@${'c0ffee'.repeat(6)}c0ff`
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')


/** The README's publish workflow for a crate or component repo, made a crate's: each change must find its line exactly once. */
function readmePublishWorkflow(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const block = /```yaml\n(on: workflow_dispatch\n[\s\S]*?)```/.exec(readme)?.[1]
  if (!block) throw new Error("README.md has no publish workflow template (a yaml block starting with 'on: workflow_dispatch')")
  const edits: [RegExp, string][] = [
    [/acme\/wharf@<40-hex commit>/g, ACTION],
    [/^( +)artifact: .*$/gm, '$1crate: .'],
    [/^ +version: .*\n/gm, ''],
    [/^( +)name: acme:calc$/gm, '$1name: acme:wharf-greet'],
    [/^( +)index-repo: acme\/registry$/gm, `$1index-repo: ${REPO}`],
  ]
  return edits.reduce((text, [pattern, replacement]) => {
    const found = text.match(pattern)?.length ?? 0
    if (found !== 1) throw new Error(`the README's publish template has ${found} lines matching ${pattern}, not one`)
    return text.replace(pattern, replacement)
  }, block)
}

describe('GitHub mode end to end: a crate from its repo to cargo, through the workflow files', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  let nginx: Nginx
  let index: Runner
  let work: string
  let pagesDir: string
  let env: NodeJS.ProcessEnv
  const pushes: Delivery[] = []

  /** The index repo's workflows for the pending events and what they cause, keeping each user's push to main. */
  async function drain(): Promise<WorkflowRunResult[]> {
    const runs: WorkflowRunResult[] = []
    for (let pending = ctx.emu.takeDeliveries(); pending.length > 0; pending = ctx.emu.takeDeliveries()) {
      for (const delivery of pending.filter((d) => d.repo === REPO)) {
        if (delivery.name === 'push' && delivery.payload.ref === 'refs/heads/main' && delivery.causedBy.kind !== 'installation') pushes.push(delivery)
        runs.push(...(await index.dispatch(delivery)))
      }
      if (runs.length > 20) throw new Error('more than 20 workflow runs: a loop of workflows triggering each other?')
    }
    return runs
  }
  const logs = (runs: WorkflowRunResult[]) => JSON.stringify(runs.map((r) => [r.name, r.conclusion, r.jobs.map((j) => [j.name, j.conclusion, j.conclusion === 'failure' ? j.log.slice(-3000) : ''])]))
  const mainTip = async () => (await client(ctx.emu, ctx.emu.mintToken({ user: 'admin' })).git.getRef(INDEX, 'heads/main'))!.sha

  beforeAll(async () => {
    work = await tempDir('wharf-e2e-')
    const files = Object.fromEntries(WORKFLOWS.map((w) => [`.github/workflows/${w}`, fs.readFileSync(path.join(ROOT, '.github/workflows', w), 'utf8')]))
    // Two matrix legs, native and wasm32-wasip1 (which times native too, for the speed ratio the gate reads); the registry may require any targets.
    fx = await createIndexFixture(ctx.emu, { files, withAction: true, policy: (r) => void (r.policy.quality_gates = { required_targets: ['native', 'wasm32-wasip1'], max_speed_ratio: 1000 }) })
    pagesDir = path.join(work, 'pages')
    fs.mkdirSync(pagesDir)
    nginx = await startNginx(pagesDir)
    await fs.promises.mkdir(path.join(work, 'cargo-home'))
    env = { PATH: `${path.dirname(CARGO)}:${process.env.PATH}`, HOME: process.env.HOME, LANG: 'C.UTF-8', CARGO_HOME: path.join(work, 'cargo-home'), CARGO_TERM_COLOR: 'never', WHARF_PACE_WRITES: 'false' }
    index = createRunner({
      emulator: ctx.emu,
      repo: REPO,
      secrets: { WHARF_MERGE_TOKEN: ctx.emu.mintToken({ user: 'admin' }), WHARF_REGISTRY_KEY: fx.registryKey },
      pagesDir,
      pagesUrl: `${nginx.url}/`,
      cacheDir: path.join(work, 'cache'),
      baseEnv: env,
    })
  }, 120_000)
  afterAll(async () => {
    await nginx?.stop()
    await fx?.close()
  })

  it('publishes from the crate repo, validates, merges, releases and deploys; nginx serves it to the Run client and cargo', async () => {
    // The crate repo: the greet crate and the README's publish workflow.
    const crate = path.join(ROOT, 'test/fixtures/api/crates/greet')
    const crateFiles: Record<string, string> = { '.github/workflows/publish.yml': readmePublishWorkflow() }
    for (const file of fs.readdirSync(crate, { recursive: true, encoding: 'utf8' })) if (fs.statSync(path.join(crate, file)).isFile()) crateFiles[file] = fs.readFileSync(path.join(crate, file), 'utf8')
    await ctx.emu.createRepo('acme/greet', { files: crateFiles, collaborators: { alice: 'admin' } })
    const publisher = createRunner({
      emulator: ctx.emu,
      repo: 'acme/greet',
      actions: { 'wharf/wharf': ROOT },
      secrets: { WHARF_KEY: fx.key.privatePem, WHARF_PUBLISH_TOKEN: ctx.emu.mintToken({ user: 'alice' }) },
      baseEnv: env,
    })
    const published = await publisher.workflowDispatch('.github/workflows/publish.yml', {}, { actor: 'alice' })
    expect(published.conclusion, logs([published])).toBe('success')
    const number = Number(published.jobs[0]!.steps.at(-1)!.outputs['pull-request'])
    const gh = client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
    const pull = await gh.pulls.get(INDEX, number)
    expect(pull).toMatchObject({ state: 'open', author: { login: 'alice' } })

    // validate (check and its one leg), merge, release (asset, report, build, deploy).
    const runs = await drain()
    expect(runs.map((r) => [r.name, r.conclusion]), logs(runs)).toEqual([
      ['validate', 'success'],
      ['merge', 'success'],
      ['release', 'success'],
    ])
    expect(runs[0]!.jobs.map((j) => [j.id, j.conclusion, j.matrix ? (j.matrix.leg as { target: string }).target : null])).toEqual([
      ['check', 'success', null],
      ['test', 'success', 'native'],
      ['test', 'success', 'wasm32-wasip1'],
    ])
    expect((await gh.pulls.get(INDEX, number)).merged).toBe(true)
    const comments = (await gh.issues.listComments(INDEX, number)).map((c) => c.body).join('\n')
    expect(comments).toContain('## wharf: ✅ Merged.')
    expect(comments).toMatch(/wasm at most 1000x native time \| [\d.]+x native \(wasm32-wasip1, median of \d+ runs\)/)
    expect(runs[2]!.jobs.map((j) => [j.id, j.conclusion])).toEqual([
      ['release', 'success'],
      ['build', 'success'],
      ['deploy', 'success'],
    ])

    const work2 = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    const record = JSON.parse(fs.readFileSync(path.join(work2, 'index/packages/acme/wharf-greet/0.1.0.json'), 'utf8')) as VersionRecord
    expect(record).toMatchObject({ name: 'acme:wharf-greet', kind: 'crate', crate: { name: 'wharf_greet' } })
    const artifact = record.artifacts[0]!

    // The index repo's release asset, downloaded as a reader does (302 to storage), hashes to the record's sha256.
    const release = await gh.releases.getByTag(INDEX, 'wharf_greet@0.1.0')
    expect(release?.assets.map((a) => a.name)).toEqual(['wharf_greet-0.1.0.crate'])
    const download = await fetch(release!.assets[0]!.browserDownloadUrl)
    expect(download.redirected).toBe(true)
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(artifact.sha256)

    // The validated report, committed by the bot on top of the merge.
    const report = JSON.parse(fs.readFileSync(path.join(work2, 'index/reports/acme/wharf-greet/0.1.0/report.json'), 'utf8'))
    // Both of the crate's tests pass, one of them that no token of the job reached the tests it ran.
    expect(report).toMatchObject({
      schema: 'wharf:report/v1',
      subject: { kind: 'crate', version: '0.1.0' },
      targets: [
        { target: 'native', status: 'pass', test: { status: 'pass', passed: 2, failed: 0 } },
        { target: 'wasm32-wasip1', status: 'pass', test: { status: 'pass', passed: 2, failed: 0 } },
      ],
    })
    // Measured by the wasm32-wasip1 leg, which ran both on one machine: the max_speed_ratio gate had a ratio to judge.
    expect(report.verdicts.speed_ratio).toMatchObject({ value: expect.any(Number), wasm_target: 'wasm32-wasip1' })
    expect((await git(work2, 'log', '-1', '--format=%an', 'HEAD')).trim()).toBe('github-actions[bot]')

    // What the Run 2.0 client reads, from nginx: percent-encoded names, JSON integers, the download hashing to sha256.
    const get = async (p: string) => {
      const res = await fetch(`${nginx.url}${p}`)
      expect(res.status, `${p}: ${nginx.errors()}`).toBe(200)
      return res
    }
    await get('/health')
    expect(await (await get('/api/v1/packages/acme%3Awharf-greet/versions')).json()).toMatchObject({ name: 'acme:wharf-greet', versions: ['0.1.0'] })
    const answer = (await (await get('/api/v1/packages/acme%3Awharf-greet/0.1.0')).json()) as Record<string, unknown>
    expect(answer).toMatchObject({ name: 'acme:wharf-greet', version: '0.1.0', sha256: artifact.sha256, size: artifact.size, download_url: release!.assets[0]!.browserDownloadUrl })
    expect(Number.isInteger(answer.published_at)).toBe(true)
    expect(answer.report).toBeDefined()
    const stats = (await (await get('/api/v1/stats')).json()) as Record<string, unknown>
    expect(stats).toMatchObject({ package_count: 1, version_count: 1 })
    const fetched = await fetch(String(answer.download_url))
    expect(sha256(new Uint8Array(await fetched.arrayBuffer()))).toBe(answer.sha256)
    // The site came with it: the version's page, showing its report.
    expect((await (await get('/packages/acme:wharf-greet@0.1.0.html')).text()).includes('report.json')).toBe(true)

    // cargo builds an application that depends on the crate: the sparse index from nginx, the .crate from the release asset.
    const mark = ctx.emu.requests.length
    const ran = await runGreetApp(path.join(work, 'app'), nginx.url, 'workflows', { ...env, XDG_CONFIG_HOME: path.join(work, '.config') })
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stdout.trim()).toBe('Hello, workflows!')
    expect(ctx.emu.requests.slice(mark).map((r) => `${r.status} ${r.path}`)).toContain('302 /wharf/index/releases/download/wharf_greet@0.1.0/wharf_greet-0.1.0.crate')
    expect(ran.lock()).toContain(`checksum = "${record.crate!.cksum}"`)
  }, 900_000)

  it('a re-run of release.yml on the same push uploads nothing and commits nothing', async () => {
    const push = pushes.at(-1)
    expect(push).toBeDefined()
    const tip = await mainTip()
    const gh = client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
    const before = await gh.releases.getByTag(INDEX, 'wharf_greet@0.1.0')
    const again = await index.dispatch(push!)
    expect(again.map((r) => [r.name, r.conclusion]), logs(again)).toEqual([['release', 'success']])
    const job = again[0]!.jobs.find((j) => j.id === 'release')!
    expect(job.outputs.head).toBe(tip)
    expect(job.steps.find((s) => s.id === 'release')?.outputs).toMatchObject({ uploaded: '0', reports: '[]', released: '["acme:wharf-greet@0.1.0"]' })
    expect(job.summary).toMatch(/wharf\\?_greet-0\.1\.0\.crate present \| present/)
    expect(job.summary).toContain('No report to commit.')
    expect(await mainTip()).toBe(tip)
    expect(await gh.releases.getByTag(INDEX, 'wharf_greet@0.1.0')).toEqual(before)
  }, 300_000)
})
