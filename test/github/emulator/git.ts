/**
 * The emulator's git layer: real bare repos on disk, driven by the git CLI.
 * Merges, test-merge refs, trees and commits are made the way GitHub makes them:
 * without a work tree (`git merge-tree --write-tree`, `commit-tree`, `update-ref`
 * with the expected old value).
 */
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'

export const ZERO_SHA = '0000000000000000000000000000000000000000'

export interface GitIdentity {
  name: string
  email: string
  /** Seconds since the epoch; the emulator's clock, so tests control commit dates. */
  time: number
}

export class GitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message)
  }
}

/** Runs git in `dir`; resolves stdout, rejects with a GitError naming the command and its stderr. */
export function git(dir: string, args: string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd: dir, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, env: { ...gitEnv(), ...options.env } },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null
          reject(new GitError(`git ${args.join(' ')}: ${stderr.toString().trim() || error.message}`, code, stderr.toString()))
        } else resolve(stdout.toString())
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** An environment free of the host's git configuration, so every repo behaves the same on every machine. */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
  }
}

function identityEnv(author: GitIdentity, committer: GitIdentity = author): NodeJS.ProcessEnv {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_AUTHOR_DATE: `@${author.time} +0000`,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
    GIT_COMMITTER_DATE: `@${committer.time} +0000`,
  }
}

