/**
 * Serves the generated API directory as a static host would: names decoded
 * from the URL (`run%3Acalc%2Fcalculator` finds `run:calc/calculator`),
 * content types, strong ETags with If-None-Match, and gzip. Files are held in
 * memory, within CACHE_LIMITS, until the next build, since only this process writes them.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { securityHeaders } from './http.js'
import { createLru } from './lru.js'

interface Cached {
  body: Buffer
  gzip: Buffer | undefined
  etag: string
  type: string
  /** Answer headers, made once per file rather than per request. */
  plain: Record<string, string | number>
  zipped: Record<string, string | number> | undefined
  notModified: Record<string, string | number>
}

const TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.wasm': 'application/wasm',
  '.wit': 'text/plain; charset=utf-8',
  '.sig': 'application/octet-stream',
  '.crate': 'application/gzip',
}

const COMPRESSIBLE = /^(application\/(json|xml)|text\/|image\/svg)/
/** Below this, gzip costs more than it saves. */
const GZIP_MIN_BYTES = 256
/** A file larger than this is read for each request rather than held. */
const MAX_CACHED_BYTES = 1024 * 1024
/**
 * What the caches may hold: files by path, paths that name no file (a miss
 * costs a stat to find again, so few are kept), and request targets already
 * answered (the fast path) by the exact target. Each is bounded by entries
 * and by bytes (keys included), least recently used first out.
 */
export const CACHE_LIMITS = {
  files: { maxEntries: 20_000, maxBytes: 32 * 1024 * 1024 },
  misses: { maxEntries: 4096, maxBytes: 4 * 1024 * 1024 },
  targets: { maxEntries: 20_000, maxBytes: 32 * 1024 * 1024 },
} as const
/** What an entry costs besides its key and bytes: the Map slot and the header objects. */
const ENTRY_OVERHEAD = 256

const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * Parts of the output that hold data, never pages: a file there is JSON
 * whatever it is called, since a version (`1.0.0-a.html`) is part of a
 * document's name and the publisher chooses it.
 */
const DATA_DIRS = ['api/', 'index/', 'snapshot/', '.well-known/']

/**
 * The content type of a generated file. Under the data directories it is
 * JSON, whatever the name; the Cargo index is JSON lines (plain text). Elsewhere
 * (pages, styles, badges) the extension decides, and a file without a known
 * one is JSON.
 */
export function contentTypeFor(relative: string): string {
  if (relative === 'cargo/config.json') return JSON_TYPE
  if (relative.startsWith('cargo/')) return 'text/plain; charset=utf-8'
  if (DATA_DIRS.some((dir) => relative.startsWith(dir))) return JSON_TYPE
  return TYPES[path.extname(relative).toLowerCase()] ?? JSON_TYPE
}

/**
 * The file a URL path names under `root`, or undefined when it names nothing
 * that may be served: every segment is decoded once and must not be empty,
 * `.`, `..`, hidden (but `.well-known`), or hold a NUL or backslash, so no request can leave the root.
 */
export function resolveUnder(root: string, urlPath: string): string | undefined {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return undefined
  }
  const parts = decoded.split('/').filter((p, i) => !(i === 0 && p === ''))
  if (parts.length === 0) return undefined
  for (const part of parts) {
    // Hidden names stay private (build state), except the one well-known directory clients look in.
    if (part === '' || part === '.' || part === '..' || (part.startsWith('.') && part !== '.well-known') || /[\0\\]/.test(part)) return undefined
  }
  const file = path.resolve(root, ...parts)
  return file.startsWith(root + path.sep) ? file : undefined
}

/**
 * The one byte range a GET asks for (`Range: bytes=a-b`, `a-` or `-n`), as
 * first and last offsets, as a static host serves it: a reader holding the
 * start of a file that only grows at its end (a feed page) asks for the rest.
 * Undefined (the whole file) for no range, several ranges, a range of
 * another unit, or an If-Range that no longer holds; 'unsatisfiable' for a
 * range that starts past the end.
 */
function requestedRange(req: IncomingMessage, entry: Cached): [number, number] | 'unsatisfiable' | undefined {
  const header = req.headers.range
  if (header === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return undefined
  const ifRange = req.headers['if-range']
  if (ifRange !== undefined && ifRange !== entry.etag) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return undefined
  const size = entry.body.length
  if (match[1] === '') {
    const suffix = Number(match[2])
    return suffix === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size - 1]
  }
  const first = Number(match[1])
  const last = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  if (first >= size) return 'unsatisfiable'
  return last < first ? undefined : [first, last]
}

