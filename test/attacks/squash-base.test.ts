/**
 * Where a proposal branched off main, found by walks whose cost follows the
 * proposal, not main's length, and never trusts commit times: a proposal
 * commit dated 1970 on a main dated 2030 once sent the walk down all of
 * main's history (75 s at a million versions). Answers agree with
 * `git merge-base`; an old commit of main below the fork is deleted, so a
 * walk that reads it fails.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { openRepo, squashBase, type Repo } from '../../src/git/index.js'
import { tempDir } from '../helpers/index-repo.js'

const MAIN_COMMITS = 200
/** 1973: long before main's commits, as a submitter may date a commit. */
const LONG_AGO = 100_000_000

let dir: string
let repo: Repo
let main: string[]
let emptyTree: string

const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim()

/** A commit of an empty tree with `parents`, made at `date` (unix seconds). */
function commit(parents: string[], message: string, date: number): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x', GIT_AUTHOR_DATE: `${date} +0000`, GIT_COMMITTER_DATE: `${date} +0000` }
  return execFileSync('git', ['commit-tree', emptyTree, ...parents.flatMap((p) => ['-p', p]), '-m', message], { cwd: dir, env, encoding: 'utf8' }).trim()
}

const mergeBaseByGit = (a: string, b: string) => {
  try {
    return git('merge-base', a, b)
  } catch {
    return undefined
  }
}

const YEAR_2030 = 1_893_456_000

beforeAll(async () => {
  dir = await tempDir('wharf-squash-base-')
  git('init', '--quiet', '--initial-branch=main')
  emptyTree = execFileSync('git', ['mktree'], { cwd: dir, input: '', encoding: 'utf8' }).trim()
  main = []
  for (let i = 0; i < MAIN_COMMITS; i++) main.push(commit(main.slice(-1), `main ${i}`, YEAR_2030 + i * 60))
  git('update-ref', 'refs/heads/main', main[MAIN_COMMITS - 1]!)
  repo = openRepo(dir)
})

/** Deletes the loose object of main's commit `i`, so a walk that reads it fails. */
function cutMainAt(i: number): void {
  fs.rmSync(path.join(dir, '.git/objects', main[i]!.slice(0, 2), main[i]!.slice(2)))
}

describe('squashBase', () => {
  it('agrees with git merge-base for proposals branched off anywhere, merged with main, or with no shared history', async () => {
    const tip = main[MAIN_COMMITS - 1]!
    const cases: Record<string, string> = {}
    for (const at of [MAIN_COMMITS - 1, MAIN_COMMITS - 2, MAIN_COMMITS - 70, 10, 0]) {
      let head = main[at]!
      for (let k = 0; k < 3; k++) head = commit([head], `own ${at}.${k}`, LONG_AGO)
      cases[`branched off at ${at}`] = head
    }
    // Branched off early, then merged main's newer commit in: the newer one is where it stands.
    const early = commit([main[20]!], 'own early', LONG_AGO)
    cases['merged main in later'] = commit([early, main[MAIN_COMMITS - 5]!], 'merge main', LONG_AGO)
    cases['shares no history'] = commit([], 'a root of its own', LONG_AGO)
    for (const [name, head] of Object.entries(cases)) expect(await squashBase(repo, tip, head), name).toBe(mergeBaseByGit(tip, head))
  })

  it('takes git`s general walk when main holds merge commits', async () => {
    const side = commit([main[40]!], 'side', YEAR_2030 + 40 * 60 + 1)
    const merged = commit([main[MAIN_COMMITS - 1]!, side], 'a merge on main', YEAR_2030 + MAIN_COMMITS * 60)
    const head = commit([side], 'on the side branch', LONG_AGO)
    expect(await squashBase(repo, merged, head)).toBe(side)
    expect(mergeBaseByGit(merged, head)).toBe(side)
  })

  it('reads none of main below the fork for a back-dated proposal, and refuses one that branched off too far back', async () => {
    const tip = main[MAIN_COMMITS - 1]!
    let head = main[MAIN_COMMITS - 3]!
    for (let k = 0; k < 5; k++) head = commit([head], `back-dated ${k}`, LONG_AGO)
    expect(mergeBaseByGit(tip, head)).toBe(main[MAIN_COMMITS - 3])
    cutMainAt(60)
    // A fresh reader, which holds none of the commits the tests above read.
    const fresh = openRepo(dir)
    expect(await squashBase(fresh, tip, head)).toBe(main[MAIN_COMMITS - 3])

    const old = commit([main[150]!], 'branched off long ago', LONG_AGO)
    expect(await squashBase(fresh, tip, old)).toBe(main[150])
    // 49 commits behind, with room for 20: refused before the walk reaches the deleted commit.
    await expect(squashBase(fresh, tip, old, 20)).rejects.toMatchObject({ code: 'CONFLICT', hint: expect.stringMatching(/rebase it onto main/) })
  })
})
