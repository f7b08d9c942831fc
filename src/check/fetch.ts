/**
 * Fetching an artifact by URL under the registry's limits: https only (plain
 * http to loopback when policy allows), a size cap enforced while streaming,
 * a time limit, and each redirect held to the same rules.
 *
 * A submitter names the URL, so check must not become a way to reach what
 * only the registry's machine can reach: loopback, link-local, private and
 * unique-local addresses are refused (loopback only when the policy allows
 * it by name, for a local registry). The host is resolved once, every
 * address it resolves to is checked, and the connection goes to the checked
 * address, so a name that resolves differently a moment later gains nothing.
 */
import dns from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { Readable } from 'node:stream'
import { WharfError } from '../core/errors.js'
import { isLoopbackHost } from '../core/loopback.js'
import type { Fetch } from './types.js'

export interface FetchLimits {
  maxBytes: number
  timeoutMs: number
  allowHttpLoopback: boolean
}

const MAX_REDIRECTS = 5

/** The 8 groups of an IPv6 address (a trailing dotted IPv4 part allowed), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, '')
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const v4 = dotted[1]!.split('.').map(Number)
    text = `${text.slice(0, dotted.index)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`
  }
  const [head, tail, ...rest] = text.split('::')
  if (rest.length > 0) return undefined
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : [])
  const left = part(head)
  const right = part(tail)
  const fill = 8 - left.length - right.length
  if (tail === undefined ? fill !== 0 : fill < 1) return undefined
  const groups = [...left, ...Array<number>(tail === undefined ? 0 : fill).fill(0), ...right]
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

function ipv4Problem(address: string, allowLoopback: boolean): string | undefined {
  const [a, b] = address.split('.').map(Number) as [number, number]
  if (a === 127) return allowLoopback ? undefined : 'a loopback address'
  if (a === 0) return 'an unspecified address'
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address'
  if (a === 100 && b >= 64 && b <= 127) return 'a shared (carrier-grade NAT) address'
  if (a === 169 && b === 254) return 'a link-local address'
  if (a === 192 && b === 0 && address.split('.')[2] === '0') return 'a protocol-assignment address'
  if (a === 198 && (b === 18 || b === 19)) return 'a benchmarking address'
  if (a >= 224) return 'a multicast or reserved address'
  return undefined
}

/**
 * Why check may not connect to `address` (an IP address), or undefined:
 * loopback (unless allowed), unspecified, private, shared, link-local,
 * unique-local, multicast and reserved addresses, IPv4 inside IPv6
 * (mapped, compatible, NAT64, 6to4) judged as the IPv4 address it carries.
 */
export function addressProblem(address: string, allowLoopback: boolean): string | undefined {
  const family = net.isIP(address.replace(/%.*$/, ''))
  if (family === 4) return ipv4Problem(address, allowLoopback)
  if (family !== 6) return 'not an IP address'
  const g = ipv6Groups(address)
  if (!g) return 'not an IP address'
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0)
  if (zeros(8)) return 'an unspecified address'
  if (zeros(7) && g[7] === 1) return allowLoopback ? undefined : 'a loopback address'
  if (zeros(5) && g[5] === 0xffff) return ipv4Problem(v4(g[6]!, g[7]!), allowLoopback)
  if (zeros(6)) return ipv4Problem(v4(g[6]!, g[7]!), allowLoopback)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4Problem(v4(g[6]!, g[7]!), allowLoopback)
  if (g[0] === 0x2002) return ipv4Problem(v4(g[1]!, g[2]!), allowLoopback)
  if ((g[0]! & 0xffc0) === 0xfe80) return 'a link-local address'
  if ((g[0]! & 0xffc0) === 0xfec0) return 'a site-local address'
  if ((g[0]! & 0xfe00) === 0xfc00) return 'a unique-local address'
  if ((g[0]! & 0xff00) === 0xff00) return 'a multicast address'
  return undefined
}

const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, '')

/** Why `url` may not be fetched under the policy, or undefined. A host given as an address is judged here; a name, when it resolves. */
export function urlProblem(url: string, allowHttpLoopback: boolean): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `"${url}" is not a URL`
  }
  const host = bareHost(parsed.hostname)
  if (net.isIP(host)) {
    const problem = addressProblem(host, allowHttpLoopback)
    if (problem) return `"${url}" points at ${host}, ${problem}; artifacts are fetched from public addresses only`
  } else if (/^localhost\.?$/i.test(host) && !allowHttpLoopback) {
    return `"${url}" points at localhost; artifacts are fetched from public addresses only`
  }
  if (parsed.protocol === 'https:') return undefined
  if (parsed.protocol === 'http:' && allowHttpLoopback && isLoopbackHost(parsed.hostname)) return undefined
  if (parsed.protocol === 'http:') return `"${url}" uses plain http; only https is allowed${allowHttpLoopback ? ' (and http to loopback hosts)' : ''}`
  return `"${url}" uses ${parsed.protocol}; only https is allowed`
}

/**
 * A fetch that connects only to public addresses (loopback too when
 * `allowLoopback`): it resolves the host once, refuses when any address is
 * not public, and connects to the address it checked. Redirects are
 * returned, not followed (fetchLimited follows them through here again).
 */
export function guardedFetch(allowLoopback: boolean): Fetch {
  return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
    const host = bareHost(url.hostname)
    const addresses = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await dns.promises.lookup(host, { all: true, verbatim: true })
    if (addresses.length === 0) throw new Error(`${host} resolves to no address`)
    for (const { address } of addresses) {
      const problem = addressProblem(address, allowLoopback)
      if (problem) throw new WharfError('FETCH_REFUSED', `${host} resolves to ${address}, ${problem}; artifacts are fetched from public addresses only`, { hint: 'host the artifact at a public https URL, such as a release asset' })
    }
    const chosen = addresses[0]!
    const client = url.protocol === 'https:' ? https : http
    return new Promise<Response>((resolve, reject) => {
      const request = client.get(
        url,
        {
          signal: init?.signal ?? undefined,
          headers: Object.fromEntries(new Headers(init?.headers).entries()),
          // A connection of its own, closed after the answer: a kept-alive socket would hold a CLI's process open.
          agent: false,
          lookup: ((_host: string, options: { all?: boolean }, done: (...args: unknown[]) => void) =>
            options.all ? done(null, [chosen]) : done(null, chosen.address, chosen.family)) as unknown as net.LookupFunction,
        },
        (res) => {
          const headers = new Headers()
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v)
          }
          const status = res.statusCode ?? 502
          const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>)
          resolve(new Response(body, { status, headers }))
        },
      )
      request.on('error', reject)
    })
  }) as Fetch
}

/** Fetches `url` under `limits`; `fetch` undefined means guardedFetch under the policy's loopback rule. */
export async function fetchLimited(fetchWith: Fetch | undefined, url: string, limits: FetchLimits): Promise<Uint8Array> {
  const fetch = fetchWith ?? guardedFetch(limits.allowHttpLoopback)
  const signal = AbortSignal.timeout(limits.timeoutMs)
  let current = url
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const problem = urlProblem(current, limits.allowHttpLoopback)
    if (problem) throw new WharfError('FETCH_REFUSED', problem, { hint: 'host the artifact at an https URL, such as a release asset' })
    let response: Response
    try {
      response = await fetch(current, { redirect: 'manual', signal })
    } catch (e) {
      if (e instanceof WharfError) throw e
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
