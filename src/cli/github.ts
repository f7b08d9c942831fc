/** What the commands that speak to GitHub share: the API URL, the token, and `OWNER/REPO` arguments. */
import { credentialsFile, readToken } from '../client/index.js'
import { WharfError } from '../core/errors.js'
import { createGitHub, type GitHub, type RepoRef } from '../github/index.js'
import type { Io } from './command.js'

const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/

/** `OWNER/REPO`, as GitHub spells repository names. */
export function parseRepoRef(text: string, option: string): RepoRef {
  const m = REPO.exec(text)
  if (!m || m[2] === '.' || m[2] === '..') throw new WharfError('USAGE', `${option} "${text}" is not OWNER/REPO`, { hint: `write ${option} owner/repo, e.g. ${option} acme/registry` })
  return { owner: m[1]!, repo: m[2]! }
}

/** The REST root: $GITHUB_API_URL (set on every Actions runner, GitHub Enterprise Server's too), else api.github.com. */
export function githubApiUrl(io: Io): string {
  return (io.env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '')
}

/**
 * A GitHub client with the token from $GITHUB_TOKEN, else the credentials
 * file's entry for the API URL (`[registries."https://api.github.com"] token = "..."`).
 */
export function githubClient(io: Io, what: string): GitHub {
  const baseUrl = githubApiUrl(io)
  const token = io.env.GITHUB_TOKEN || readToken(baseUrl, io.env)
  if (!token) {
    throw new WharfError('USAGE', `${what} needs a GitHub token: $GITHUB_TOKEN is not set and ${credentialsFile(io.env)} holds none for ${baseUrl}`, {
      hint: `set GITHUB_TOKEN, or store one (mode 0600) as [registries."${baseUrl}"] token = "..."`,
    })
  }
  // Writes are spaced as GitHub asks of integrations; an API on loopback (a local stand-in) has no abuse detection to respect.
  const loopback = /^https?:\/\/(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?\//.test(`${baseUrl}/`)
  return createGitHub({ token, baseUrl, userAgent: 'wharf', ...(loopback ? { pace: false } : {}) })
}
