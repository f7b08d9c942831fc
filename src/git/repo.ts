/**
 * The index repo over isomorphic-git. Every read goes through a commit, so a
 * check sees exactly the two trees it compares and never the work tree.
 */
import fs from 'node:fs'
import path from 'node:path'
import git from 'isomorphic-git'
import { WharfError } from '../core/errors.js'
import { writeFileAtomic } from '../store/index.js'

export interface Repo {
  dir: string
  /** isomorphic-git's object cache, shared by every read of this handle. */
  cache: object
}

export interface Identity {
  /** The account login; commits carry it as the author name. */
  login: string
  timestamp?: number
}

export const MAIN = 'main'

export async function initRepo(dir: string): Promise<Repo> {
  await fs.promises.mkdir(dir, { recursive: true })
  await git.init({ fs, dir, defaultBranch: MAIN })
  return { dir, cache: {} }
}

export function openRepo(dir: string): Repo {
  if (!fs.existsSync(path.join(dir, '.git'))) {
    throw new WharfError('NOT_A_REPO', `${dir} is not an index repo (no .git directory)`, {
      hint: 'create one with `wharf init DIR`, or pass --index DIR',
    })
  }
  return { dir, cache: {} }
}

/**
 * Resolves a branch, tag, `HEAD` or (abbreviated) commit id to a full commit
 * id, with git's ancestry suffixes: `main~2`, `HEAD^`, `abc123^2`.
 */
export async function resolveCommit(repo: Repo, ref: string): Promise<string> {
  const match = /^(.+?)((?:[~^]\d*)+)$/.exec(ref)
  if (!match) return resolveName(repo, ref)
  let oid = await resolveName(repo, match[1]!)
  for (const [, op, digits] of match[2]!.matchAll(/([~^])(\d*)/g)) {
    const n = digits === '' ? 1 : Number(digits)
    const steps = op === '~' ? n : 1
    const parentIndex = op === '^' ? n - 1 : 0
    for (let i = 0; i < steps && !(op === '^' && n === 0); i++) {
      const parent: string | undefined = (await readCommitInfo(repo, oid)).parents[parentIndex]
      if (!parent) throw new WharfError('BAD_REF', `"${ref}" goes past the first commit of ${repo.dir}`, { hint: 'use a shorter ancestry suffix' })
      oid = parent
    }
  }
  return oid
}

async function resolveName(repo: Repo, ref: string): Promise<string> {
  try {
    if (/^[0-9a-f]{4,40}$/.test(ref)) {
      try {
        return await git.expandOid({ fs, dir: repo.dir, oid: ref, cache: repo.cache })
      } catch {
        // not an object id; try it as a ref name below
      }
    }
    return await git.resolveRef({ fs, dir: repo.dir, ref })
  } catch {
    throw new WharfError('BAD_REF', `"${ref}" is not a branch or commit of ${repo.dir}`, {
      hint: 'pass a branch name or a commit id that exists in the index repo',
    })
  }
}

export async function branchExists(repo: Repo, branch: string): Promise<boolean> {
  try {
    await git.resolveRef({ fs, dir: repo.dir, ref: `refs/heads/${branch}` })
    return true
  } catch {
    return false
  }
}

export interface CommitInfo {
  oid: string
  parents: string[]
  tree: string
  author: { name: string; timestamp: number }
  message: string
}

export async function readCommitInfo(repo: Repo, oid: string): Promise<CommitInfo> {
  const { commit } = await git.readCommit({ fs, dir: repo.dir, oid, cache: repo.cache })
  return { oid, parents: commit.parent, tree: commit.tree, author: { name: commit.author.name, timestamp: commit.author.timestamp }, message: commit.message }
}

const FULL_OID = /^[0-9a-f]{40}$/

/** A commit id as is; a ref name resolved (a missing ref must not read as a missing file). */
async function commitOid(repo: Repo, commit: string): Promise<string> {
  return FULL_OID.test(commit) ? commit : resolveCommit(repo, commit)
}

/** The blob at `filepath` in `commit` (an id or ref), or undefined when there is none. */
export async function readFileAt(repo: Repo, commit: string, filepath: string): Promise<Uint8Array | undefined> {
  const oid = await commitOid(repo, commit)
  try {
    const { blob } = await git.readBlob({ fs, dir: repo.dir, oid, filepath, cache: repo.cache })
    return blob
  } catch (e) {
    if ((e as { code?: string }).code === 'NotFoundError') return undefined
    throw e
  }
}

