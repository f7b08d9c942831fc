/**
 * release.yml on the emulator, after the gate: an honest pull request is
 * validated and merged by merge.yml with a merge token whose push starts
 * workflows (WHARF_MERGE_TOKEN), the push runs release.yml, and the version
 * ships as an asset of the index repo's release with the record's digest; the
 * version's report from the validate run is committed under index/reports/ by
 * the job's token (a commit that starts nothing); the API and site deployed to
 * Pages name that asset as the version's download URL. The next merge builds
 * incrementally from the output the Actions cache kept; a re-run of the same
 * push uploads nothing and commits nothing; a push that only touches
 * index/reports/ does not start release.yml. The committed workflow files and
 * the committed Action (`uses: ./`) run.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { releaseAssetUrl } from '../../src/core/release-assets.js'
import { RELEASED_REF } from '../../src/publish/release-cursor.js'
import type { VersionRecord } from '../../src/core/types.js'
import type { Delivery } from '../github/emulator/state.js'
import { createRunner, type Runner, type WorkflowRunResult } from '../github/runner/runner.js'
import { client, git, pushBranch, tempDir, useEmulator } from '../github/helpers.js'
import { createIndexFixture, REPO, type IndexFixture } from './fixture.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const WORKFLOWS = ['validate.yml', 'merge.yml', 'release.yml']
const repoRef = { owner: 'wharf', repo: 'index' }

/** Every file under `dir` (following the output's symlink), as paths relative to it. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile())
}

describe('release.yml after a merge', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  let runner: Runner
  let pagesDir: string
  let cacheDir: string
  const pushes: Delivery[] = []

  /** Runs what the pending events start, and what those runs cause, keeping each push to main. */
  async function drain(options: { cancelPush?: boolean } = {}): Promise<WorkflowRunResult[]> {
    const runs: WorkflowRunResult[] = []
    for (let pending = ctx.emu.takeDeliveries(); pending.length > 0; pending = ctx.emu.takeDeliveries()) {
      for (const delivery of pending) {
        const toMain = delivery.name === 'push' && delivery.payload.ref === 'refs/heads/main'
        if (toMain && delivery.causedBy.kind !== 'installation') pushes.push(delivery)
        // As GitHub does to a pending run of a concurrency group when a newer one queues: it never runs.
        if (toMain && options.cancelPush) continue
        runs.push(...(await runner.dispatch(delivery)))
      }
      if (runs.length > 20) throw new Error('more than 20 workflow runs: a loop of workflows triggering each other?')
    }
    return runs
  }

  const log = (runs: WorkflowRunResult[], name: string) => JSON.stringify(runs.filter((r) => r.name === name).map((r) => r.jobs.map((j) => [j.id, j.conclusion, j.log.slice(-2500)])))
  const main = async () => (await client(ctx.emu, ctx.emu.mintToken({ user: 'admin' })).git.getRef(repoRef, 'heads/main'))!.sha
  const released = async () => (await client(ctx.emu, ctx.emu.mintToken({ user: 'admin' })).git.getRef(repoRef, RELEASED_REF))?.sha
  const stepLog = (runs: WorkflowRunResult[], job: string, command: string) =>
    runs.find((r) => r.name === 'release')!.jobs.find((j) => j.id === job)!.steps.find((s) => s.uses === './' && s.log.includes(command))?.log ?? ''

  /** alice's pull request adding acme:calc@version, through validate and merge to release. */
  async function publish(version: string, options: { cancelPush?: boolean } = {}) {
    const record = fx.record(version)
    const token = ctx.emu.mintToken({ user: 'alice' })
    await pushBranch(await fx.clone(token), `calc-${version}`, { [record.path]: record.content }, `Add calc-${version}`)
    const n = (await client(ctx.emu, token).pulls.create(repoRef, { title: `Add calc-${version}`, head: `calc-${version}`, base: 'main' })).number
    const runs = await drain(options)
    expect(runs.find((r) => r.name === 'merge')?.conclusion, log(runs, 'merge')).toBe('success')
    expect((await client(ctx.emu, token).pulls.get(repoRef, n)).merged).toBe(true)
    return { record, number: n, runs }
  }

  beforeAll(async () => {
    const files = Object.fromEntries(WORKFLOWS.map((w) => [`.github/workflows/${w}`, fs.readFileSync(path.join(ROOT, '.github/workflows', w), 'utf8')]))
    fx = await createIndexFixture(ctx.emu, { files, withAction: true })
    pagesDir = path.join(await tempDir('wharf-pages-'), 'site')
    cacheDir = await tempDir('wharf-cache-')
    runner = createRunner({
      emulator: ctx.emu,
      repo: REPO,
      // admin's own token: a merge made with it starts workflows, as a GitHub App's or a PAT does.
      secrets: { WHARF_MERGE_TOKEN: ctx.emu.mintToken({ user: 'admin' }), WHARF_REGISTRY_KEY: fx.registryKey },
      pagesDir,
      pagesUrl: 'http://127.0.0.1:9/wharf/',
      cacheDir,
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', WHARF_PACE_WRITES: 'false' },
    })
  })
  afterAll(() => fx?.close())

  it('ships the merged version as a release asset, commits its report and deploys the API and site naming it', async () => {
    const { record, number, runs } = await publish('1.1.0')
    const release = runs.filter((r) => r.name === 'release')
    // One run: the report commit, made by the job's token and touching only index/reports/, started none.
    expect(release.map((r) => r.conclusion), log(runs, 'release')).toEqual(['success'])
    expect(release[0]!.jobs.map((j) => [j.id, j.conclusion])).toEqual([
      ['release', 'success'],
      ['build', 'success'],
      ['deploy', 'success'],
    ])

    const declared = JSON.parse(record.content) as VersionRecord
    const artifact = declared.artifacts[0]!
    const shipped = await client(ctx.emu, ctx.emu.mintToken({ user: 'admin' })).releases.getByTag(repoRef, 'acme.calc@1.1.0')
    expect(shipped?.assets.map((a) => ({ name: a.name, size: a.size, digest: a.digest }))).toEqual([{ name: 'calc.wasm', size: artifact.size, digest: `sha256:${artifact.sha256}` }])

    // The report commit: the bot's, on top of the merge, adding the one combined report of the validated run.
    const work = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    const reportPath = 'index/reports/acme/calc/1.1.0/report.json'
    expect((await git(work, 'log', '-1', '--format=%an|%s', '--', 'index/reports')).trim()).toBe('github-actions[bot]|Compatibility report of acme:calc@1.1.0')
    expect((await git(work, 'show', '--name-status', '--format=', 'HEAD')).trim()).toBe(`A\t${reportPath}`)
    expect((await git(work, 'log', '-1', '--format=%s', 'HEAD~1')).trim()).toBe(`Add calc-1.1.0 (#${number})`)
    const report = JSON.parse(fs.readFileSync(path.join(work, reportPath), 'utf8'))
    expect(report).toMatchObject({ schema: 'wharf:report/v1', subject: { kind: 'artifact', sha256: artifact.sha256 }, targets: [{ target: 'wasm32-wasip2' }] })
    expect(release[0]!.jobs[0]!.summary).toMatch(/committed \(\\?#\d+, run \d+\)/)

    const url = releaseAssetUrl(`${ctx.emu.urls.html}/${REPO}`, declared, artifact)
    // The version's document (api/v1/packages/<name>/<version>, served without an extension) names the asset as its download.
    const naming = filesUnder(pagesDir).filter((f) => f.startsWith('api/v1/packages/') && fs.readFileSync(path.join(pagesDir, f), 'utf8').includes(JSON.stringify(url)))
    expect(naming.length, `no deployed API document names ${url}`).toBeGreaterThan(0)
    // The site is deployed too, and its version page shows the committed report.
    const page = filesUnder(pagesDir).find((f) => /^packages\/acme:calc@1\.1\.0\.html$/.test(f))
    expect(page, filesUnder(pagesDir).filter((f) => f.endsWith('.html')).join(', ')).toBeDefined()
    expect(fs.readFileSync(path.join(pagesDir, page!), 'utf8')).toContain('report.json')
    expect(stepLog(release, 'build', 'Building the API')).toMatch(/Built the API of [0-9a-f]{12} full/)
    // What shipped is remembered: the push's own commit, not the report commit on top of it.
    expect(await released()).toBe(pushes.at(-1)!.payload.after)
  }, 480_000)

  it('builds the next merge incrementally from the output the cache kept', async () => {
    const { runs } = await publish('1.2.0')
    const release = runs.filter((r) => r.name === 'release')
    expect(release.map((r) => r.conclusion), log(runs, 'release')).toEqual(['success'])
    expect(stepLog(release, 'build', 'Building the API')).toMatch(/holds the build of [0-9a-f]{12}: rebuilding what changed since/)
    expect(stepLog(release, 'build', 'Building the API')).toMatch(/Built the API of [0-9a-f]{12} incremental:/)
    // Restored by prefix from the previous build (another commit's key), and saved under this commit's.
    const build = release[0]!.jobs.find((j) => j.id === 'build')!
    const cache = build.steps.find((s) => s.id === 'cache')!.outputs
    expect(cache['cache-hit']).toBe('false')
    expect(cache['cache-matched-key']).toMatch(/^wharf-api-[0-9a-f]{40}$/)
    expect(cache['cache-matched-key']).not.toBe(cache['cache-primary-key'])
    expect(build.steps.find((s) => s.uses?.startsWith('actions/cache/save@'))?.outcome).toBe('success')
    expect(filesUnder(pagesDir)).toContain('index/reports/acme/calc/1.2.0/report.json')
    expect(filesUnder(pagesDir)).toContain('index/reports/acme/calc/1.1.0/report.json')
  }, 480_000)

  it('re-run on the same push: uploads nothing and commits nothing', async () => {
    const push = pushes.at(-1)!
    const tip = await main()
    const gh = client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
    const before = await gh.releases.getByTag(repoRef, 'acme.calc@1.2.0')
    const again = await runner.dispatch(push)
    expect(again.map((r) => [r.name, r.conclusion]), log(again, 'release')).toEqual([['release', 'success']])
    const job = again[0]!.jobs.find((j) => j.id === 'release')!
    expect(job.outputs.head).toBe(tip)
    expect(job.summary).toContain('calc.wasm present')
    expect(job.summary).toContain('No report to commit.')
    // The build of the same commit finds its own output in the cache, and saves nothing.
    const build = again[0]!.jobs.find((j) => j.id === 'build')!
    expect(build.steps.find((s) => s.id === 'cache')!.outputs['cache-hit']).toBe('true')
    expect(build.steps.find((s) => s.uses?.startsWith('actions/cache/save@'))?.outcome).toBe('skipped')
    expect(await main()).toBe(tip)
    expect(await released()).toBe(push.payload.after)
    expect(await gh.releases.getByTag(repoRef, 'acme.calc@1.2.0')).toEqual(before)
    expect(ctx.emu.takeDeliveries().filter((d) => d.name === 'push')).toEqual([])
  }, 480_000)

  it('ships, with the next push, the version of a push whose pending run GitHub cancelled', async () => {
    const skipped = await publish('1.3.0', { cancelPush: true })
    expect(skipped.runs.filter((r) => r.name === 'release')).toEqual([])
    const mark = await released()
    expect(mark).not.toBe(pushes.at(-1)!.payload.after)
    const { runs } = await publish('1.4.0')
    const release = runs.filter((r) => r.name === 'release')
    expect(release.map((r) => r.conclusion), log(runs, 'release')).toEqual(['success'])
    const outputs = release[0]!.jobs.find((j) => j.id === 'release')!.steps.find((s) => s.id === 'release')!.outputs
    expect(JSON.parse(outputs.released!)).toEqual(['acme:calc@1.3.0', 'acme:calc@1.4.0'])
    expect(stepLog(release, 'release', 'Releasing the versions')).toContain(`refs/wharf/released is at ${mark!.slice(0, 12)}, before this push`)
    const gh = client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
    for (const version of ['1.3.0', '1.4.0']) expect((await gh.releases.getByTag(repoRef, `acme.calc@${version}`))?.assets.map((a) => a.name)).toEqual(['calc.wasm'])
    expect(JSON.parse(outputs.reports!).sort()).toEqual(['index/reports/acme/calc/1.3.0/report.json', 'index/reports/acme/calc/1.4.0/report.json'])
    expect(await released()).toBe(pushes.at(-1)!.payload.after)
  }, 480_000)

  it('ships and deploys, with a warning, when branch protection refuses the report commit', async () => {
    const repo = ctx.emu.requireRepo(REPO)
    repo.protectedBranches.add('main')
    try {
      const { runs } = await publish('1.5.0')
      const release = runs.filter((r) => r.name === 'release')
      expect(release.map((r) => r.conclusion), log(runs, 'release')).toEqual(['success'])
      expect(release[0]!.jobs.map((j) => [j.id, j.conclusion])).toEqual([
        ['release', 'success'],
        ['build', 'success'],
        ['deploy', 'success'],
      ])
      const job = release[0]!.jobs.find((j) => j.id === 'release')!
      expect(job.annotations).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringMatching(/^main of wharf\/index refused the report commit: .*Protected branch update failed for refs\/heads\/main\..*Fix: let the release job's token push to main/s) }))
      expect(job.summary).toContain('Reports not committed:')
      expect(job.summary).toMatch(/not committed \(\\?#\d+, run \d+\)/)
      expect((await client(ctx.emu, ctx.emu.mintToken({ user: 'admin' })).releases.getByTag(repoRef, 'acme.calc@1.5.0'))?.assets.map((a) => a.name)).toEqual(['calc.wasm'])
      expect(filesUnder(pagesDir).filter((f) => f.startsWith('packages/acme:calc@1.5.0'))).toEqual(['packages/acme:calc@1.5.0.html'])
      expect(await main()).toBe(pushes.at(-1)!.payload.after)
    } finally {
      repo.protectedBranches.delete('main')
    }
  }, 480_000)

  it('does not start on a push that only touches index/reports/', async () => {
    const work = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    fs.mkdirSync(path.join(work, 'index/reports/acme/calc/1.2.0'), { recursive: true })
    fs.writeFileSync(path.join(work, 'index/reports/acme/calc/1.2.0/note.json'), '{}\n')
    await git(work, 'add', '-A')
    await git(work, 'commit', '--quiet', '-m', 'A maintainer adds a note to a report')
    await git(work, 'push', '--quiet', 'origin', 'main')
    const runs = await drain()
    expect(pushes.at(-1)!.payload.after).toBe((await git(work, 'rev-parse', 'HEAD')).trim())
    expect(runs.map((r) => r.name)).toEqual([])
  }, 120_000)
})
