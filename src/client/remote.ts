/**
 * The other side of the routes `wharf serve` answers: what `wharf publish
 * --registry`, `search`, `info`, `list`, `stats` and `health` send. Any
 * registry with the Run 2.0 API answers them, wharf's or not.
 */
import { codeForStatus, WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { isLoopbackHost } from '../core/loopback.js'
import type { Dependency, VersionRecord } from '../core/types.js'

export const DEFAULT_REGISTRY = 'http://localhost:8080'

/** A version as the Run 2.0 API answers it (DESIGN §6), wharf's own fields after. */
export interface PackageView {
  name: string
  version: string
  description: string
  license?: string
  size: number
  sha256: string
  download_url: string
  wit_url?: string
  dependencies: { name: string; version: string; optional: boolean }[]
  targets: string[]
  repository?: string
  published_at: number
  [more: string]: unknown
}

export interface RemoteOptions {
  url: string
  fetch?: typeof globalThis.fetch
}

const base = (url: string) => url.replace(/\/+$/, '')

async function call(options: RemoteOptions, path: string, init?: RequestInit): Promise<Response> {
  const target = `${base(options.url)}${path}`
  try {
    return await (options.fetch ?? globalThis.fetch)(target, init)
  } catch (e) {
    throw new WharfError('IO', `cannot reach the registry at ${base(options.url)}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`, {
      hint: 'start one with `wharf serve`, or pass --registry URL (or set WHARF_REGISTRY)',
    })
  }
}

/** A registry's error answer as a WharfError: its code, message and hint when it sent them. */
async function failure(res: Response, what: string): Promise<WharfError> {
  let body: { error?: unknown; code?: unknown; hint?: unknown; errors?: { detail?: unknown }[] } = {}
  try {
    body = (await res.json()) as typeof body
  } catch {
    // Not JSON: the status says enough.
  }
  const code = codeForStatus(res.status, body.code)
  const message = typeof body.error === 'string' ? body.error : typeof body.errors?.[0]?.detail === 'string' ? body.errors[0].detail : `HTTP ${res.status}`
  const retry = res.headers.get('retry-after')
  return new WharfError(code, `${what}: ${message}`, {
    hint: typeof body.hint === 'string' ? body.hint : retry ? `try again in ${retry} s` : res.status === 401 ? 'pass --token with a token the registry knows' : undefined,
  })
}

async function getJson<T>(options: RemoteOptions, path: string, what: string): Promise<T> {
  const res = await call(options, path)
  if (!res.ok) throw await failure(res, what)
  return (await res.json()) as T
}

export const encodeName = (name: string) => encodeURIComponent(name)

export function health(options: RemoteOptions): Promise<boolean> {
  return call(options, '/health').then(
    async (res) => {
      await res.body?.cancel()
      return res.ok
    },
    () => false,
  )
}

/**
 * `GET /api/v1/search` on a server; a static host has no such route (404), so
 * there the static search index is read and ranked the way the server ranks.
 */
export async function search(options: RemoteOptions, query: string, limit = 20, offset = 0): Promise<{ packages: PackageView[]; total: number }> {
  const res = await call(options, `/api/v1/search?q=${encodeURIComponent(query)}&limit=${limit}&offset=${offset}`)
  if (res.status === 404) {
    await res.body?.cancel()
    return staticSearch(options, query, limit, offset)
  }
  if (!res.ok) throw await failure(res, `search "${query}"`)
  return (await res.json()) as { packages: PackageView[]; total: number }
}

interface SearchIndexEntry {
  name: string
  description: string
  keywords?: string[]
  latest: string | null
  crate?: string
}

const searchIndexes = new WeakMap<RemoteOptions, Promise<SearchIndexEntry[]>>()

/** Every package line of the static search index (`api/v1/search-index/`), read once per options object. */
function staticSearchIndex(options: RemoteOptions): Promise<SearchIndexEntry[]> {
  let loaded = searchIndexes.get(options)
  if (!loaded) {
    loaded = (async () => {
      const index = await getJson<{ shards?: { shard: string }[] }>(options, '/api/v1/search-index/index.json', 'the search index')
      const shards = await Promise.all(
        (index.shards ?? []).filter((s) => /^[0-9a-f]{1,64}$/.test(s.shard)).map((s) => getJson<{ packages?: SearchIndexEntry[] }>(options, `/api/v1/search-index/${s.shard}.json`, `search shard ${s.shard}`)),
      )
      return shards.flatMap((s) => s.packages ?? [])
    })()
    searchIndexes.set(options, loaded)
  }
  return loaded
}

/** Ranks as `wharf serve` does: every word in the name, description, keywords or crate name; exact names first. */
async function staticSearch(options: RemoteOptions, query: string, limit: number, offset: number): Promise<{ packages: PackageView[]; total: number }> {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean)
  const q = terms.join(' ')
  const hits = (await staticSearchIndex(options))
    .filter((p) => p.latest !== null)
    .map((p) => {
      const name = p.name.toLowerCase()
      const haystack = [name, p.description.toLowerCase(), ...(p.keywords ?? []), p.crate?.toLowerCase() ?? ''].join('\n')
      if (!terms.every((t) => haystack.includes(t))) return undefined
      const score = q === '' ? 0 : name === q || name.endsWith(`:${q}`) || name.endsWith(`/${q}`) ? 3 : name.includes(q) ? 2 : 1
      return { p, score }
    })
    .filter((h) => h !== undefined)
    .sort((a, b) => b.score - a.score || (a.p.name < b.p.name ? -1 : a.p.name > b.p.name ? 1 : 0))
  const page = hits.slice(offset, offset + limit)
  const packages = await Promise.all(page.map(({ p }) => metadata(options, p.name, p.latest!)))
  return { packages, total: hits.length }
}

