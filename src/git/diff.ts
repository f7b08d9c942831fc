/**
 * The difference of two commits, skipping every subtree whose object id is
 * the same on both sides, so the cost follows the size of the change and not
 * the size of the index.
 */
import fs from 'node:fs'
import git, { type TreeEntry } from 'isomorphic-git'
import type { Repo } from './repo.js'

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

async function treeOf(repo: Repo, commit: string): Promise<string> {
  const { commit: c } = await git.readCommit({ fs, dir: repo.dir, oid: commit, cache: repo.cache })
  return c.tree
}

async function entriesOf(repo: Repo, tree: string | undefined): Promise<Map<string, TreeEntry>> {
  const map = new Map<string, TreeEntry>()
  if (!tree) return map
  const { tree: entries } = await git.readTree({ fs, dir: repo.dir, oid: tree, cache: repo.cache })
  for (const e of entries) map.set(e.path, e)
  return map
}

const isTree = (e: TreeEntry | undefined): boolean => e?.type === 'tree'

async function diffTrees(repo: Repo, prefix: string, a: string | undefined, b: string | undefined, out: Change[]): Promise<void> {
  const [left, right] = await Promise.all([entriesOf(repo, a), entriesOf(repo, b)])
  const names = new Set([...left.keys(), ...right.keys()])
  for (const name of [...names].sort()) {
    const l = left.get(name)
    const r = right.get(name)
    if (l && r && l.oid === r.oid && l.mode === r.mode) continue
    const path = prefix + name
    if (isTree(l) || isTree(r)) {
      // A directory on either side: descend; a file that became a directory (or back) shows as a deletion plus additions.
      await diffTrees(repo, `${path}/`, isTree(l) ? l!.oid : undefined, isTree(r) ? r!.oid : undefined, out)
      if (l && !isTree(l)) out.push({ path, status: 'deleted', oldMode: l.mode, oldOid: l.oid })
      if (r && !isTree(r)) out.push({ path, status: 'added', mode: r.mode, oid: r.oid })
      continue
    }
    if (!l) out.push({ path, status: 'added', mode: r!.mode, oid: r!.oid })
    else if (!r) out.push({ path, status: 'deleted', oldMode: l.mode, oldOid: l.oid })
    else out.push({ path, status: 'modified', mode: r.mode, oid: r.oid, oldMode: l.mode, oldOid: l.oid })
  }
}

/** Changes from `base` to `head` (both commit ids), sorted by path. `base` undefined means an empty tree. */
export async function diffCommits(repo: Repo, base: string | undefined, head: string): Promise<Change[]> {
  const [a, b] = await Promise.all([base ? treeOf(repo, base) : undefined, treeOf(repo, head)])
  const out: Change[] = []
  if (a !== b) await diffTrees(repo, '', a, b, out)
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
}
