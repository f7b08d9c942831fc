/**
 * The first-parent history of main as a list of per-commit changes under
 * `index/`: what the change feed numbers and what dates every document.
 *
 * Two neighbouring commits share almost all of their trees, and the trees
 * that differ differ in one or two entries; a diff therefore compares the raw
 * tree bytes, skips the common head and tail with native compares and parses
 * only the entries in between, so a directory of 10,000 packages costs what
 * a directory of ten does.
 */
import { INDEX_DIR } from '../core/layout.js'
import { WharfError } from '../core/errors.js'
import { isTreeMode, parseCommit, parseTree, type CommitData, type ObjectReader, type RawEntry } from '../git/objects.js'

export interface IndexChange {
  path: string
  status: 'added' | 'modified' | 'deleted'
  /** Blob on the new side (absent for a deletion). */
  oid?: string
}

export interface CommitChanges {
  commit: CommitData
  changes: IndexChange[]
}

/**
 * First-parent chain from `head` back to `stop` (excluded), oldest first, or
 * undefined when `stop` is given and is not on that chain. Without `stop` it
 * runs to the root commit, or to the edge of a shallow clone.
 */
export function firstParentChain(reader: ObjectReader, head: string, stop?: string): CommitData[] | undefined {
  const chain: CommitData[] = []
  let oid: string | undefined = head
  while (oid && oid !== stop) {
    const commit = parseCommit(oid, reader.readAs(oid, 'commit'))
    chain.push(commit)
    oid = reader.isShallow(oid) ? undefined : commit.parents[0]
  }
  if (stop !== undefined && oid !== stop) return undefined
  return chain.reverse()
}

/** Byte length of the common start of `a` and `b`. */
function commonPrefix(a: Buffer, b: Buffer): number {
  const max = Math.min(a.length, b.length)
  let i = 0
  const block = 256
  while (i + block <= max && a.compare(b, i, i + block, i, i + block) === 0) i += block
  while (i < max && a[i] === b[i]) i++
  return i
}

/** Byte length of the common end of `a` and `b`, not reaching into the first `floor` bytes of either. */
function commonSuffix(a: Buffer, b: Buffer, floor: number): number {
  const max = Math.min(a.length, b.length) - floor
  let n = 0
  const block = 256
  while (n + block <= max && a.compare(b, b.length - n - block, b.length - n, a.length - n - block, a.length - n) === 0) n += block
  while (n < max && a[a.length - 1 - n] === b[b.length - 1 - n]) n++
  return n
}

const entryEnd = (data: Buffer, pos: number): number => data.indexOf(0, pos) + 21

/**
 * The entries that differ between two versions of a tree: the common run of
 * whole entries at the start and at the end is skipped without parsing.
 */
export function differingEntries(a: Buffer, b: Buffer): [RawEntry[], RawEntry[]] {
  const prefix = commonPrefix(a, b)
  if (prefix === a.length && prefix === b.length) return [[], []]
  let start = 0
  while (start < a.length) {
    const next = entryEnd(a, start)
    if (next > prefix) break
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
  if (endB !== endA + shift) {
    endA = a.length
    endB = b.length
  }
  return [parseTree(a.subarray(start, endA)), parseTree(b.subarray(start, endB))]
}

function collectAll(reader: ObjectReader, tree: string, prefix: string, status: 'added' | 'deleted', out: IndexChange[]): void {
  for (const entry of parseTree(reader.readAs(tree, 'tree'))) {
    const path = `${prefix}${entry.name}`
    if (isTreeMode(entry.mode)) collectAll(reader, entry.oid, `${path}/`, status, out)
    else out.push(status === 'added' ? { path, status, oid: entry.oid } : { path, status })
  }
}

/** Changes between two trees (either may be absent), file by file. */
export function diffTrees(reader: ObjectReader, a: string | undefined, b: string | undefined, prefix: string, out: IndexChange[]): void {
  if (a === b) return
  if (!a) return collectAll(reader, b!, prefix, 'added', out)
  if (!b) return collectAll(reader, a, prefix, 'deleted', out)
  const [left, right] = differingEntries(reader.readAs(a, 'tree'), reader.readAs(b, 'tree'))
  const byName = new Map<string, [RawEntry | undefined, RawEntry | undefined]>()
  for (const e of left) byName.set(e.name, [e, undefined])
  for (const e of right) byName.set(e.name, [byName.get(e.name)?.[0], e])
  for (const [name, [l, r]] of [...byName].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    if (l && r && l.oid === r.oid && l.mode === r.mode) continue
    const path = `${prefix}${name}`
    const lt = l && isTreeMode(l.mode)
    const rt = r && isTreeMode(r.mode)
    if (lt || rt) {
      diffTrees(reader, lt ? l.oid : undefined, rt ? r.oid : undefined, `${path}/`, out)
      if (l && !lt) out.push({ path, status: 'deleted' })
      if (r && !rt) out.push({ path, status: 'added', oid: r.oid })
      continue
    }
    if (!l) out.push({ path, status: 'added', oid: r!.oid })
    else if (!r) out.push({ path, status: 'deleted' })
    else out.push({ path, status: 'modified', oid: r.oid })
  }
}

/** The oid of the `index/` tree of a commit's tree, if it has one. */
export function indexTree(reader: ObjectReader, rootTree: string): string | undefined {
  const entry = parseTree(reader.readAs(rootTree, 'tree')).find((e) => e.name === INDEX_DIR)
  return entry && isTreeMode(entry.mode) ? entry.oid : undefined
}

/** What each commit of `chain` changed under `index/`, against its first parent (or nothing, for the first of a chain from the root). */
export function indexChanges(reader: ObjectReader, chain: CommitData[], before: CommitData | undefined): CommitChanges[] {
  const out: CommitChanges[] = []
  let previous = before ? indexTree(reader, before.tree) : undefined
  for (const commit of chain) {
    const current = indexTree(reader, commit.tree)
    const changes: IndexChange[] = []
    diffTrees(reader, previous, current, `${INDEX_DIR}/`, changes)
    changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
    if (changes.length) out.push({ commit, changes })
    previous = current
  }
  return out
}

/** The commit `oid`, read and parsed. */
export function readCommitData(reader: ObjectReader, oid: string): CommitData {
  try {
    return parseCommit(oid, reader.readAs(oid, 'commit'))
  } catch (e) {
    throw new WharfError('BAD_REF', `cannot read commit ${oid}: ${(e as Error).message}`, { hint: 'pass a commit of the index repo' })
  }
}

/** Every blob under `dir` of a tree (a path of `/`-joined names), with its oid. */
export function walkTree(reader: ObjectReader, tree: string, prefix: string, out: { path: string; oid: string }[]): void {
  for (const entry of parseTree(reader.readAs(tree, 'tree'))) {
    const path = `${prefix}${entry.name}`
    if (isTreeMode(entry.mode)) walkTree(reader, entry.oid, `${path}/`, out)
    else out.push({ path, oid: entry.oid })
  }
}

/** The tree or blob at `path` (slash-separated) under `tree`, if any. */
export function lookup(reader: ObjectReader, tree: string, path: string): RawEntry | undefined {
  let current: RawEntry | undefined = { name: '', mode: '040000', oid: tree }
  for (const part of path.split('/').filter(Boolean)) {
    if (!current || !isTreeMode(current.mode)) return undefined
    current = parseTree(reader.readAs(current.oid, 'tree')).find((e) => e.name === part)
  }
  return current
}
