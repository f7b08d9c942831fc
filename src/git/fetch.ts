/**
 * Fetching from a remote with git itself (a runner has git; isomorphic-git's
 * fetch does not speak every server's protocol as git does). Fetching only
 * transfers objects and moves refs under `refs/wharf/`: nothing fetched is
 * checked out or run.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import type { Repo } from './repo.js'

export interface FetchRefOptions {
  /** A remote name (`origin`) or URL. */
  remote: string
  /** The remote ref, e.g. `refs/pull/7/head`. */
  ref: string
  /** A token sent as GitHub's checkout sends one, when the remote needs it and the repo holds no credentials. */
  token?: string
  /** In a shallow clone (as actions/checkout makes one), fetch this many commits deep, or (0) the whole history, so a merge's parents and merge base come too. */
  depth?: number
  timeoutMs?: number
}

/** Fetches `ref` into `refs/wharf/fetched/<ref>` and returns the commit it names. */
export async function fetchRef(repo: Repo, options: FetchRefOptions): Promise<string> {
  if (!/^refs\/[A-Za-z0-9._/-]+$/.test(options.ref) || options.ref.includes('..')) {
    throw new WharfError('INVALID_INPUT', `"${options.ref}" is not a ref to fetch`, { hint: 'name a full ref such as refs/pull/7/head' })
  }
  const local = `refs/wharf/fetched/${options.ref.slice('refs/'.length)}`
  // The credential goes to git through its environment, never its arguments: a failed command's message lists those.
  const held = Number(process.env.GIT_CONFIG_COUNT) || 0
  const auth: NodeJS.ProcessEnv = options.token
    ? { GIT_CONFIG_COUNT: String(held + 1), [`GIT_CONFIG_KEY_${held}`]: 'http.extraheader', [`GIT_CONFIG_VALUE_${held}`]: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${options.token}`).toString('base64')}` }
    : {}
  const shallow = options.depth !== undefined && fs.existsSync(path.join(repo.dir, '.git', 'shallow'))
  const depth = shallow ? [options.depth === 0 ? '--unshallow' : `--depth=${options.depth}`] : []
  await git(repo.dir, ['fetch', '--quiet', '--no-tags', '--no-recurse-submodules', ...depth, options.remote, `+${options.ref}:${local}`], options.timeoutMs ?? 300_000, auth)
  return (await git(repo.dir, ['rev-parse', '--verify', `${local}^{commit}`], 30_000)).trim()
}

const redact = (text: string) => text.replace(/AUTHORIZATION: basic \S+/gi, 'AUTHORIZATION: ***')

function git(cwd: string, args: string[], timeout: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // No prompt for credentials, and no hooks or filters configured by anything fetched.
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', ...extraEnv }
    execFile('git', args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout)
      const what = args.find((a) => a === 'fetch' || a === 'rev-parse') ?? 'git'
      reject(
        new WharfError('REMOTE', `git ${what} in ${cwd} failed: ${redact(String(stderr)).trim() || redact(error.message)}`, {
          hint: 'check that the remote is reachable and the ref exists (a closed pull request may have no head to fetch)',
        }),
      )
    })
  })
}
