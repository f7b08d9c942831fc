/**
 * The index repo's own workflows (validate.yml, merge.yml), run file by file
 * by the runner on the emulator, with the committed Action (`uses: ./`):
 * each scenario of the pull-request gate, from the pull request opening to
 * the merge or the refusal.
 */
import fs from 'node:fs'
import path from 'node:path'
import { zipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stableJson } from '../../src/core/canonical.js'
import { generateKey } from '../../src/core/keys.js'
import { namespacePath } from '../../src/core/layout.js'
import { namespaceFile } from '../../src/core/records.js'
import { component } from '../helpers/wasm.js'
import { createRunner, type Runner, type WorkflowRunResult } from '../github/runner/runner.js'
import { client, git, pushBranch, rest, useEmulator } from '../github/helpers.js'
import { createIndexFixture, REPO, type IndexFixture } from './fixture.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const WORKFLOWS = ['validate.yml', 'merge.yml']
const repoRef = { owner: 'wharf', repo: 'index' }
/** The index's workflow files as this repo ships them. */
const workflowFiles = () => Object.fromEntries(WORKFLOWS.map((w) => [`.github/workflows/${w}`, fs.readFileSync(path.join(ROOT, '.github/workflows', w), 'utf8')]))

describe('the index workflows on the emulator', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  let runner: Runner
  let clock = Date.parse('2026-11-30T12:00:00Z')
  beforeAll(async () => {
    ctx.emu.now = () => new Date(clock)
    fx = await createIndexFixture(ctx.emu, {
      files: workflowFiles(),
      withAction: true,
      policy(registry) {
        registry.policy.namespaces.waiting_period_hours = 72
        registry.policy.quality_gates = { max_artifact_bytes: 64 }
      },
    })
    runner = createRunner({ emulator: ctx.emu, repo: REPO, baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', WHARF_PACE_WRITES: 'false' } })
  })
  afterAll(() => fx?.close())

  /** Opens a pull request from `login` adding `files`; returns its number (events not yet dispatched). */
  async function openPull(login: string, branch: string, files: Record<string, string>): Promise<number> {
    const token = ctx.emu.mintToken({ user: login })
    const work = await fx.clone(token)
    await pushBranch(work, branch, files, `Add ${branch}`)
    return (await client(ctx.emu, token).pulls.create(repoRef, { title: `Add ${branch}`, head: branch, base: 'main' })).number
  }

  const bot = () => client(ctx.emu, ctx.emu.mintToken({ permissions: { contents: 'read', 'pull-requests': 'read', issues: 'read' } }))
  const pull = (n: number) => bot().pulls.get(repoRef, n)
  const comment = async (n: number) => (await bot().issues.listComments(repoRef, n)).find((c) => c.body.includes('wharf-merge') || c.body.includes('## wharf:'))?.body ?? ''
  const byName = (runs: WorkflowRunResult[], name: string) => runs.filter((r) => r.name === name)
  const adminToken = () => ctx.emu.mintToken({ user: 'admin' })

  it('validates, comments on and merges an honest pull request, with the submitter trailer', async () => {
    const record = fx.record('1.1.0')
    const n = await openPull('alice', 'calc-1.1.0', { [record.path]: record.content })
    const runs = await runner.drain()
    const [validate] = byName(runs, 'validate')
    expect(validate?.conclusion, JSON.stringify(validate?.jobs.map((j) => [j.name, j.conclusion, j.log.slice(-800)]))).toBe('success')
    // One leg: a component is tested on the one target its bytes decide.
    expect(validate!.jobs.filter((j) => j.id === 'test').map((j) => (j.matrix?.leg as { key: string }).key)).toEqual(['acme.calc.1.1.0.wasm32-wasip2'])
    const merge = byName(runs, 'merge')[0]!
    expect(merge.conclusion, merge.jobs[0]?.log.slice(-2000)).toBe('success')
    const pr = await pull(n)
    expect(pr.merged).toBe(true)
    expect(pr.labels).toContain('wharf: merged')
    expect(await comment(n)).toContain('✅ Merged')
    const main = await fx.clone(ctx.emu.mintToken({ user: 'alice' }))
    const message = await git(main, 'log', '-1', '--format=%B', 'origin/main')
    expect(message).toMatch(new RegExp(`\\nWharf-Submitter: alice \\(${ctx.emu.requireAccount('alice').id}\\)\\n`))
  }, 240_000)

  it("fails validate on a non-owner's pull request with an annotation naming the rule and the fix, and does not merge it", async () => {
    const record = fx.record('1.2.0')
    const n = await openPull('mallory', 'calc-1.2.0', { [record.path]: record.content })
    const runs = await runner.drain()
    const validate = byName(runs, 'validate')[0]!
    expect(validate.conclusion).toBe('failure')
    const check = validate.jobs.find((j) => j.id === 'check')!
    expect(check.annotations).toContainEqual(expect.objectContaining({ level: 'error', title: 'namespace/not-owner', file: record.path }))
    expect(check.summary).toContain('<code>namespace/not-owner</code>')
    expect(check.summary).toContain("submit from an owner's account")
    expect(validate.jobs.find((j) => j.id === 'test')?.conclusion ?? 'skipped').toBe('skipped')
    expect((await pull(n)).merged).toBe(false)
    expect(await comment(n)).toContain('not-owner')
  }, 240_000)

  it('never merges a pull request that also touches .github/', async () => {
    const record = fx.record('1.3.0')
    const n = await openPull('alice', 'calc-1.3.0', { [record.path]: record.content, '.github/workflows/extra.yml': 'name: extra\non: workflow_dispatch\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    permissions: {}\n    steps:\n      - run: echo\n' })
    const runs = await runner.drain()
    expect(byName(runs, 'merge')).toHaveLength(1)
    const pr = await pull(n)
    expect(pr.merged).toBe(false)
    expect(pr.labels).toContain('wharf: needs maintainer')
    expect(await comment(n)).toMatch(/\.github\/workflows\/extra\.yml outside index\/, which is never merged automatically/)
  }, 240_000)

  it('merges a new namespace only by the scheduled run after its waiting period, and a blocking label stops it', async () => {
    const key = generateKey()
    const claim = namespaceFile('zeta', [{ login: 'alice', id: ctx.emu.requireAccount('alice').id }], { id: key.id, publicKey: key.publicKey }, ctx.emu.now())
    const n = await openPull('alice', 'claim-zeta', { [namespacePath('zeta')]: stableJson(claim) })
    await runner.drain()
    expect((await pull(n)).merged).toBe(false)
    expect((await pull(n)).labels).toContain('wharf: waiting period')
    expect(await comment(n)).toMatch(/waiting period/)

    clock += 71 * 3_600_000
    await runner.schedule()
    expect((await pull(n)).merged, 'merged before its waiting period passed').toBe(false)

    clock += 2 * 3_600_000
    expect((await rest(ctx.emu, adminToken(), 'POST', `/repos/${REPO}/issues/${n}/labels`, { labels: ['wharf: blocked'] })).status).toBe(200)
    await runner.schedule()
    const blocked = await pull(n)
    expect(blocked.merged).toBe(false)
    expect(blocked.labels).toContain('wharf: blocked by maintainer')
    expect(await comment(n)).toMatch(/the label wharf: blocked stops automatic merging/)

    expect((await rest(ctx.emu, adminToken(), 'DELETE', `/repos/${REPO}/issues/${n}/labels/${encodeURIComponent('wharf: blocked')}`)).status).toBe(200)
    const scheduled = await runner.schedule()
    expect(scheduled.map((r) => r.name)).toEqual(['merge'])
    expect((await pull(n)).merged).toBe(true)
  }, 360_000)

  it('judges again, and does not merge, a pull request whose test merge is of an older main', async () => {
    const record = fx.record('1.5.0')
    const n = await openPull('alice', 'calc-1.5.0', { [record.path]: record.content })
    expect((await rest(ctx.emu, adminToken(), 'POST', `/repos/${REPO}/issues/${n}/labels`, { labels: ['wharf: blocked'] })).status).toBe(200)
    await runner.drain()
    expect((await pull(n)).merged).toBe(false)
    // main moves; GitHub recomputes a pull request's test merge some time after: until then, the one of the old main stands.
    const dir = ctx.emu.requireRepo(REPO).dir
    const stale = (await git(dir, 'rev-parse', `refs/pull/${n}/merge`)).trim()
    const oldMain = (await git(dir, 'rev-parse', 'refs/heads/main')).trim()
    await pushBranch(await fx.clone(adminToken()), 'main', { 'NOTES.md': 'main moved\n' }, 'Move main')
    await git(dir, 'update-ref', `refs/pull/${n}/merge`, stale)
    expect((await rest(ctx.emu, adminToken(), 'DELETE', `/repos/${REPO}/issues/${n}/labels/${encodeURIComponent('wharf: blocked')}`)).status).toBe(200)
    await runner.schedule()
    expect((await pull(n)).merged).toBe(false)
    expect(await comment(n)).toMatch(new RegExp(`main moved to [0-9a-f]{12} after it was judged against ${oldMain.slice(0, 12)}; the next run judges it against the new main`))
    // Once the test merge is of the new main, the next run merges it.
    await ctx.emu.refreshTestMerge(ctx.emu.requireRepo(REPO).pulls.get(n)!)
    await runner.schedule()
    expect((await pull(n)).merged).toBe(true)
  }, 360_000)

  it('says a pull request is merged when what follows the merge fails, and fails the run for it', async () => {
    const record = fx.record('1.6.0')
    const n = await openPull('alice', 'calc-1.6.0', { [record.path]: record.content })
    // GitHub's rate limit runs out the moment main moves: the comment and the label that follow the merge are refused.
    const emu = ctx.emu
    const refsChanged = emu.refsChanged.bind(emu)
    emu.refsChanged = async (repo, updates, token) => {
      await refsChanged(repo, updates, token)
      if (updates.some((u) => u.ref === 'refs/heads/main')) emu.limitNext(10, 'primary', 3600)
    }
    let runs: WorkflowRunResult[]
    try {
      runs = await runner.drain()
    } finally {
      emu.refsChanged = refsChanged
      emu.limitNext(0, 'primary')
    }
    const merge = byName(runs, 'merge')[0]!
    expect((await pull(n)).merged).toBe(true)
    expect(merge.conclusion).toBe('failure')
    expect(merge.jobs[0]!.summary).toMatch(new RegExp(`\\| #${n} \\| merged \\| squash-merged as [0-9a-f]{12} reporting it on the pull request failed: .*rate limit`))
  }, 240_000)

  it('stops an unmet quality gate, naming its measured value, and merges once a maintainer waives it', async () => {
    const record = fx.record('2.0.0', 'calc', component('x'.repeat(80)))
    const n = await openPull('alice', 'calc-2.0.0', { [record.path]: record.content })
    await runner.drain()
    let pr = await pull(n)
    expect(pr.merged).toBe(false)
    expect(pr.labels).toContain('wharf: quality gates unmet')
    const body = await comment(n)
    expect(body).toMatch(/<code>max\\_artifact\\_bytes<\/code> \| artifact at most 64 bytes \| \d{2,3} bytes \| ❌ unmet/)
    expect(body).toContain('wharf: waive max-artifact-bytes')

    expect((await rest(ctx.emu, adminToken(), 'POST', `/repos/${REPO}/issues/${n}/labels`, { labels: ['wharf: waive max-artifact-bytes'] })).status).toBe(200)
    await runner.schedule()
    pr = await pull(n)
    expect(pr.merged).toBe(true)
    expect(await comment(n)).toMatch(/waived by <code>wharf: waive max-artifact-bytes<\/code>/)
  }, 360_000)

  it('refuses a report artifact that is schema-invalid, oversized or names a path outside index/reports/', async () => {
    const record = fx.record('3.0.0')
    const n = await openPull('alice', 'calc-3.0.0', { [record.path]: record.content })
    ctx.emu.takeDeliveries() // the pull request's own validate run is replaced by forged ones
    const head = (await pull(n)).head.sha
    const reportPath = 'index/reports/acme/calc/3.0.0/wasm32-wasip2.json'
    const forged: Array<[string, Record<string, Uint8Array>, RegExp]> = [
      ['schema-invalid', { [reportPath]: new TextEncoder().encode('{"schema":"wharf:report/v1","subject":{}}') }, /does not match the report schema/],
      ['oversized', { [reportPath]: new Uint8Array(5 * 1024 * 1024).fill(32) }, /over the \d+-byte limit/],
      ['outside index/reports/', { [reportPath]: new TextEncoder().encode('{}'), 'index/namespaces/acme.json': new TextEncoder().encode('{}') }, /names &quot;index\/namespaces\/acme\.json&quot;, outside index\/reports\//],
    ]
    for (const [what, entries, refusal] of forged) {
      const run = ctx.emu.startRun({ repo: REPO, workflowPath: '.github/workflows/validate.yml', workflowName: 'validate', event: 'pull_request', headSha: head, headBranch: 'calc-3.0.0', actor: 'alice', pullRequests: [n] })
      await ctx.emu.addArtifact(run, 'wharf-report-acme.calc.3.0.0.wasm32-wasip2', Buffer.from(zipSync(entries, { level: 9 })))
      await ctx.emu.completeRun(run, 'success')
      const runs = await runner.drain()
      expect(byName(runs, 'merge'), what).toHaveLength(1)
      expect((await pull(n)).merged, what).toBe(false)
      expect(await comment(n), what).toMatch(refusal)
    }
  }, 360_000)
})

describe('a namespace owned through a team, on the emulator', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  let runner: Runner
  beforeAll(async () => {
    ctx.emu.createUser('bob')
    ctx.emu.createUser('eve')
    ctx.emu.createOrg('wharf')
    ctx.emu.createTeam('wharf', 'devs', ['bob'])
    fx = await createIndexFixture(ctx.emu, { files: workflowFiles(), withAction: true, owners: (emu) => [{ login: 'alice', id: emu.requireAccount('alice').id }, { team: '@wharf/devs' }] })
    for (const login of ['bob', 'eve']) ctx.emu.requireRepo(REPO).collaborators.set(login, 'write')
    // validate holds no secret and may not read teams; merge reads them with WHARF_TEAM_TOKEN, an app's token with members: read.
    const teamToken = ctx.emu.mintToken({ permissions: { members: 'read' } })
    runner = createRunner({ emulator: ctx.emu, repo: REPO, secrets: { WHARF_TEAM_TOKEN: teamToken }, baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', WHARF_PACE_WRITES: 'false' } })
  })
  afterAll(() => fx?.close())

  async function submit(login: string, version: string): Promise<{ number: number; runs: WorkflowRunResult[] }> {
    const token = ctx.emu.mintToken({ user: login })
    const record = fx.record(version)
    await pushBranch(await fx.clone(token), `calc-${version}`, { [record.path]: record.content }, `Add ${version}`)
    const number = (await client(ctx.emu, token).pulls.create(repoRef, { title: `Add calc ${version}`, head: `calc-${version}`, base: 'main' })).number
    return { number, runs: await runner.drain() }
  }
  const reader = () => client(ctx.emu, ctx.emu.mintToken({ permissions: { contents: 'read', 'pull-requests': 'read', issues: 'read' } }))

  it("leaves a team owner's membership to merge, which confirms it and merges with the team in the trailer", async () => {
    const { number, runs } = await submit('bob', '1.1.0')
    const validate = runs.find((r) => r.name === 'validate')!
    expect(validate.conclusion, validate.jobs.map((j) => j.log.slice(-600)).join('\n')).toBe('success')
    expect(validate.jobs.find((j) => j.id === 'check')!.summary).toMatch(/<code>bob<\/code> is counted an owner through <code>@\u200bwharf\/devs<\/code> here without confirmation/)
    const merge = runs.find((r) => r.name === 'merge')!
    expect(merge.conclusion, merge.jobs[0]?.log.slice(-2000)).toBe('success')
    expect((await reader().pulls.get(repoRef, number)).merged).toBe(true)
    const message = await git(await fx.clone(ctx.emu.mintToken({ user: 'alice' })), 'log', '-1', '--format=%B', 'origin/main')
    expect(message).toMatch(/\nWharf-Submitter: bob \(\d+\)\nWharf-Submitter-Team: @wharf\/devs\n/)
  }, 240_000)

  it('merges nothing for someone outside the team: merge reads the team and refuses', async () => {
    const { number, runs } = await submit('eve', '1.2.0')
    expect(runs.find((r) => r.name === 'validate')!.conclusion).toBe('success')
    const pr = await reader().pulls.get(repoRef, number)
    expect(pr.merged).toBe(false)
    expect(pr.labels).toContain('wharf: rejected')
    const comments = await reader().issues.listComments(repoRef, number)
    expect(comments.map((c) => c.body).join('\n')).toMatch(/eve is not an owner of namespace &quot;acme&quot;/)
  }, 240_000)
})
