/**
 * Attacks on what lands on main (issue 9, classes 1 and 2): a proposal that
 * rewrites published files and reverts them on the way, and a merge commit
 * whose first parent is a forged chain. merge must land one judged commit on
 * main's own tip; audit must catch a history that breaks that.
 */
import fs from 'node:fs'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { runCheck } from '../../src/check/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { recordPath, REGISTRY_PATH } from '../../src/core/layout.js'
import { readSubmitterTrailer } from '../../src/core/submitter.js'
import { firstParentHistory, MAIN, readCommitInfo, readFileAt, readMainLog, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { mergeProposal } from '../../src/publish/index.js'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

const alice = { login: 'alice' }
let idx: TestIndex

beforeEach(async () => {
  idx = await createTestIndex()
  await idx.release({ version: '1.0.0' })
})

const text = async (commit: string, file: string) => Buffer.from((await readFileAt(idx.repo, commit, file))!).toString('utf8')

/** Commits `files` on top of `parent` as a submitter would, with any author name. */
const commitOn = (parent: string, files: Parameters<TestIndex['submit']>[0], message = 'step', login = 'alice') =>
  writeCommitWith(idx.repo, { parents: [parent], files, message, author: { login } })

describe('class 1: every commit that lands is judged', () => {
  it('a proposal that edits a published record, registry.json and a file outside index/ and reverts them lands as one honest commit', async () => {
    const main = await resolveCommit(idx.repo, MAIN)
    const file = recordPath('acme:calc', '1.0.0')
    const record = await text(main, file)
    const registry = await text(main, REGISTRY_PATH)
    const evil = await commitOn(main, [
      { path: file, content: stableJson({ ...JSON.parse(record), description: 'rewritten' }) },
      { path: REGISTRY_PATH, content: stableJson({ ...JSON.parse(registry), maintainers: [{ login: 'alice' }] }) },
      { path: 'README.md', content: 'owned\n' },
    ])
    const reverted = await commitOn(evil, [
      { path: file, content: record },
      { path: REGISTRY_PATH, content: registry },
      { path: 'README.md', content: null },
    ])
    const honest = await idx.publish({ version: '1.1.0' })
    // the honest record, rebuilt on top of the reverting chain
    const head = await commitOn(reverted, [{ path: recordPath('acme:calc', '1.1.0'), content: await text(honest.head, recordPath('acme:calc', '1.1.0')) }])
    await setBranch(idx.repo, 'sneaky', head)

    const check = await runCheck({ repo: idx.repo, base: MAIN, head: 'sneaky', author: alice })
    expect(check.findings).toEqual([])
    expect(check.changes.map((c) => c.path)).toEqual([recordPath('acme:calc', '1.1.0')])

    const merged = await mergeProposal(idx.repo, { branch: 'sneaky', author: alice })
    expect(merged.merged).toBe(true)
    const tip = await readCommitInfo(idx.repo, merged.commit!)
    // one new commit on main's tip, not the proposal's chain
    expect(tip.parents).toEqual([main])
    expect(merged.commit).not.toBe(head)
    const history = (await firstParentHistory(idx.repo, MAIN)).map((c) => c.oid)
    for (const step of [evil, reverted, head]) expect(history).not.toContain(step)
    expect(readSubmitterTrailer(tip.message)).toEqual({ login: 'alice', teams: [] })
    const audit = await auditIndex(idx.repo)
    expect(audit.violations).toEqual([])
    expect(audit.ok).toBe(true)
  })

  it('a proposal off an old main is squashed against the merge base; a path changed on both sides is refused', async () => {
    const old = await resolveCommit(idx.repo, MAIN)
    const late = await idx.publish({ version: '1.2.0' })
    await idx.release({ version: '1.1.0' })
    const merged = await mergeProposal(idx.repo, { branch: late.branch, author: alice })
    expect(merged.merged).toBe(true)
    expect(merged.check.mergeBase).toBe(old)
    expect((await readCommitInfo(idx.repo, merged.commit!)).parents).toHaveLength(1)

    // both sides add the same record: a conflict, named
    const twinA = await idx.publish({ version: '1.3.0' })
    const base = await resolveCommit(idx.repo, MAIN)
    const twinB = await commitOn(old, [{ path: recordPath('acme:calc', '1.3.0'), content: await text(twinA.head, recordPath('acme:calc', '1.3.0')) }])
    expect((await mergeProposal(idx.repo, { branch: twinA.branch, author: alice })).merged).toBe(true)
    await setBranch(idx.repo, 'twin', twinB)
    const refused = await mergeProposal(idx.repo, { branch: 'twin', author: alice })
    expect(refused.merged).toBe(false)
    expect(refused.check.findings.map((f) => f.rule)).toContain('files/conflict')
    expect(await resolveCommit(idx.repo, MAIN)).not.toBe(base)
    expect((await auditIndex(idx.repo)).ok).toBe(true)
  })
})

describe('class 2: main only moves forward from itself', () => {
  /** The forged merge: first parent a forged commit with main's tree, second parent main. */
  async function forgedMerge(): Promise<{ main: string; forged: string; merge: string }> {
    const main = await resolveCommit(idx.repo, MAIN)
    const { tree } = await readCommitInfo(idx.repo, main)
    // a forged chain from the root: it never published 1.0.0, so its feed would start elsewhere
    const root = (await firstParentHistory(idx.repo, MAIN))[0]!.oid
    const forgedBase = await commitOn(root, [{ path: 'index/namespaces/acme.json', content: await text(main, 'index/namespaces/acme.json') }], 'forged', 'mallory')
    const forged = await writeCommitWith(idx.repo, { parents: [forgedBase], files: [], baseTree: tree, message: 'forged', author: { login: 'mallory' } })
    expect((await readCommitInfo(idx.repo, forged)).tree).toBe(tree)
    const merge = await writeCommitWith(idx.repo, { parents: [forged, main], files: [], baseTree: tree, message: 'Merge', author: { login: 'mallory' } })
    return { main, forged, merge }
  }

  it('merge lands the forged merge as one empty-change commit on main; the forged chain never becomes main', async () => {
    const { main, forged, merge } = await forgedMerge()
    await setBranch(idx.repo, 'forged', merge)
    const check = await runCheck({ repo: idx.repo, base: MAIN, head: 'forged', author: alice })
    expect(check.changes).toEqual([])
    const result = await mergeProposal(idx.repo, { branch: 'forged', author: alice })
    const tip = await resolveCommit(idx.repo, MAIN)
    expect(tip).not.toBe(merge)
    expect((await readCommitInfo(idx.repo, tip)).parents[0]).toBe(main)
    expect((await firstParentHistory(idx.repo, MAIN)).map((c) => c.oid)).not.toContain(forged)
    expect(result.merged).toBe(true)
    expect((await auditIndex(idx.repo)).ok).toBe(true)
  })

  it('audit catches main moved onto the forged chain by hand, through its log of tips and through --expect', async () => {
    const { main, merge } = await forgedMerge()
    expect((await readMainLog(idx.dir)).map((t) => t.oid)).toContain(main)
    await setBranch(idx.repo, MAIN, merge)
    const audit = await auditIndex(idx.repo)
    expect(audit.ok).toBe(false)
    expect(audit.violations).toContainEqual({ commit: merge, file: '(history)', message: expect.stringMatching(/no longer on its first-parent history: the history was rewritten/) })

    // a clone without .wharf/main-tips: the commit a published snapshot names is the anchor
    fs.rmSync(path.join(idx.dir, '.wharf', 'main-tips'))
    expect((await auditIndex(idx.repo)).ok).toBe(true)
    const expected = await auditIndex(idx.repo, { expect: [main] })
    expect(expected.ok).toBe(false)
    expect(expected.violations[0]!.message).toMatch(/expected commit .* is not on the first-parent history of main/)
    const cli = await wharf(['audit', '--index', idx.dir, '--expect', main])
    expect(cli.code).toBe(1)
    expect(cli.stdout).toMatch(/the history was rewritten/)
  })

  it('build-api --since a commit the rewritten history lost exits 1 and writes nothing', async () => {
    const out = await tempDir('wharf-attack-api-')
    const first = await wharf(['build-api', '--index', idx.dir, '--out', out, '--base-url', 'https://registry.example'])
    expect(first.code, first.stderr).toBe(0)
    const { main, merge } = await forgedMerge()
    await setBranch(idx.repo, MAIN, merge)
    const before = fs.readdirSync(out, { recursive: true }).length
    const refused = await wharf(['build-api', '--index', idx.dir, '--out', out, '--base-url', 'https://registry.example', '--since', main])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/HISTORY_REWRITTEN|not on the first-parent history/)
    expect(fs.readdirSync(out, { recursive: true }).length).toBe(before)
  })
})