export async function readBlob(repo: Repo, oid: string): Promise<Uint8Array> {
  const { blob } = await git.readBlob({ fs, dir: repo.dir, oid, cache: repo.cache })
  return blob
}

/** Parsed JSON at `filepath` in `commit`, or undefined when there is no such file. Throws on bad JSON. */
export async function readJsonAt<T>(repo: Repo, commit: string, filepath: string): Promise<T | undefined> {
  const blob = await readFileAt(repo, commit, filepath)
  return blob === undefined ? undefined : (JSON.parse(Buffer.from(blob).toString('utf8')) as T)
}

export interface Entry {
  name: string
  mode: string
  oid: string
  type: 'blob' | 'tree' | 'commit'
}

/** Entries of the directory `dirpath` in `commit` (root when empty), or undefined when it is absent. */
export async function listDir(repo: Repo, commit: string, dirpath: string): Promise<Entry[] | undefined> {
  const oid = await commitOid(repo, commit)
  try {
    const { tree } = await git.readTree({ fs, dir: repo.dir, oid, filepath: dirpath || undefined, cache: repo.cache })
    return tree.map((e) => ({ name: e.path, mode: e.mode, oid: e.oid, type: e.type }))
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'NotFoundError' || code === 'ObjectTypeError') return undefined
    throw e
  }
}

/** Every blob path under `dirpath` in `commit`, with its object id. */
export async function walkFiles(repo: Repo, commit: string, dirpath: string): Promise<{ path: string; oid: string; mode: string }[]> {
  const out: { path: string; oid: string; mode: string }[] = []
  const visit = async (dir: string): Promise<void> => {
    const entries = await listDir(repo, commit, dir)
    for (const entry of entries ?? []) {
      const full = dir ? `${dir}/${entry.name}` : entry.name
      if (entry.type === 'tree') await visit(full)
      else out.push({ path: full, oid: entry.oid, mode: entry.mode })
    }
  }
  await visit(dirpath)
  return out
}

/** First-parent history of `ref`, oldest first. */
export async function firstParentHistory(repo: Repo, ref: string): Promise<CommitInfo[]> {
  const commits: CommitInfo[] = []
  let oid: string | undefined = await resolveCommit(repo, ref)
  while (oid) {
    const info = await readCommitInfo(repo, oid)
    commits.push(info)
    oid = info.parents[0]
  }
  return commits.reverse()
}

export async function mergeBase(repo: Repo, a: string, b: string): Promise<string | undefined> {
  const bases = await git.findMergeBase({ fs, dir: repo.dir, oids: [a, b], cache: repo.cache })
  return bases[0]
}

export async function isAncestor(repo: Repo, ancestor: string, oid: string): Promise<boolean> {
  if (ancestor === oid) return true
  return git.isDescendent({ fs, dir: repo.dir, oid, ancestor, depth: -1, cache: repo.cache })
}

/**
 * Points `branch` at `oid` with a write-then-rename, so a crash leaves the
 * branch at its old tip or its new one, never a torn ref file.
 */
export async function setBranch(repo: Repo, branch: string, oid: string): Promise<void> {
  if (!/^[0-9a-f]{40}$/.test(oid)) throw new WharfError('BAD_REF', `cannot point ${branch} at "${oid}": not a commit id`)
  await writeFileAtomic(path.join(repo.dir, '.git', 'refs', 'heads', ...branch.split('/')), `${oid}\n`)
}

export async function deleteBranch(repo: Repo, branch: string): Promise<void> {
  await git.deleteBranch({ fs, dir: repo.dir, ref: branch })
}

export async function currentBranch(repo: Repo): Promise<string | undefined> {
  return (await git.currentBranch({ fs, dir: repo.dir })) ?? undefined
}

/**
 * Brings the work tree and git index of the checked-out `main` up to date
 * with its new tip, touching only `paths` (the files a merge changed).
 */
export async function syncWorkTree(repo: Repo, paths: string[]): Promise<void> {
  if (paths.length === 0) return
  await git.checkout({ fs, dir: repo.dir, ref: MAIN, filepaths: paths, force: true, noUpdateHead: true, cache: repo.cache })
}

export async function listBranches(repo: Repo): Promise<string[]> {
  return git.listBranches({ fs, dir: repo.dir })
}
