/**
 * Writing commits without a work tree: a new tree is the parent's tree with
 * some paths set or removed, rebuilding only the directories on their way.
 */
import fs from 'node:fs'
import git, { type TreeEntry } from 'isomorphic-git'
import { WharfError } from '../core/errors.js'
import { commitTree } from './diff.js'
import { isTreeMode } from './objects.js'
import { readerFor, type Identity, type Repo } from './repo.js'

export interface FileWrite {
  path: string
  /** New content, or null to remove the file. */
  content: Uint8Array | string | null
  /** An existing blob to point at instead of `content`. */
  oid?: string
  mode?: string
}

interface Pending {
  oid: string | null
  mode: string
}

export async function writeTreeWith(repo: Repo, base: string | undefined, files: ReadonlyMap<string, Pending>): Promise<string | undefined> {
  const entries = new Map<string, TreeEntry>()
  if (base) {
    for (const e of readerFor(repo).readTree(base)) entries.set(e.name, { path: e.name, oid: e.oid, mode: e.mode, type: isTreeMode(e.mode) ? 'tree' : e.mode === '160000' ? 'commit' : 'blob' })
  }
  const nested = new Map<string, Map<string, Pending>>()
  for (const [filepath, pending] of files) {
    const slash = filepath.indexOf('/')
    if (slash < 0) {
      if (pending.oid === null) entries.delete(filepath)
      else entries.set(filepath, { path: filepath, oid: pending.oid, mode: pending.mode, type: 'blob' })
      continue
    }
    const head = filepath.slice(0, slash)
    let sub = nested.get(head)
    if (!sub) nested.set(head, (sub = new Map()))
    sub.set(filepath.slice(slash + 1), pending)
  }
  for (const [name, sub] of nested) {
    const existing = entries.get(name)
    if (existing && existing.type !== 'tree') {
      throw new WharfError('CONFLICT', `cannot write under "${name}": it is a file`, { hint: 'remove the file first' })
    }
    const oid = await writeTreeWith(repo, existing?.oid, sub)
    if (oid) entries.set(name, { path: name, oid, mode: '040000', type: 'tree' })
    else entries.delete(name)
  }
  if (entries.size === 0) return undefined
  return git.writeTree({ fs, dir: repo.dir, tree: [...entries.values()] })
}

/** An empty tree's id; git writes it on demand. */
async function emptyTree(repo: Repo): Promise<string> {
  return git.writeTree({ fs, dir: repo.dir, tree: [] })
}

export interface CommitOptions {
  /** Parent commits; the first one's tree is the base. Empty for a root commit. */
  parents: string[]
  files: FileWrite[]
  message: string
  author: Identity
  committer?: Identity
  /** Base tree when it is not the first parent's (a merge). */
  baseTree?: string
}

export async function writeCommitWith(repo: Repo, options: CommitOptions): Promise<string> {
  const pending = new Map<string, Pending>()
  for (const file of options.files) {
    const oid =
      file.oid ??
      (file.content === null
        ? null
        : await git.writeBlob({ fs, dir: repo.dir, blob: typeof file.content === 'string' ? Buffer.from(file.content) : file.content }))
    pending.set(file.path, { oid, mode: file.mode ?? '100644' })
  }
  let baseTree = options.baseTree
  if (!baseTree && options.parents[0]) baseTree = commitTree(readerFor(repo), options.parents[0])
  const tree = (await writeTreeWith(repo, baseTree, pending)) ?? (await emptyTree(repo))
  const person = (who: Identity) => {
    const timestamp = who.timestamp ?? Math.floor(Date.now() / 1000)
    return { name: who.login, email: `${who.login}@users.noreply.localhost`, timestamp, timezoneOffset: 0 }
  }
  return git.writeCommit({
    fs,
    dir: repo.dir,
    commit: {
      message: options.message.endsWith('\n') ? options.message : `${options.message}\n`,
      tree,
      parent: options.parents,
      author: person(options.author),
      committer: person(options.committer ?? options.author),
    },
  })
}

/** The id git gives a blob of these bytes, without writing it. */
export async function hashBlob(content: Uint8Array | string): Promise<string> {
  return (await git.hashBlob({ object: content })).oid
}

/** Stages `paths` from the work tree and commits them on the checked-out branch (a new repo's first commit). */
export async function commitWorkTree(repo: Repo, paths: string[], message: string, author: Identity): Promise<string> {
  for (const filepath of paths) await git.add({ fs, dir: repo.dir, filepath })
  return git.commit({ fs, dir: repo.dir, message, author: { name: author.login, email: `${author.login}@users.noreply.localhost` } })
}