/** A new bare repo whose HEAD names `defaultBranch`; refs/pull/* cannot be pushed, as on GitHub. */
export async function initBare(dir: string, defaultBranch: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true })
  await git(dir, ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`])
  await configureBare(dir)
}

async function configureBare(dir: string): Promise<void> {
  await git(dir, ['config', 'http.receivepack', 'true'])
  await git(dir, ['config', 'http.uploadpack', 'true'])
  await git(dir, ['config', 'receive.hideRefs', 'refs/pull'])
  await git(dir, ['config', 'uploadpack.allowAnySHA1InWant', 'true'])
  await git(dir, ['config', 'core.logAllRefUpdates', 'false'])
}

/** A fork: a bare copy of `source` (branches and tags only, as GitHub copies them). */
export async function cloneBare(source: string, dir: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(dir), { recursive: true })
  await git(path.dirname(dir), ['clone', '--bare', '--quiet', '--no-tags', source, dir])
  await git(dir, ['fetch', '--quiet', source, '+refs/tags/*:refs/tags/*'])
  await configureBare(dir)
}

/** Every ref and the object it names. */
export async function listRefs(dir: string, prefix = 'refs/'): Promise<Map<string, string>> {
  const out = await git(dir, ['for-each-ref', '--format=%(objectname) %(refname)', prefix])
  const refs = new Map<string, string>()
  for (const line of out.split('\n')) {
    if (!line) continue
    const space = line.indexOf(' ')
    refs.set(line.slice(space + 1), line.slice(0, space))
  }
  return refs
}

export async function resolveRef(dir: string, ref: string): Promise<string | undefined> {
  try {
    return (await git(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || undefined
  } catch {
    return undefined
  }
}

/** The type of an object (`commit`, `tree`, `blob`, `tag`), or undefined when absent. */
export async function objectType(dir: string, sha: string): Promise<string | undefined> {
  if (!/^[0-9a-f]{40}$/.test(sha)) return undefined
  try {
    return (await git(dir, ['cat-file', '-t', sha])).trim()
  } catch {
    return undefined
  }
}

/** Moves `ref` to `to` only if it still names `expected` (ZERO_SHA: only if it does not exist). */
export async function compareAndSwapRef(dir: string, ref: string, to: string, expected: string): Promise<boolean> {
  try {
    await git(dir, ['update-ref', ref, to, expected])
    return true
  } catch {
    return false
  }
}

export async function deleteRef(dir: string, ref: string): Promise<void> {
  await git(dir, ['update-ref', '-d', ref])
}

export async function isAncestor(dir: string, ancestor: string, descendant: string): Promise<boolean> {
  try {
    await git(dir, ['merge-base', '--is-ancestor', ancestor, descendant])
    return true
  } catch {
    return false
  }
}

/** Copies `from`'s objects reachable from `sha` into `to` and points `ref` there. */
export async function fetchInto(to: string, from: string, sha: string, ref: string): Promise<void> {
  await git(to, ['fetch', '--quiet', '--no-tags', from, `+${sha}:${ref}`])
}

/** The tree of a three-way merge of `theirs` into `ours`, or undefined on a conflict. */
export async function mergeTree(dir: string, ours: string, theirs: string, mergeBase?: string): Promise<string | undefined> {
  const args = ['merge-tree', '--write-tree', '--no-messages']
  if (mergeBase) args.push(`--merge-base=${mergeBase}`)
  try {
    return (await git(dir, [...args, ours, theirs])).split('\n')[0]?.trim()
  } catch (e) {
    if (e instanceof GitError && e.exitCode === 1) return undefined
    throw e
  }
}

export async function commitTree(dir: string, tree: string, parents: string[], message: string, author: GitIdentity, committer?: GitIdentity): Promise<string> {
  const args = ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])]
  return (await git(dir, args, { input: message, env: identityEnv(author, committer) })).trim()
}

export interface CommitInfo {
  sha: string
  tree: string
  parents: string[]
  author: { name: string; email: string; date: string }
  committer: { name: string; email: string; date: string }
  message: string
}

export async function readCommit(dir: string, sha: string): Promise<CommitInfo | undefined> {
  if ((await objectType(dir, sha)) !== 'commit') return undefined
  const raw = await git(dir, ['cat-file', 'commit', sha])
  const split = raw.indexOf('\n\n')
  const header = raw.slice(0, split)
  const info: CommitInfo = { sha, tree: '', parents: [], author: person(''), committer: person(''), message: raw.slice(split + 2) }
  for (const line of header.split('\n')) {
    const space = line.indexOf(' ')
    const key = line.slice(0, space)
    const value = line.slice(space + 1)
    if (key === 'tree') info.tree = value
    else if (key === 'parent') info.parents.push(value)
    else if (key === 'author') info.author = person(value)
    else if (key === 'committer') info.committer = person(value)
  }
  return info
}

function person(value: string): { name: string; email: string; date: string } {
  const match = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(value)
  if (!match) return { name: '', email: '', date: new Date(0).toISOString() }
  return { name: match[1]!, email: match[2]!, date: new Date(Number(match[3]) * 1000).toISOString().replace('.000Z', 'Z') }
}

export async function writeBlob(dir: string, content: Buffer): Promise<string> {
  return (await git(dir, ['hash-object', '-w', '--stdin'], { input: content })).trim()
}

export interface TreeEntryInput {
  path: string
  mode: string
  /** null deletes the path. */
  sha: string | null
}

/** A new tree: `base` (or empty) with the entries set or removed, through a throwaway index file. */
export async function buildTree(dir: string, base: string | undefined, entries: TreeEntryInput[]): Promise<string> {
  const indexFile = path.join(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'emu-index-')), 'index')
  const env = { GIT_INDEX_FILE: indexFile }
  try {
    if (base) await git(dir, ['read-tree', base], { env })
    else await git(dir, ['read-tree', '--empty'], { env })
    if (entries.length > 0) {
      // --index-info removes a path given mode 0 (and works without a work tree, unlike --force-remove).
      const lines = entries.map((e) => (e.sha === null ? `0 ${ZERO_SHA}\t${e.path}` : `${e.mode} ${e.sha}\t${e.path}`)).join('\0') + '\0'
      await git(dir, ['update-index', '--add', '-z', '--index-info'], { env, input: lines })
    }
    return (await git(dir, ['write-tree'], { env })).trim()
  } finally {
    await fs.promises.rm(path.dirname(indexFile), { recursive: true, force: true })
  }
}

export interface TreeEntry {
  path: string
  mode: string
  type: 'blob' | 'tree' | 'commit'
  sha: string
  size?: number
}

export async function readTree(dir: string, sha: string, recursive: boolean): Promise<TreeEntry[]> {
  return parseLsTree(await git(dir, ['ls-tree', '-z', '--long', ...(recursive ? ['-r', '-t'] : []), sha]))
}

/** The entry at `filePath` in a commit's (or tree's) tree, or undefined when it holds none there. */
export async function entryAt(dir: string, treeish: string, filePath: string): Promise<TreeEntry | undefined> {
  // ls-tree matches whole path components, and `--` keeps a path from being read as an option.
  return parseLsTree(await git(dir, ['ls-tree', '-z', '--long', '--full-tree', treeish, '--', filePath])).find((e) => e.path === filePath)
}

/** A blob's bytes, exactly (git() decodes stdout as text). */
export function readBlob(dir: string, sha: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('git', ['cat-file', 'blob', sha], { cwd: dir, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, env: gitEnv() }, (error, stdout, stderr) => {
      if (error) reject(new GitError(`git cat-file blob ${sha}: ${stderr.toString().trim() || error.message}`, typeof error.code === 'number' ? error.code : null, stderr.toString()))
      else resolve(stdout)
    })
  })
}

function parseLsTree(out: string): TreeEntry[] {
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t')
      const [mode, type, objectSha, size] = line.slice(0, tab).split(/\s+/)
      const entry: TreeEntry = { path: line.slice(tab + 1), mode: mode!, type: type as TreeEntry['type'], sha: objectSha! }
      if (size && size !== '-') entry.size = Number(size)
      return entry
    })
}

export interface ChangedFile {
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed'
  filename: string
  previousFilename?: string
  sha: string
  additions: number
  deletions: number
  patch?: string
}

/** Files changed between the merge base of `base` and `head`, and `head` (GitHub's three-dot diff). */
export async function changedFiles(dir: string, base: string, head: string): Promise<ChangedFile[]> {
  const mergeBase = (await git(dir, ['merge-base', base, head]).catch(() => '')).trim() || base
  const raw = await git(dir, ['diff-tree', '-r', '-z', '-M', '--raw', '--no-commit-id', mergeBase, head])
  const numstat = await git(dir, ['diff-tree', '-r', '-z', '-M', '--numstat', '--no-commit-id', mergeBase, head])
  const counts = parseNumstat(numstat)
  const fields = raw.split('\0')
  const files: ChangedFile[] = []
  for (let i = 0; i < fields.length - 1; ) {
    const meta = fields[i++]!
    if (!meta.startsWith(':')) continue
    const [, oldMode, newMode, , newSha, statusCode] = /^:(\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])\d*$/.exec(meta) ?? []
    const letter = statusCode ?? 'M'
    const first = fields[i++]!
    const second = letter === 'R' || letter === 'C' ? fields[i++] : undefined
    const filename = second ?? first
    const count = counts.get(filename) ?? { additions: 0, deletions: 0 }
    const status: ChangedFile['status'] =
      letter === 'A' ? 'added' : letter === 'D' ? 'removed' : letter === 'R' ? 'renamed' : letter === 'C' ? 'copied' : oldMode !== newMode && letter === 'T' ? 'changed' : 'modified'
    const file: ChangedFile = { status, filename, sha: letter === 'D' ? ZERO_SHA : newSha!, ...count }
    if (second !== undefined) file.previousFilename = first
    files.push(file)
  }
  return files
}

function parseNumstat(out: string): Map<string, { additions: number; deletions: number }> {
  const counts = new Map<string, { additions: number; deletions: number }>()
  const fields = out.split('\0')
  for (let i = 0; i < fields.length - 1; ) {
    const entry = fields[i++]!
    if (!entry) continue
    const [added, deleted, name] = entry.split('\t')
    // A rename's numstat has an empty name followed by old and new names as separate fields.
    const filename = name === '' ? (i++, fields[i++]!) : name!
    counts.set(filename, { additions: added === '-' ? 0 : Number(added), deletions: deleted === '-' ? 0 : Number(deleted) })
  }
  return counts
}

export async function revList(dir: string, range: string): Promise<string[]> {
  return (await git(dir, ['rev-list', '--reverse', '--no-merges', range])).split('\n').filter(Boolean)
}

export interface CgiResponse {
  status: number
  headers: Record<string, string>
  body: NodeJS.ReadableStream
}

/**
 * Runs `git http-backend` (CGI) for one smart-HTTP request: `pathInfo` is
 * `/<owner>/<repo>.git/...` under `root`. The request body is piped in; the
 * CGI headers are parsed and the rest streamed back.
 */
export function httpBackend(
  root: string,
  request: { method: string; pathInfo: string; query: string; contentType?: string; contentEncoding?: string; gitProtocol?: string; remoteUser?: string },
  body: NodeJS.ReadableStream,
): Promise<CgiResponse> {
  const env: NodeJS.ProcessEnv = {
    ...gitEnv(),
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: request.pathInfo,
    REQUEST_METHOD: request.method,
    QUERY_STRING: request.query,
    CONTENT_TYPE: request.contentType ?? '',
    REMOTE_ADDR: '127.0.0.1',
  }
  if (request.contentEncoding) env.HTTP_CONTENT_ENCODING = request.contentEncoding
  if (request.gitProtocol) env.GIT_PROTOCOL = request.gitProtocol
  if (request.remoteUser) env.REMOTE_USER = request.remoteUser
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  body.pipe(child.stdin)
  child.stdin.on('error', () => {})
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk])
      const end = findHeaderEnd(head)
      if (!end) return
      child.stdout.off('data', onData)
      child.stdout.pause()
      const headers: Record<string, string> = {}
      let status = 200
      for (const line of head.subarray(0, end.at).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':')
        if (colon < 0) continue
        const name = line.slice(0, colon).trim().toLowerCase()
        const value = line.slice(colon + 1).trim()
        if (name === 'status') status = Number(value.split(' ')[0])
        else headers[name] = value
      }
      const rest = head.subarray(end.at + end.length)
      const out = new PassThrough()
      if (rest.length > 0) out.write(rest)
      child.stdout.pipe(out)
      child.stdout.resume()
      resolve({ status, headers, body: out })
    }
    child.stdout.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => {
      if (head.length === 0 || !findHeaderEnd(head)) reject(new Error(`git http-backend exited ${code}: ${stderr.trim()}`))
    })
  })
}

function findHeaderEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n')
  const lf = buffer.indexOf('\n\n')
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 }
  if (lf >= 0) return { at: lf, length: 2 }
  return undefined
}
