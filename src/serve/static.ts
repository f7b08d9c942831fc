/**
 * Serves the generated API directory as a static host would: names decoded
 * from the URL (`run%3Acalc%2Fcalculator` finds `run:calc/calculator`),
 * content types, strong ETags with If-None-Match, and gzip. Files are held in
 * memory until the next build, since only this process writes them.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { securityHeaders } from './http.js'

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
const MAX_CACHED_BYTES = 1024 * 1024
/** Request targets remembered for the fast path; past this the memory is dropped and refilled. */
const MAX_HOT_TARGETS = 20_000

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
  root: string
}

export function createStaticFiles(root: string): StaticFiles {
  const absolute = path.resolve(root)
  let cache = new Map<string, Cached | null>()
  const load = async (file: string): Promise<Cached | null> => {
    let body: Buffer
    try {
      const stat = await fs.promises.stat(file)
      if (!stat.isFile()) return null
      body = await fs.promises.readFile(file)
    } catch {
      return null
    }
    const type = contentTypeFor(path.relative(absolute, file).split(path.sep).join('/'))
    const gzip = COMPRESSIBLE.test(type) && body.length >= GZIP_MIN_BYTES ? gzipSync(body) : undefined
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    const base = { 'content-type': type, etag, 'cache-control': 'public, max-age=0, must-revalidate', vary: 'Accept-Encoding', ...securityHeaders(type) }
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
  let hot = new Map<string, Cached>()
  /** Writes the answer for a file; returns the status sent. */
  const send = (req: IncomingMessage, res: ServerResponse, entry: Cached): number => {
    const match = req.headers['if-none-match']
    if (match !== undefined && match.split(/\s*,\s*/).some((tag) => tag === entry.etag || tag === `W/${entry.etag}` || tag === '*')) {
      res.writeHead(304, entry.notModified)
      res.end()
      return 304
    }
    const gzip = entry.zipped !== undefined && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')
    res.writeHead(200, gzip ? entry.zipped : entry.plain)
    res.end(req.method === 'HEAD' ? undefined : gzip ? entry.gzip : entry.body)
    return 200
  }
  return {
    root: absolute,
    invalidate() {
      cache = new Map()
      hot = new Map()
    },
    serveHot(req, res) {
      const entry = hot.get(req.url ?? '')
      return entry ? send(req, res, entry) : 0
    },
    async serve(req, res, urlPath) {
      const file = resolveUnder(absolute, urlPath)
      if (!file) return false
      const generation = cache
      let entry = cache.get(file)
      if (entry === undefined) {
        entry = await load(file)
        // A miss is remembered too (404s are cheap), but not across a build that ran meanwhile.
        if (generation === cache && (!entry || entry.body.length <= MAX_CACHED_BYTES)) cache.set(file, entry)
      }
      if (!entry) return false
      if (generation === cache && entry.body.length <= MAX_CACHED_BYTES) {
        if (hot.size >= MAX_HOT_TARGETS) hot = new Map()
        hot.set(req.url ?? '', entry)
      }
      send(req, res, entry)
      return true
    },
  }
}
