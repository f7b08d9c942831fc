/**
 * Malformed trees (issue 9, class 3): tree objects written by hand, which
 * git itself never writes, must be refused by check and audit, and by
 * `git fsck --strict` alike.
 */
import { execFileSync } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { runCheck } from '../../src/check/index.js'
import { MAIN, readCommitInfo, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'

interface Entry {
  mode: string
  name: Buffer
  oid: string
}

let idx: TestIndex
let honest: string

const git = (args: string[], input?: Buffer) => execFileSync('git', ['-C', idx.dir, ...args], { input, maxBuffer: 1 << 26 })

function readTree(oid: string): Entry[] {
  const data = git(['cat-file', 'tree', oid])
  const out: Entry[] = []
  for (let pos = 0; pos < data.length; ) {
    const space = data.indexOf(0x20, pos)
    const nul = data.indexOf(0, space)
    out.push({ mode: data.toString('latin1', pos, space), name: data.subarray(space + 1, nul), oid: data.toString('hex', nul + 1, nul + 21) })
    pos = nul + 21
  }
  return out
}

/** Writes the entries as one tree object, in the order given, without any of git's checks. */
function writeTree(entries: Entry[]): string {
  const bytes = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} `), e.name, Buffer.from([0]), Buffer.from(e.oid, 'hex')]))
  return git(['hash-object', '-t', 'tree', '-w', '--literally', '--stdin'], bytes).toString().trim()
}

/** `root` with the tree at `dir` (a path of directories) replaced by `edit` of its entries. */
function editTree(root: string, dir: string[], edit: (entries: Entry[]) => Entry[]): string {
  const entries = readTree(root)
  if (dir.length === 0) return writeTree(edit(entries))
  return writeTree(entries.map((e) => (e.name.toString() === dir[0] ? { ...e, oid: editTree(e.oid, dir.slice(1), edit) } : e)))
}

/** A commit on main whose tree is main's with `edit` applied at `dir`, on branch `branch`. */
async function submitTree(branch: string, dir: string[], edit: (entries: Entry[]) => Entry[]): Promise<string> {
  const main = await resolveCommit(idx.repo, MAIN)
  const tree = editTree((await readCommitInfo(idx.repo, main)).tree, dir, edit)
  const commit = git(['commit-tree', tree, '-p', main, '-m', 'hand-made tree']).toString().trim()
  await setBranch(idx.repo, branch, commit)
  return commit
}

/** The trees `git fsck --strict` reports (as an error or a warning). */
function fsckTrees(): string[] {
  let output: string
  try {
    output = execFileSync('git', ['-C', idx.dir, 'fsck', '--strict', '--no-dangling', '--no-progress'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const err = e as { stdout: string; stderr: string }
    output = `${err.stdout}${err.stderr}`
  }
  return [...output.matchAll(/(?:error|warning) in tree ([0-9a-f]{40})/g)].map((m) => m[1]!)
}

const DIR = ['index', 'packages', 'acme', 'calc']

beforeAll(async () => {
  idx = await createTestIndex()
  await idx.release({ version: '1.0.0' })
  const proposal = await idx.publish({ version: '1.1.0' })
  honest = proposal.head
})

describe('class 3: malformed trees', () => {
  it('two entries of the same name: one record to git, another to a reader that keeps the last; check, audit and git fsck all refuse it', async () => {
    const record = readTree(subtreeAt(honest, DIR)).find((e) => e.name.toString() === '1.1.0.json')!
    const other = git(['hash-object', '-w', '--stdin'], Buffer.from('{"name":"acme:calc","version":"1.1.0"}')).toString().trim()
    const head = await submitTree('dup', DIR, (entries) => [...entries, record, { ...record, oid: other }])
    const result = await runCheck({ repo: idx.repo, base: MAIN, head, author: { login: 'alice' } })
    expect(result.accepted).toBe(false)
    expect(result.findings.map((f) => [f.rule, f.file])).toEqual([['files/malformed-tree', DIR.join('/')]])
    expect(result.findings[0]!.message).toMatch(/two entries are named "1\.1\.0\.json"/)
    expect(fsckTrees()).toContain(subtreeAt(head, DIR))

    // forced onto main by hand: audit refuses the history
    const main = await resolveCommit(idx.repo, MAIN)
    await setBranch(idx.repo, MAIN, head)
    try {
      const audit = await auditIndex(idx.repo)
      expect(audit.ok).toBe(false)
      expect(audit.violations).toContainEqual({ commit: head, file: DIR.join('/'), message: expect.stringMatching(/malformed: two entries are named/) })
    } finally {
      await setBranch(idx.repo, MAIN, main)
    }
  })

  const blob = () => git(['hash-object', '-w', '--stdin'], Buffer.from('{}')).toString().trim()
  const cases: [string, (entries: Entry[]) => Entry[], RegExp][] = [
    ['unsorted entries', (entries) => [...entries, { mode: '100644', name: Buffer.from('0.9.0.json'), oid: blob() }], /not in git's order/],
    ['an entry named .git', (entries) => [{ mode: '100644', name: Buffer.from('.git'), oid: blob() }, ...entries], /reads as "\.git"/],
    ['.GIT in another case', (entries) => [{ mode: '100644', name: Buffer.from('.GIT'), oid: blob() }, ...entries], /reads as "\.git"/],
    ['git~1, the NTFS short name of .git', (entries) => [...entries, { mode: '100644', name: Buffer.from('git~1'), oid: blob() }], /reads as "\.git"/],
    ['.git with a zero-width joiner HFS+ ignores', (entries) => [{ mode: '100644', name: Buffer.from('.git\u200c'), oid: blob() }, ...entries], /reads as "\.git"/],
    ['a mode git never writes', (entries) => entries.map((e) => ({ ...e, mode: '100664' })), /mode 100664/],
    ['a zero-padded mode', (entries) => entries.map((e) => ({ ...e, mode: `0${e.mode}` })), /zero-padded/],
    ['an empty name', (entries) => [{ mode: '100644', name: Buffer.alloc(0), oid: blob() }, ...entries], /empty name/],
    ['a name holding "/"', (entries) => [...entries, { mode: '100644', name: Buffer.from('x/y.json'), oid: blob() }], /holds a "\/"/],
    ['an entry named ..', (entries) => [{ mode: '040000'.slice(1), name: Buffer.from('..'), oid: readTree(rootTree()).find((e) => e.name.toString() === 'index')!.oid }, ...entries], /named "\.\."/],
  ]
  for (const [label, edit, message] of cases) {
    it(`${label}: check refuses it with files/malformed-tree, and git fsck reports the same tree`, async () => {
      const head = await submitTree(`bad/${label.replace(/\W+/g, '-')}`, DIR, edit)
      const result = await runCheck({ repo: idx.repo, base: MAIN, head, author: { login: 'alice' } })
      expect(result.accepted).toBe(false)
      expect(result.findings.map((f) => f.rule)).toContain('files/malformed-tree')
      expect(result.findings.map((f) => f.message).join('\n')).toMatch(message)
      expect(fsckTrees()).toContain(subtreeAt(head, DIR))
    })
  }

  it('a well-formed tree git wrote passes, and git fsck agrees', async () => {
    const result = await runCheck({ repo: idx.repo, base: MAIN, head: honest, author: { login: 'alice' } })
    expect(result.findings).toEqual([])
    expect(fsckTrees()).not.toContain(subtreeAt(honest, DIR))
    // a writer's own tree: the squash merge writes well-formed trees
    const squash = await writeCommitWith(idx.repo, { parents: [await resolveCommit(idx.repo, MAIN)], files: [{ path: 'index/packages/acme/calc/9.9.9.json', content: '{}' }], message: 'x', author: { login: 'alice' } })
    expect(fsckTrees()).not.toContain(subtreeAt(squash, DIR))
  })
})

function rootTree(): string {
  return git(['rev-parse', `${MAIN}^{tree}`]).toString().trim()
}

function subtreeAt(commit: string, dir: string[]): string {
  return git(['rev-parse', `${commit}:${dir.join('/')}`]).toString().trim()
}
