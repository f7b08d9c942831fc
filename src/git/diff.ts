/**
 * The one tree diff: what changed between two trees or commits, file by
 * file, with mode and object id on both sides, as `git diff --raw
 * --no-renames` reports it.
 *
 * A subtree whose object id is the same on both sides is skipped, so the
 * cost follows the size of the change and not the size of the index. Two
 * versions of a large directory differ in one or two entries; a diff
 * compares their raw bytes, skips the common head and tail with native
 * compares and parses only the entries in between, so a directory of
 * 10,000 packages costs little more than a directory of ten.
 */
import { WharfError } from '../core/errors.js'
import { isTreeMode, parseTree, type ObjectReader, type RawEntry } from './objects.js'
import { readerFor, type Repo } from './repo.js'

export type ChangeStatus = 'added' | 'modified' | 'deleted'

export interface Change {
  path: string
  status: ChangeStatus
  /** Mode and blob id on the head side (absent for a deletion). */
  mode?: string
  oid?: string
  /** Mode and blob id on the base side (absent for an addition). */
  oldMode?: string
  oldOid?: string
}

/** Byte length of the common start of `a` and `b`, found by halving (few native compares, whatever the size). */
function commonPrefix(a: Buffer, b: Buffer): number {
  let lo = 0
  let hi = Math.min(a.length, b.length)
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (a.compare(b, lo, mid, lo, mid) === 0) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** Byte length of the common end of `a` and `b`, not reaching into the first `floor` bytes of either. */
function commonSuffix(a: Buffer, b: Buffer, floor: number): number {
  let lo = 0
  let hi = Math.min(a.length, b.length) - floor
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (a.compare(b, b.length - mid, b.length - lo, a.length - mid, a.length - lo) === 0) lo = mid
    else hi = mid - 1
  }
  return lo
}

/** Where the entry at `pos` ends: after its name's NUL and its 20-byte id (the end of `data` when it is cut short). */
function entryEnd(data: Buffer, pos: number): number {
  const nul = data.indexOf(0, pos)
  return nul < 0 || nul + 21 > data.length ? data.length : nul + 21
}

/**
 * Where two versions of a tree differ, in whole entries: `a` and `b` hold the
 * same entries, byte for byte, before `start` and from `endA` and `endB` on.
 * `before` is where the last common entry at the start begins (-1 for none).
 */
export interface DifferingRange {
  start: number
  before: number
  endA: number
  endB: number
}

/** The range of entries that differ between two versions of a tree, found with native compares, not by parsing; undefined when none do. */
export function differingRange(a: Buffer, b: Buffer): DifferingRange | undefined {
  const prefix = commonPrefix(a, b)
  if (prefix === a.length && prefix === b.length) return undefined
  let start = 0
  let before = -1
  while (start < a.length) {
    const next = entryEnd(a, start)
    if (next > prefix) break
    before = start
    start = next
  }
  const suffix = commonSuffix(a, b, start)
  const shift = b.length - a.length
  // The first entry of `a` that lies wholly in the common tail, and the offset it would have in `b`.
  let endA = start
  while (endA < a.length && endA < a.length - suffix) endA = entryEnd(a, endA)
  let endB = start
  while (endB < b.length && endB < endA + shift) endB = entryEnd(b, endB)
  // Only when `b` has an entry boundary at the same place in the tail are the tails the same entries.
  if (endB !== endA + shift) return { start, before, endA: a.length, endB: b.length }
  return { start, before, endA, endB }
}

/**
 * The entries that differ between two versions of a tree: the common run of
 * whole entries at the start and at the end is skipped without parsing.
 */
export function differingEntries(a: Buffer, b: Buffer): [RawEntry[], RawEntry[]] {
  const range = differingRange(a, b)
  if (!range) return [[], []]
  return [parseTree(a.subarray(range.start, range.endA)), parseTree(b.subarray(range.start, range.endB))]
}

function collectAll(reader: ObjectReader, tree: string, prefix: string, status: 'added' | 'deleted', out: Change[]): void {
  for (const entry of reader.readTree(tree)) {
    const path = `${prefix}${entry.name}`
    if (isTreeMode(entry.mode)) collectAll(reader, entry.oid, `${path}/`, status, out)
    else out.push(status === 'added' ? { path, status, mode: entry.mode, oid: entry.oid } : { path, status, oldMode: entry.mode, oldOid: entry.oid })
  }
}

const byName = (x: [string, unknown], y: [string, unknown]) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)

/**
 * Appends to `out` the files that differ between trees `a` and `b` (either
 * may be absent: everything is added or deleted), their paths under
 * `prefix`. A file that became a directory (or back) is a deletion plus
 * additions, as in git.
 */
export function diffTrees(reader: ObjectReader, a: string | undefined, b: string | undefined, prefix: string, out: Change[]): void {
  if (a === b) return
  if (!a) return collectAll(reader, b!, prefix, 'added', out)
  if (!b) return collectAll(reader, a, prefix, 'deleted', out)
  const [left, right] = differingEntries(reader.readAs(a, 'tree'), reader.readAs(b, 'tree'))
  const pairs = new Map<string, [RawEntry | undefined, RawEntry | undefined]>()
  for (const e of left) pairs.set(e.name, [e, undefined])
  for (const e of right) pairs.set(e.name, [pairs.get(e.name)?.[0], e])
  for (const [name, [l, r]] of [...pairs].sort(byName)) {
    if (l && r && l.oid === r.oid && l.mode === r.mode) continue
    const path = `${prefix}${name}`
    const lt = l && isTreeMode(l.mode)
    const rt = r && isTreeMode(r.mode)
    if (lt || rt) {
      diffTrees(reader, lt ? l.oid : undefined, rt ? r.oid : undefined, `${path}/`, out)
      if (l && !lt) out.push({ path, status: 'deleted', oldMode: l.mode, oldOid: l.oid })
      if (r && !rt) out.push({ path, status: 'added', mode: r.mode, oid: r.oid })
      continue
    }
    if (!l) out.push({ path, status: 'added', mode: r!.mode, oid: r!.oid })
    else if (!r) out.push({ path, status: 'deleted', oldMode: l.mode, oldOid: l.oid })
    else out.push({ path, status: 'modified', mode: r.mode, oid: r.oid, oldMode: l.mode, oldOid: l.oid })
  }
}

export const byPath = (x: { path: string }, y: { path: string }): number => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0)

/** The tree of commit `oid`. */
export function commitTree(reader: ObjectReader, oid: string): string {
  const data = reader.readAs(oid, 'commit')
  const tree = data.toString('latin1', 0, 45)
  if (!/^tree [0-9a-f]{40}$/.test(tree)) throw new WharfError('IO', `commit ${oid} does not start with its tree`, { hint: 'the repo may be corrupt: run git fsck' })
  return tree.slice(5)
}

/** Changes from `base` to `head` (both full commit ids), sorted by path. `base` undefined means an empty tree. */
export async function diffCommits(repo: Repo, base: string | undefined, head: string): Promise<Change[]> {
  const reader = readerFor(repo)
  const out: Change[] = []
  diffTrees(reader, base ? commitTree(reader, base) : undefined, commitTree(reader, head), '', out)
  return out.sort(byPath)
}
