/**
 * The one way the client talks HTTP: a bounded pool of requests in flight,
 * bounded retries with backoff for what may pass (network errors, 5xx, 429),
 * redirects followed by hand (release assets answer with one) and held to
 * http(s), a size cap enforced while the body streams, conditional requests
 * (If-None-Match), reads of a file from an offset on (Range), and a count of
 * every request sent. `fetch` is passed in, so a caller can route, record or
 * count requests its own way.
 */
import { WharfError } from '../core/errors.js'

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export interface HttpOptions {
  fetch?: FetchLike
  /** Requests in flight at once (default 16). */
  concurrency?: number
  /** Attempts after the first when a request fails in a way that may pass (default 2). */
  retries?: number
  /** Wait before the first retry; each later one waits three times longer (default 150 ms). */
  retryDelayMs?: number
  /** Time limit of one attempt, headers and body (default 30 s). */
  timeoutMs?: number
}

export interface GetOptions {
  /** The ETag of the copy the caller holds: a 304 answer comes back without a body. */
  etag?: string
  /** Refuse a body longer than this many bytes (default 64 MiB). */
  maxBytes?: number
  /** Called as body bytes arrive, for progress. */
  onBytes?: (count: number) => void
  /**
   * Ask for the bytes from this offset on (`Range: bytes=<from>-`; fetch
   * then asks for no content coding). A host that honours it answers 206 and
   * `from`; one that ignores it answers 200 with the whole file; 416 when the
   * file is shorter now.
   */
  from?: number
}

export interface HttpAnswer {
  /** 200 with `bytes`, 206 with the `bytes` from `from` on, 304 when `etag` still holds, or the 4xx the server sent (404 for a missing file). */
  status: number
  /** The URL that answered, after redirects. */
  url: string
  bytes?: Buffer
  etag?: string
  /** With 206: the offset of `bytes` in the file, from Content-Range (absent when it names no single range). */
  from?: number
}

export interface Http {
  get(url: string, options?: GetOptions): Promise<HttpAnswer>
  /** Requests sent so far, each redirect hop and retry counted. */
  readonly requests: number
  /** Body bytes received so far. */
  readonly bytes: number
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024
const MAX_REDIRECTS = 5

/** A counting semaphore: at most `limit` callers inside at once, the rest queued in order. */
function createPool(limit: number) {
  let active = 0
  const waiting: (() => void)[] = []
  return async function run<T>(work: () => Promise<T>): Promise<T> {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
    else active++
    try {
      return await work()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else active--
    }
  }
}

/** A failure that another attempt may not meet (network error, 5xx, 429). */
class Transient extends Error {}

const origin = (url: string) => {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (e as Error).message
}

export function createHttp(options: HttpOptions = {}): Http {
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const pool = createPool(options.concurrency ?? 16)
  const retries = options.retries ?? 2
  const delay = options.retryDelayMs ?? 150
  const timeoutMs = options.timeoutMs ?? 30_000
  let requests = 0
  let received = 0

  async function readBody(res: Response, url: string, max: number, onBytes?: (n: number) => void): Promise<Buffer> {
    const declared = Number(res.headers.get('content-length') ?? Number.NaN)
    const tooLarge = () =>
      new WharfError('TOO_LARGE', `${url} is larger than the ${max} bytes expected of it`, { hint: 'the server sent more than the registry says the file holds; try a mirror' })
    if (declared > max) {
      await res.body?.cancel()
      throw tooLarge()
    }
    const chunks: Buffer[] = []
    let total = 0
    for await (const chunk of res.body ?? []) {
      total += chunk.length
      if (total > max) throw tooLarge()
      chunks.push(Buffer.from(chunk))
      received += chunk.length
      onBytes?.(chunk.length)
    }
    return Buffer.concat(chunks)
  }

  async function attempt(url: string, get: GetOptions): Promise<HttpAnswer> {
    let current = url
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(current)?.[1]?.toLowerCase()
      if (scheme !== 'http' && scheme !== 'https') {
        throw new WharfError('FETCH_REFUSED', `refusing to fetch ${current}: only http and https URLs are followed`, { hint: 'the registry or a redirect pointed somewhere a client must not go' })
      }
      const signal = AbortSignal.timeout(timeoutMs)
      const headers: Record<string, string> = { 'user-agent': 'wharf' }
      if (get.etag) headers['if-none-match'] = get.etag
      // Fetch then asks for no content coding (Accept-Encoding: identity), so offsets count the file's own bytes.
      if (get.from !== undefined) headers.range = `bytes=${get.from}-`
      let res: Response
      requests++
      try {
        res = await fetchImpl(current, { redirect: 'manual', signal, headers })
      } catch (e) {
        // A fetch that refuses the address (guardedFetch) is no network trouble: asking again changes nothing.
        if (e instanceof WharfError && e.code === 'FETCH_REFUSED') throw e
        throw new Transient(signal.aborted ? `no answer within ${timeoutMs} ms` : networkReason(e))
      }
      const location = res.headers.get('location')
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && location) {
        await res.body?.cancel()
        // The server's header is data: one that is no URL ends this source, and the next is tried.
        if (!URL.canParse(location, current)) {
          throw new WharfError('FETCH_FAILED', `${current} redirected to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`, { hint: 'the server is misconfigured; try a mirror' })
        }
        current = new URL(location, current).toString()
        continue
      }
      if (res.status === 304) {
        await res.body?.cancel()
        return { status: 304, url: current, ...(get.etag ? { etag: get.etag } : {}) }
      }
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel()
        throw new Transient(`HTTP ${res.status}`)
      }
      if (!res.ok) {
        await res.body?.cancel()
        return { status: res.status, url: current }
      }
      const partial = res.status === 206
      const from = partial ? rangeStart(res.headers.get('content-range')) : undefined
      try {
        const bytes = await readBody(res, current, get.maxBytes ?? DEFAULT_MAX_BYTES, get.onBytes)
        const etag = res.headers.get('etag')
        return { status: partial ? 206 : 200, url: current, bytes, ...(etag ? { etag } : {}), ...(from !== undefined ? { from } : {}) }
      } catch (e) {
        if (e instanceof WharfError) throw e
        throw new Transient(signal.aborted ? `no complete answer within ${timeoutMs} ms` : networkReason(e))
      }
    }
    throw new WharfError('FETCH_FAILED', `${url} redirected more than ${MAX_REDIRECTS} times`, { hint: 'the server is misconfigured; try a mirror' })
  }

  return {
    get requests() {
      return requests
    },
    get bytes() {
      return received
    },
    get(url, get = {}) {
      return pool(async () => {
        let last = ''
        for (let i = 0; i <= retries; i++) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, delay * 3 ** (i - 1)))
          try {
            return await attempt(url, get)
          } catch (e) {
            if (!(e instanceof Transient)) throw e
            last = e.message
          }
        }
        throw new WharfError('UNREACHABLE', `cannot reach ${origin(url)} (${last}, ${retries + 1} attempts)`, {
          hint: 'check the URL and your connection, or add a mirror with --mirror URL',
        })
      })
    },
  }
}

/** The first byte's offset in `Content-Range: bytes <first>-<last>/<size>`, or undefined. */
function rangeStart(header: string | null): number | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? '')
  const first = match ? Number(match[1]) : Number.NaN
  return Number.isSafeInteger(first) ? first : undefined
}

/** `base` and a path of the API joined, each segment percent-encoded (a static host decodes them back to file names). */
export function urlFor(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.split('/').map(encodeURIComponent).join('/')}`
}