export function stats(options: RemoteOptions): Promise<{ package_count: number; version_count: number; download_count: number; uptime_percent: number }> {
  return getJson(options, '/api/v1/stats', 'stats')
}

/** A package's versions; a wharf registry also names the yanked ones and the one a resolver picks (a Run 2.0 registry may not). */
export function versions(options: RemoteOptions, name: string): Promise<{ name: string; versions: string[]; yanked?: unknown; latest?: unknown }> {
  return getJson(options, `/api/v1/packages/${encodeName(name)}/versions`, name)
}

export function metadata(options: RemoteOptions, name: string, version: string): Promise<PackageView> {
  return getJson(options, `/api/v1/packages/${encodeName(name)}/${encodeURIComponent(version)}`, `${name}@${version}`)
}

/** Every package, page by page through search. */
export async function listAll(options: RemoteOptions): Promise<PackageView[]> {
  const all: PackageView[] = []
  for (let offset = 0; ; offset += 100) {
    const page = await search(options, '', 100, offset)
    all.push(...page.packages)
    if (page.packages.length === 0 || all.length >= page.total) return all
  }
}

export interface RemotePublish {
  token: string
  name: string
  version: string
  bytes: Uint8Array
  filename?: string
  description?: string
  license?: string
  repository?: string
  witUrl?: string
  dependencies?: Dependency[]
  targets?: string[]
  /** A record signed by the publisher; without it the registry signs with its own key. */
  record?: VersionRecord
}

/** Where a token may be sent: over https, or over plain http to this machine by address or as localhost (a local `wharf serve`). */
function tokenTransportProblem(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return `${url} is not a URL`
  }
  if (parsed.protocol === 'https:') return undefined
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return undefined
  return `${url} is not https, and a publish token would cross the network in the clear`
}

/** `POST /api/v1/packages` as the Run 2.0 client sends it; returns the registry's answer for the new version. */
export async function publishRemote(options: RemoteOptions, p: RemotePublish): Promise<PackageView> {
  const problem = tokenTransportProblem(options.url)
  if (problem) throw new WharfError('USAGE', problem, { hint: 'publish to the registry over https (plain http only to localhost or 127.0.0.1)' })
  const form = new FormData()
  form.append('name', p.name)
  form.append('version', p.version)
  form.append('description', p.description ?? '')
  if (p.license) form.append('license', p.license)
  if (p.repository) form.append('repository', p.repository)
  if (p.witUrl) form.append('wit_url', p.witUrl)
  if (p.dependencies?.length) form.append('dependencies', JSON.stringify(p.dependencies.map((d) => ({ name: d.name, version: d.req, optional: d.optional }))))
  if (p.targets?.length) form.append('targets', JSON.stringify(p.targets))
  if (p.record) form.append('record', JSON.stringify(p.record))
  form.append('sha256', sha256Hex(p.bytes))
  form.append('component', new Blob([new Uint8Array(p.bytes)], { type: 'application/wasm' }), p.filename ?? `${p.name}.wasm`)
  const res = await call(options, '/api/v1/packages', { method: 'POST', headers: { authorization: `Bearer ${p.token}` }, body: form })
  if (res.status !== 201) throw await failure(res, `publishing ${p.name}@${p.version}`)
  return (await res.json()) as PackageView
}
