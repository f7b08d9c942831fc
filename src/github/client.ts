/**
 * The Octokit behind the GitHub module: retries of transient failures
 * (@octokit/plugin-retry), GitHub's rate limits and write pacing
 * (@octokit/plugin-throttling), a count of HTTP requests, and bounded downloads
 * that follow GitHub's redirects to storage.
 */
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import { Octokit } from '@octokit/rest'
import Bottleneck from 'bottleneck'
import { WharfError } from '../core/errors.js'
import { GitHubErrorCode } from './errors.js'

export interface GitHubOptions {
  token: string
  /** The REST root: https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server. */
  baseUrl?: string
  userAgent?: string
  log?: (level: 'debug' | 'info' | 'warn', message: string) => void
  /**
   * Space writes as GitHub asks of integrations (one second apart, three for
   * ones that notify people). Default true; a test against a local emulator turns it off.
   */
  pace?: boolean
  /** Retries of a 5xx or network failure (default 3). */
  retries?: number
  /** The longest rate-limit wait worth retrying after, in seconds (default 120); longer fails with GITHUB_RATE_LIMITED. */
  maxRateLimitWaitSeconds?: number
}

export interface Client {
  octokit: Octokit
  log: NonNullable<GitHubOptions['log']>
  /** HTTP requests made so far, retries and downloads included. */
  requests: () => number
  /** GitHub's clock: the Date of its latest answer, advanced by the time since; undefined before the first answer. */
  serverTime: () => Date | undefined
  /** Fetches a URL, following redirects (the Authorization header only to the same origin), at most `maxBytes`. */
  download: (url: string, options: DownloadOptions) => Promise<Buffer>
}

export interface DownloadOptions {
  maxBytes: number
  headers?: Record<string, string>
  timeoutMs?: number
}

const RetriedOctokit = Octokit.plugin(retry, throttling)

/** Only `owner` and `repo` of a repository, so a richer object passed as one never leaks fields into a request. */
export function params(repo: { owner: string; repo: string }): { owner: string; repo: string } {
  return { owner: repo.owner, repo: repo.repo }
}

export function createClient(options: GitHubOptions): Client {
  const log = options.log ?? (() => {})
  let count = 0
  const countingFetch: typeof fetch = (input, init) => {
    count++
    return fetch(input, init)
  }
  const maxWait = options.maxRateLimitWaitSeconds ?? 120
  const onLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    const again = retryCount < 2 && retryAfter <= maxWait
    log('warn', `${kind} rate limit on ${request.method} ${request.url}; ${again ? `retrying in ${retryAfter}s` : 'giving up'}`)
    return again
  }
  const unpaced = () => new Bottleneck.Group({ maxConcurrent: 10 })
  const octokit = new RetriedOctokit({
    auth: options.token,
    baseUrl: (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: options.userAgent ?? 'wharf',
    request: { fetch: countingFetch },
    log: { debug: (m: string) => log('debug', m), info: (m: string) => log('info', m), warn: (m: string) => log('warn', m), error: (m: string) => log('warn', m) },
    retry: { retries: options.retries ?? 3, doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 451] },
    throttle: {
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
      ...(options.pace === false ? { write: unpaced(), notifications: unpaced(), search: unpaced() } : {}),
    },
  })

  // Waiting periods compare GitHub's own timestamps, so they are measured by GitHub's clock, not the runner's.
  let clock: { server: number; local: number } | undefined
  octokit.hook.after('request', (response) => {
    const date = Date.parse(String(response.headers.date ?? ''))
    if (Number.isFinite(date)) clock = { server: date, local: Date.now() }
  })
  const serverTime = () => (clock ? new Date(clock.server + (Date.now() - clock.local)) : undefined)

  const download = async (url: string, opts: DownloadOptions): Promise<Buffer> => {
    const deadline = AbortSignal.timeout(opts.timeoutMs ?? 300_000)
    let current = new URL(url)
    const origin = current.origin
    for (let hop = 0; hop < 6; hop++) {
      const headers: Record<string, string> = { ...opts.headers }
      // Storage URLs are pre-signed; a token must not travel to another host.
      if (current.origin !== origin) delete headers.authorization
      count++
      let response: Response
      try {
        response = await fetch(current, { headers, redirect: 'manual', signal: deadline })
      } catch (e) {
        if (deadline.aborted) throw new WharfError(GitHubErrorCode.Timeout, `downloading ${url} took too long`, { hint: 'retry later, or allow more time', cause: e })
        throw new WharfError(GitHubErrorCode.Unavailable, `downloading ${url}: ${(e as Error).message}`, { hint: 'check the network and retry', cause: e })
      }
      const location = response.headers.get('location')
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel()
        current = new URL(location, current)
        continue
      }
      if (!response.ok) {
        await response.body?.cancel()
        const code = response.status === 404 ? GitHubErrorCode.NotFound : response.status === 401 || response.status === 403 ? GitHubErrorCode.Forbidden : GitHubErrorCode.Unavailable
        throw new WharfError(code, `downloading ${url}: ${response.status} ${response.statusText}`, { hint: 'check the URL and that the token can read it' })
      }
      return readCapped(response, opts.maxBytes, url)
    }
    throw new WharfError(GitHubErrorCode.Unavailable, `downloading ${url}: too many redirects`, { hint: 'the server is redirecting in a loop; report it' })
  }

  return { octokit, log, requests: () => count, serverTime, download }
}

async function readCapped(response: Response, maxBytes: number, url: string): Promise<Buffer> {
  const tooLarge = () => new WharfError(GitHubErrorCode.TooLarge, `downloading ${url}: larger than the ${maxBytes} bytes allowed`, { hint: 'the file is too large to accept; check what produced it' })
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw tooLarge()
  }
  const chunks: Uint8Array[] = []
  let size = 0
  if (!response.body) return Buffer.alloc(0)
  const reader = response.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}
