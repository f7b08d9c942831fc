/**
 * The report release commits after a merge, on the emulator: found from the
 * push through the pull request its commit names (which GitHub must confirm
 * it merged as that commit) and that pull request's validate run, read as
 * untrusted data; committed under index/reports/ as the token's commit,
 * never twice and never replacing a report. A forged pull-request number, a
 * report about another artifact and a path outside index/reports/ are refused.
 */
import fs from 'node:fs'
import path from 'node:path'
import { zipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { stableJson } from '../../src/core/canonical.js'
import type { VersionRecord } from '../../src/core/types.js'
import { openRepo } from '../../src/git/index.js'
import { commitReports } from '../../src/publish/index.js'
import { validatedReports, versionReportPath } from '../../src/review/index.js'
import { createIndexFixture, REPO, type IndexFixture } from '../action/fixture.js'
import { matrixReport } from '../site/fixture.js'
import { client, git, pushBranch, useEmulator } from '../github/helpers.js'

const INDEX = { owner: 'wharf', repo: 'index' }
const WORKFLOW = '.github/workflows/validate.yml'

describe('the validated report release commits', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  beforeAll(async () => {
    fx = await createIndexFixture(ctx.emu)
  })
  afterAll(() => fx?.close())

  const admin = () => client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
  const tip = async () => (await admin().git.getRef(INDEX, 'heads/main'))!.sha

  /** A leg's report artifact as validate uploads it: one file at the leg's path, about `sha256`. */
  function legZip(version: string, sha256: string): Buffer {
    const report = { ...matrixReport({ score: 80, speed: null }), subject: { kind: 'artifact', name: 'calc.wasm', version: null, path: 'calc.wasm', sha256 } }
    report.targets = report.targets.filter((t) => t.target === 'wasm32-wasip2')
    return Buffer.from(zipSync({ [`index/reports/acme/calc/${version}/wasm32-wasip2.json`]: new TextEncoder().encode(JSON.stringify(report)) }))
  }

  /** alice's pull request adding acme:calc@version, a successful validate run of its head holding `zip`, squash-merged as merge.yml merges. */
  async function mergedVersion(version: string, zip: (sha256: string) => Buffer) {
    const record = fx.record(version)
    const token = ctx.emu.mintToken({ user: 'alice' })
    const head = await pushBranch(await fx.clone(token), `calc-${version}`, { [record.path]: record.content }, `Add calc-${version}`)
    const pr = await client(ctx.emu, token).pulls.create(INDEX, { title: `Add calc-${version}`, head: `calc-${version}`, base: 'main' })
    const run = ctx.emu.startRun({ repo: REPO, workflowPath: WORKFLOW, workflowName: 'validate', event: 'pull_request', headSha: head, headBranch: `calc-${version}`, actor: 'alice', pullRequests: [pr.number] })
    const sha256 = (JSON.parse(record.content) as VersionRecord).artifacts[0]!.sha256
    await ctx.emu.addArtifact(run, `wharf-report-acme.calc.${version}.wasm32-wasip2`, zip(sha256))
    await ctx.emu.completeRun(run, 'success')
    const before = await tip()
    const after = (await admin().pulls.merge(INDEX, pr.number, { expectedHeadSha: head, method: 'squash', title: `${pr.title} (#${pr.number})` })).sha
    return { number: pr.number, runId: run.id, sha256, before, after }
  }

  async function reportsOf(before: string, after: string) {
    const dir = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    return { dir, found: await validatedReports({ github: admin(), index: INDEX, repo: openRepo(dir), before, after, workflowPath: WORKFLOW }) }
  }

  it('reads the merged pull request’s validated report and commits it once, as the token’s commit', async () => {
    const merged = await mergedVersion('1.1.0', (sha) => legZip('1.1.0', sha))
    const { dir, found } = await reportsOf(merged.before, merged.after)
    expect(found.skipped).toEqual([])
    expect(found.reports.map((r) => [r.package, r.path, r.pullRequest, r.runId])).toEqual([['acme:calc@1.1.0', versionReportPath('acme:calc', '1.1.0'), merged.number, merged.runId]])
    expect(JSON.parse(found.reports[0]!.content)).toMatchObject({ schema: 'wharf:report/v1', subject: { kind: 'artifact', sha256: merged.sha256 } })

    const workflow = ctx.emu.mintToken({ permissions: { contents: 'write' }, repositories: [REPO] })
    const github = client(ctx.emu, workflow)
    const options = { github, index: INDEX, repo: openRepo(dir), remote: 'origin', token: workflow, files: found.reports, message: 'Compatibility report of acme:calc@1.1.0' }
    const first = await commitReports(options)
    expect(first).toMatchObject({ added: ['index/reports/acme/calc/1.1.0/report.json'], present: [] })
    expect(first.commit).toBe(await tip())
    const work = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    expect((await git(work, 'log', '-1', '--format=%an|%P', 'HEAD')).trim()).toBe(`github-actions[bot]|${merged.after}`)
    expect((await git(work, 'show', '--name-status', '--format=', 'HEAD')).trim()).toBe('A\tindex/reports/acme/calc/1.1.0/report.json')
    // The report commit is the bot's, with no trailer: audit takes an added report from it, as the README says.
    expect((await auditIndex(openRepo(work))).violations.filter((v) => v.commit === first.commit)).toEqual([])
    // But not a change to one: a report, once committed, stays as the registry's CI wrote it.
    fs.writeFileSync(path.join(work, 'index/reports/acme/calc/1.1.0/report.json'), '{"forged":true}\n')
    await git(work, 'commit', '-qam', 'Better report')
    const changed = (await git(work, 'rev-parse', 'HEAD')).trim()
    expect((await auditIndex(openRepo(work))).violations.filter((v) => v.commit === changed)).toEqual([
      { commit: changed, file: 'index/reports/acme/calc/1.1.0/report.json', message: expect.stringMatching(/a commit without a Wharf-Submitter trailer changed .*which only a maintainer may change/) },
    ])

    // Again, and with other bytes for the same path: nothing is committed and nothing replaced.
    const again = await commitReports(options)
    expect(again).toMatchObject({ commit: undefined, head: first.commit, added: [], present: ['index/reports/acme/calc/1.1.0/report.json'] })
    const other = await commitReports({ ...options, files: [{ path: found.reports[0]!.path, content: stableJson({ forged: true }) }] })
    expect(other.commit).toBeUndefined()
    expect(await tip()).toBe(first.commit)
  }, 120_000)

  it('refuses a report about another artifact, and says why', async () => {
    const merged = await mergedVersion('1.2.0', () => legZip('1.2.0', 'f'.repeat(64)))
    const { found } = await reportsOf(merged.before, merged.after)
    expect(found.reports).toEqual([])
    expect(found.skipped).toEqual([{ package: 'acme:calc@1.2.0', reason: expect.stringMatching(/refused: .*about sha256 f{64}, not the record's artifact/) }])
  }, 120_000)

  it('does not take a commit message’s word: a direct push naming a merged pull request gets no report', async () => {
    const record = fx.record('1.3.0')
    const work = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    const before = (await git(work, 'rev-parse', 'HEAD')).trim()
    await pushBranch(work, 'main', { [record.path]: record.content }, 'Add calc-1.1.0 (#1)')
    const after = (await git(work, 'rev-parse', 'HEAD')).trim()
    const { found } = await reportsOf(before, after)
    expect(found.reports).toEqual([])
    expect(found.skipped).toEqual([{ package: 'acme:calc@1.3.0', reason: expect.stringMatching(/names #1, which GitHub does not record as merged by it/) }])
  }, 120_000)

  it('commits nothing outside index/reports/', async () => {
    const workflow = ctx.emu.mintToken({ permissions: { contents: 'write' }, repositories: [REPO] })
    const dir = await fx.clone(workflow)
    const before = await tip()
    for (const path of ['index/packages/acme/calc/9.9.9.json', 'index/reports/../namespaces/acme.json', '.github/workflows/x.yml']) {
      await expect(commitReports({ github: client(ctx.emu, workflow), index: INDEX, repo: openRepo(dir), remote: 'origin', token: workflow, files: [{ path, content: '{}' }], message: 'x' })).rejects.toThrow(/is not a path under index\/reports\//)
    }
    expect(await tip()).toBe(before)
  }, 60_000)
})
