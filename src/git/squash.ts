/**
 * What a proposal would land on main: its own changes, counted from where it
 * branched off, applied to main's tip as one new commit (a squash). The
 * proposal's commits themselves never reach main, so whatever they did on
 * the way (an edit reverted later, a forged parent) is not main's history.
 */
import { diffCommits, type Change } from './diff.js'
import { mergeBase, type Repo } from './repo.js'

export interface SquashPlan {
  /** Where the proposal branched off `base`; undefined when they share no history. */
  mergeBase: string | undefined
  /** The proposal's own changes (merge base to head), sorted by path: what lands on `base`. */
  changes: Change[]
  /** Paths both the proposal and `base` changed since the merge base: the proposal must be made again on `base`. */
  conflicts: string[]
}

/** Where `head` branched off `base` (base itself when head is built on it). */
export async function squashBase(repo: Repo, base: string, head: string): Promise<string | undefined> {
  return base === head ? base : mergeBase(repo, base, head)
}

/** The changes `head` brings onto `base`, counted from `from` (their merge base, from squashBase). */
export async function planSquash(repo: Repo, base: string, head: string, from: string | undefined): Promise<SquashPlan> {
  const changes = await diffCommits(repo, from, head)
  if (from === base) return { mergeBase: from, changes, conflicts: [] }
  const moved = new Set((await diffCommits(repo, from, base)).map((c) => c.path))
  return { mergeBase: from, changes, conflicts: changes.filter((c) => moved.has(c.path)).map((c) => c.path) }
}
