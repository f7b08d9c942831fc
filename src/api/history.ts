/**
 * The first-parent history of main as a list of per-commit changes under
 * `index/`: what the change feed numbers and what dates every document.
 * The diff itself is git's (src/git): this holds only what the API makes of it.
 */
import { INDEX_DIR } from '../core/layout.js'
import { WharfError } from '../core/errors.js'
import { byPath, diffTrees, isTreeMode, parseCommit, type Change, type CommitData, type ObjectReader, } from '../git/index.js'

export interface CommitChanges {
  commit: CommitData
  changes: Change[]
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

/** The oid of the `index/` tree of a commit's tree, if it has one. */
export function indexTree(reader: ObjectReader, rootTree: string): string | undefined {
  const entry = reader.readTree(rootTree).find((e) => e.name === INDEX_DIR)
  return entry && isTreeMode(entry.mode) ? entry.oid : undefined
}

/**
 * What each commit changed under `index/` against the one before it: calls
 * `visit(i, changes)` for each `trees[i]` (a commit's root tree) whose
 * `index/` differs from the one before, changes sorted by path. `before` is
 * the root tree before the first, undefined for none.
 */
export function forEachIndexChange(reader: ObjectReader, before: string | undefined, trees: readonly string[], visit: (i: number, changes: Change[]) => void): void {
  let previous = before ? indexTree(reader, before) : undefined
  for (let i = 0; i < trees.length; i++) {
    const current = indexTree(reader, trees[i]!)
    const changes: Change[] = []
    diffTrees(reader, previous, current, `${INDEX_DIR}/`, changes)
    if (changes.length) visit(i, changes.sort(byPath))
    previous = current
  }
}

/** What each commit of `chain` changed under `index/`, against its first parent (or nothing, for the first of a chain from the root). */
export function indexChanges(reader: ObjectReader, chain: CommitData[], before: CommitData | undefined): CommitChanges[] {
  const out: CommitChanges[] = []
  forEachIndexChange(
    reader,
    before?.tree,
    chain.map((c) => c.tree),
    (i, changes) => out.push({ commit: chain[i]!, changes }),
  )
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
  for (const entry of reader.readTree(tree)) {
    const path = `${prefix}${entry.name}`
    if (isTreeMode(entry.mode)) walkTree(reader, entry.oid, `${path}/`, out)
    else out.push({ path, oid: entry.oid })
  }
}
