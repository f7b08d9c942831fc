/**
 * The index repo over isomorphic-git. Every read goes through a commit, so a
 * check sees exactly the two trees it compares and never the work tree.
 */
import fs from 'node:fs'
import path from 'node:path'
import git from 'isomorphic-git'
import { WharfError } from '../core/errors.js'
import { writeFileAtomic } from '../store/index.js'
import { isTreeMode, ObjectReader, parseCommit, type CommitDetails, type RawEntry } from './objects.js'

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

const readers = new WeakMap<Repo, ObjectReader>()
const closeReader = new FinalizationRegistry<ObjectReader>((reader) => reader.close())

/**
 * The object reader of a repo handle, made on first use and kept with it
 * (its files are closed when the handle is collected). It sees objects and
 * packs written after it was made.
 */
export function readerFor(repo: Repo): ObjectReader {
  let reader = readers.get(repo)
  if (!reader) {
    reader = new ObjectReader(repo.dir)
    readers.set(repo, reader)
    closeReader.register(repo, reader)
  }
  return reader
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
  const notFound = () =>
    new WharfError('BAD_REF', `"${ref}" is not a branch or commit of ${repo.dir}`, {
      hint: 'pass a branch name or a commit id that exists in the index repo',
    })
  if (/^[0-9a-fA-F]{4,40}$/.test(ref)) {
    const reader = readerFor(repo)
    const matches = reader.expand(ref)
    if (matches.length > 1) throw new WharfError('BAD_REF', `"${ref}" is ambiguous in ${repo.dir}: ${matches.join(', ')}`, { hint: 'give more digits of the commit id' })
    if (matches.length === 1) return matches[0]!
  }
  try {
    return await git.resolveRef({ fs, dir: repo.dir, ref })
  } catch {
    throw notFound()
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

function readCommitSync(repo: Repo, oid: string): CommitDetails {
  return parseCommit(oid, readerFor(repo).readAs(oid, 'commit'))
}

export async function readCommitInfo(repo: Repo, oid: string): Promise<CommitInfo> {
  const { parents, tree, author, message } = readCommitSync(repo, oid)
  return { oid, parents, tree, author, message }
}

const FULL_OID = /^[0-9a-f]{40}$/

/** A commit id as is; a ref name resolved (a missing ref must not read as a missing file). */
async function commitOid(repo: Repo, commit: string): Promise<string> {
  return FULL_OID.test(commit) ? commit : resolveCommit(repo, commit)
}

/** The entry at `filepath` (slash-separated; empty for the root) under `tree`, if any. */
export function lookupPath(reader: ObjectReader, tree: string, filepath: string): RawEntry | undefined {
  let current: RawEntry | undefined = { name: '', mode: '040000', oid: tree }
  for (const part of filepath.split('/').filter(Boolean)) {
    if (!current || !isTreeMode(current.mode)) return undefined
    current = reader.entryOf(current.oid, part)
  }
  return current
}

/** The blob at `filepath` in `commit` (an id or ref), or undefined when there is none. */
export async function readFileAt(repo: Repo, commit: string, filepath: string): Promise<Uint8Array | undefined> {
  const reader = readerFor(repo)
  const entry = lookupPath(reader, readCommitSync(repo, await commitOid(repo, commit)).tree, filepath)
  if (!entry) return undefined
  if (isTreeMode(entry.mode)) throw new WharfError('NOT_AN_INDEX', `${filepath} is a directory at ${commit.slice(0, 12)}, not a file`, { hint: 'remove the directory; the path names a file' })
  return reader.readAs(entry.oid, 'blob')
}

export async function readBlob(repo: Repo, oid: string): Promise<Uint8Array> {
  return readerFor(repo).readAs(oid, 'blob')
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

const entryType = (mode: string): Entry['type'] => (isTreeMode(mode) ? 'tree' : mode === '160000' ? 'commit' : 'blob')

/** Entries of the directory `dirpath` in `commit` (root when empty), or undefined when it is absent. */
export async function listDir(repo: Repo, commit: string, dirpath: string): Promise<Entry[] | undefined> {
  const reader = readerFor(repo)
  const dir = lookupPath(reader, readCommitSync(repo, await commitOid(repo, commit)).tree, dirpath)
  if (!dir || !isTreeMode(dir.mode)) return undefined
  return reader.readTree(dir.oid).map((e) => ({ ...e, type: entryType(e.mode) }))
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

const ONE = 1
const TWO = 2
const STALE = 4

/**
 * The merge bases of `one` and each of `twos`, by git's own walk
 * (paint_down_to_common): commits newest first, each marked with the sides
 * that reach it, until only commits below a common one are left. It stops at
 * the fork point, however long the history below it.
 */
function mergeBases(repo: Repo, one: string, twos: string[]): string[] {
  const flags = new Map<string, number>()
  const time = new Map<string, number>()
  const queue: string[] = []
  const push = (oid: string) => {
    if (!time.has(oid)) time.set(oid, readCommitSync(repo, oid).time)
    queue.push(oid)
  }
  flags.set(one, ONE)
  push(one)
  for (const two of twos) {
    flags.set(two, (flags.get(two) ?? 0) | TWO)
    if (two !== one) push(two)
  }
  const result: string[] = []
  while (queue.some((oid) => !(flags.get(oid)! & STALE))) {
    // Newest first; the queue holds the walk's frontier, which stays small.
    let best = 0
    for (let i = 1; i < queue.length; i++) if (time.get(queue[i]!)! > time.get(queue[best]!)!) best = i
    const oid = queue.splice(best, 1)[0]!
    let mark = flags.get(oid)! & (ONE | TWO | STALE)
    if ((mark & (ONE | TWO)) === (ONE | TWO)) {
      if (!(mark & STALE) && !result.includes(oid)) result.push(oid)
      mark |= STALE
    }
    for (const parent of readCommitSync(repo, oid).parents) {
      const have = flags.get(parent) ?? 0
      if ((have & mark) === mark) continue
      flags.set(parent, have | mark)
      push(parent)
    }
  }
  return result
}

export async function mergeBase(repo: Repo, a: string, b: string): Promise<string | undefined> {
  return mergeBases(repo, a, [b])[0]
}

export async function isAncestor(repo: Repo, ancestor: string, oid: string): Promise<boolean> {
  if (ancestor === oid) return true
  return mergeBases(repo, ancestor, [oid]).includes(ancestor)
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
