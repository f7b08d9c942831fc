/**
 * What a proposal would land on main: its own changes, counted from where it
 * branched off, applied to main's tip as one new commit (a squash). The
 * proposal's commits themselves never reach main, so whatever they did on
 * the way (an edit reverted later, a forged parent) is not main's history.
 */
import { diffCommits, type Change } from './diff.js'
import { WharfError } from '../core/errors.js'
import { mergeBase, readCommitInfo, type Repo } from './repo.js'

export interface SquashPlan {
  /** Where the proposal branched off `base`; undefined when they share no history. */
  mergeBase: string | undefined
  /** The proposal's own changes (merge base to head), sorted by path: what lands on `base`. */
  changes: Change[]
  /** Paths both the proposal and `base` changed since the merge base: the proposal must be made again on `base`. */
  conflicts: string[]
}

/** How far back along main a proposal may branch off before it must be made again on main's tip. */
export const MAX_BEHIND = 50_000

/**
 * Where `head` branched off `base` (base itself when head is built on it).
 *
 * Main's history is a line of squash commits, so the answer is the newest
 * commit of base's first-parent chain that head reaches. Both walks grow in
 * rounds that double: base's chain to a depth, and head's ancestry up to
 * the chain commits that depth holds. The cost follows the proposal (its own
 * commits and how far back it branched off), never the length of main's
 * history, and never the commit times, which whoever makes a commit sets
 * (a walk newest-first by time goes down all of main for a back-dated
 * commit). A main with merge commits gets git's general walk instead.
 */
export async function squashBase(repo: Repo, base: string, head: string, maxBehind = MAX_BEHIND): Promise<string | undefined> {
  if (base === head) return base
  const chain: string[] = []
  const position = new Map<string, number>()
  let next: string | undefined = base
  for (let depth = 64; ; depth *= 2) {
    while (next !== undefined && chain.length < Math.min(depth, maxBehind)) {
      const { parents } = await readCommitInfo(repo, next)
      if (parents.length > 1) return mergeBase(repo, base, head)
      position.set(next, chain.length)
      chain.push(next)
      next = parents[0]
    }
    const budget = Math.min(depth, 4 * maxBehind)
    const entry = await newestEntry(repo, head, position, budget)
    // A finished walk that met the chain has its answer: any newer entry point lies within the depth walked.
    if (entry !== 'unfinished' && (entry !== undefined || next === undefined)) return entry === undefined ? undefined : chain[entry]
    // Past the bound, a walk that met nothing, or one still reading, costs no more.
    if ((next !== undefined && chain.length >= maxBehind && entry === undefined) || budget >= 4 * maxBehind) {
      throw new WharfError('CONFLICT', `${head.slice(0, 12)} branched off more than ${maxBehind} commits behind ${base.slice(0, 12)}, brings more commits of its own than that, or shares no history with it`, {
        hint: 'make the submission again on the current main, as one commit (rebase it onto main and squash it)',
      })
    }
  }
}

/**
 * The smallest chain position among the commits head's ancestry enters the
 * chain by, walking no further than the chain; undefined when it never
 * enters it; 'unfinished' when more than `budget` commits off the chain
 * would need reading.
 */
async function newestEntry(repo: Repo, head: string, position: ReadonlyMap<string, number>, budget: number): Promise<number | undefined | 'unfinished'> {
  const seen = new Set([head])
  const queue = [head]
  let newest: number | undefined
  let read = 0
  for (let i = 0; i < queue.length; i++) {
    const oid = queue[i]!
    const at = position.get(oid)
    if (at !== undefined) {
      newest = newest === undefined ? at : Math.min(newest, at)
      continue
    }
    if (++read > budget) return 'unfinished'
    for (const parent of (await readCommitInfo(repo, oid)).parents) {
      if (seen.has(parent)) continue
      seen.add(parent)
      queue.push(parent)
    }
  }
  return newest
}

/** The changes `head` brings onto `base`, counted from `from` (their merge base, from squashBase). */
export async function planSquash(repo: Repo, base: string, head: string, from: string | undefined): Promise<SquashPlan> {
  const changes = await diffCommits(repo, from, head)
  if (from === base) return { mergeBase: from, changes, conflicts: [] }
  const moved = new Set((await diffCommits(repo, from, base)).map((c) => c.path))
  return { mergeBase: from, changes, conflicts: changes.filter((c) => moved.has(c.path)).map((c) => c.path) }
}
