/**
 * Fetching an artifact by URL under the registry's limits: https only (plain
 * http to loopback when policy allows), a size cap enforced while streaming,
 * a time limit, and each redirect held to the same rules.
 */
import { WharfError } from '../core/errors.js'
import type { Fetch } from './types.js'

export interface FetchLimits {
  maxBytes: number
  timeoutMs: number
  allowHttpLoopback: boolean
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i
const MAX_REDIRECTS = 5

/** Why `url` may not be fetched under the policy, or undefined. */
export function urlProblem(url: string, allowHttpLoopback: boolean): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `"${url}" is not a URL`
  }
  if (parsed.protocol === 'https:') return undefined
  if (parsed.protocol === 'http:' && allowHttpLoopback && LOOPBACK.test(parsed.hostname)) return undefined
  if (parsed.protocol === 'http:') return `"${url}" uses plain http; only https is allowed${allowHttpLoopback ? ' (and http to loopback hosts)' : ''}`
  return `"${url}" uses ${parsed.protocol}; only https is allowed`
}

/** Fetches `url` under `limits`; `fetch` undefined means check's own default. */
export async function fetchLimited(fetchWith: Fetch | undefined, url: string, limits: FetchLimits): Promise<Uint8Array> {
  const fetch = fetchWith ?? globalThis.fetch
  const signal = AbortSignal.timeout(limits.timeoutMs)
  let current = url
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const problem = urlProblem(current, limits.allowHttpLoopback)
    if (problem) throw new WharfError('FETCH_REFUSED', problem, { hint: 'host the artifact at an https URL, such as a release asset' })
    let response: Response
    try {
      response = await fetch(current, { redirect: 'manual', signal })
    } catch (e) {
      const why = signal.aborted ? `no answer within ${limits.timeoutMs} ms` : (e as Error).message
      throw new WharfError('FETCH_FAILED', `fetching ${current} failed: ${why}`, { hint: 'check that the URL is public and reachable' })
    }
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      current = new URL(response.headers.get('location')!, current).toString()
      await response.body?.cancel()
      continue
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new WharfError('FETCH_FAILED', `fetching ${current} answered HTTP ${response.status}`, { hint: 'check that the URL is public and points at the artifact' })
    }
    return readCapped(response, limits.maxBytes, current)
  }
  throw new WharfError('FETCH_FAILED', `fetching ${url} redirected more than ${MAX_REDIRECTS} times`, { hint: 'link the artifact directly' })
}

async function readCapped(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const tooBig = () =>
    new WharfError('FETCH_TOO_LARGE', `${url} is larger than the ${maxBytes}-byte limit`, { hint: 'publish a smaller artifact, or ask the maintainers to raise the limit' })
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw tooBig()
  }
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body ?? []) {
    total += chunk.length
    if (total > maxBytes) throw tooBig()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}