export interface StaticFiles {
  /**
   * Answers from the directory; false when there is no such file (the caller answers 404).
   * Call it only once no server route claimed the path: the request target is then remembered for `serveHot`.
   */
  serve(req: IncomingMessage, res: ServerResponse, urlPath: string): Promise<boolean>
  /** Answers at once, with no parsing, a request target `serve` already answered from a file; else false (and 0). */
  serveHot(req: IncomingMessage, res: ServerResponse): number
  /** Forgets what is cached: call after every build. */
  invalidate(): void
  /** What the caches hold now (never more than CACHE_LIMITS). */
  stats(): Record<keyof typeof CACHE_LIMITS, { entries: number; bytes: number }>
  root: string
}

export function createStaticFiles(root: string): StaticFiles {
  const absolute = path.resolve(root)
  const newFiles = () => createLru<string, Cached>(CACHE_LIMITS.files)
  const newMisses = () => createLru<string, true>(CACHE_LIMITS.misses)
  const newTargets = () => createLru<string, Cached>(CACHE_LIMITS.targets)
  const weigh = (key: string, entry?: Cached) => key.length * 2 + ENTRY_OVERHEAD + (entry ? entry.body.length + (entry.gzip?.length ?? 0) : 0)
  let cache = newFiles()
  let misses = newMisses()
  const load = async (file: string): Promise<Cached | undefined> => {
    let body: Buffer
    try {
      const stat = await fs.promises.stat(file)
      if (!stat.isFile()) return undefined
      body = await fs.promises.readFile(file)
    } catch {
      return undefined
    }
    const type = contentTypeFor(path.relative(absolute, file).split(path.sep).join('/'))
    const gzip = COMPRESSIBLE.test(type) && body.length >= GZIP_MIN_BYTES ? gzipSync(body) : undefined
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    const base = { 'content-type': type, etag, 'cache-control': 'public, max-age=0, must-revalidate', vary: 'Accept-Encoding', 'accept-ranges': 'bytes', ...securityHeaders(type) }
    return {
      body,
      gzip,
      type,
      etag,
      plain: { ...base, 'content-length': body.length },
      zipped: gzip ? { ...base, 'content-encoding': 'gzip', 'content-length': gzip.length } : undefined,
      notModified: base,
    }
  }
  let hot = newTargets()
  /** Writes the answer for a file; returns the status sent. */
  const send = (req: IncomingMessage, res: ServerResponse, entry: Cached): number => {
    const match = req.headers['if-none-match']
    if (match !== undefined && match.split(/\s*,\s*/).some((tag) => tag === entry.etag || tag === `W/${entry.etag}` || tag === '*')) {
      res.writeHead(304, entry.notModified)
      res.end()
      return 304
    }
    const range = requestedRange(req, entry)
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...entry.notModified, 'content-range': `bytes */${entry.body.length}`, 'content-length': 0 })
      res.end()
      return 416
    }
    if (range) {
      const [first, last] = range
      res.writeHead(206, { ...entry.plain, 'content-range': `bytes ${first}-${last}/${entry.body.length}`, 'content-length': last - first + 1 })
      res.end(req.method === 'HEAD' ? undefined : entry.body.subarray(first, last + 1))
      return 206
    }
    const gzip = entry.zipped !== undefined && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')
    res.writeHead(200, gzip ? entry.zipped : entry.plain)
    res.end(req.method === 'HEAD' ? undefined : gzip ? entry.gzip : entry.body)
    return 200
  }
  return {
    root: absolute,
    invalidate() {
      cache = newFiles()
      misses = newMisses()
      hot = newTargets()
    },
    stats: () => ({
      files: { entries: cache.size, bytes: cache.bytes },
      misses: { entries: misses.size, bytes: misses.bytes },
      targets: { entries: hot.size, bytes: hot.bytes },
    }),
    serveHot(req, res) {
      const entry = hot.get(req.url ?? '')
      return entry ? send(req, res, entry) : 0
    },
    async serve(req, res, urlPath) {
      const file = resolveUnder(absolute, urlPath)
      if (!file) return false
      const generation = cache
      if (misses.has(file)) return false
      let entry = cache.get(file)
      if (entry === undefined) {
        const loaded = await load(file)
        // A miss is remembered too, but nothing is across a build that ran meanwhile.
        if (generation !== cache) {
          if (!loaded) return false
        } else if (!loaded) {
          misses.set(file, true, weigh(file))
          return false
        } else if (loaded.body.length <= MAX_CACHED_BYTES) cache.set(file, loaded, weigh(file, loaded))
        entry = loaded
      }
      if (generation === cache && entry.body.length <= MAX_CACHED_BYTES) {
        const target = req.url ?? ''
        // Held by both caches: each counts the bytes, so neither bound is exceeded whichever forgets first.
        hot.set(target, entry, weigh(target, entry))
      }
      send(req, res, entry)
      return true
    },
  }
}
