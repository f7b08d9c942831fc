/**
 * `wharf serve`: the local registry (DESIGN §7). Static files from the
 * generated API, plus the routes that need a server: Run 2.0 search,
 * downloads and publish; Cargo's publish API; the WasmRust REST routes; and
 * two pages for people. Every write goes through the pipeline in pipeline.ts.
 */
import fs from 'node:fs'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { primaryArtifact } from '../api/documents.js'
import { WharfError } from '../core/errors.js'
import { artifactPath } from '../store/index.js'
import { createRateLimiter } from './rate-limit.js'
import { crashPoint } from '../publish/index.js'
import { checkDeclaredLength, clientKey, decodeSegment, drain, errorBody, readBody, refuseBody, sendJson, statusFor, tooLarge } from './http.js'
import { readMultipart } from './multipart.js'
import { browsePage, homePage } from './pages.js'
import { cratePackageId, parseCargoPublish, parseComponentForm } from './records.js'
import { openRegistry, type Registry } from './registry.js'
import { readPackageView } from './views.js'
import { createWasmRustRoutes, envelope } from './wasmrust.js'
import type { BuildApi } from './build.js'
import type { ServeConfig } from './config.js'

export { configFromEnv, parseTokens, DEFAULTS, type ServeConfig, type NamespaceToken } from './config.js'
export { CRASH_STEPS, type CrashStep } from '../publish/index.js'
export { parseCargoPublish, componentRecord } from './records.js'
export { DEFAULT_REGISTRY, publishRemote, search, stats, health, versions, metadata, listAll, type RemotePublish, type RemoteOptions } from './remote.js'

export interface RunningServer {
  /** The base URL clients use (REGISTRY_URL, or http://localhost:PORT). */
  url: string
  port: number
  adminToken: string
  /** True when this start generated the admin token (and stored it in the data dir). */
  generatedToken: boolean
  adminTokenFile: string
  registry: Registry
  close(): Promise<void>
}

/** A log sink that batches lines, so logging each request costs one write per batch rather than per line. */
function batchedLog(write: (text: string) => void): { log: (line: string) => void; flush: () => void } {
  let pending: string[] = []
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    if (pending.length === 0) return
    const text = `${pending.join('\n')}\n`
    pending = []
    write(text)
  }
  return {
    log(line) {
      pending.push(line)
      if (pending.length >= 256) flush()
      else timer ??= setTimeout(flush, 50)
    },
    flush() {
      if (timer) clearTimeout(timer)
      flush()
    },
  }
}

function intParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name)
  if (raw === null || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw Object.assign(new WharfError('INVALID_INPUT', `"${name}" must be a whole number`, { hint: `e.g. ${name}=${fallback}` }), { field: name })
  return Math.min(Number(raw), max)
}

/** Splits `/packages/<name>/<version>/artifact.wasm`, with the name encoded or not. */
function parseDownloadPath(pathname: string): { name: string; version: string } | undefined {
  const rest = pathname.slice('/packages/'.length, -'/artifact.wasm'.length)
  let decoded: string
  try {
    decoded = rest.split('/').map(decodeURIComponent).join('/')
  } catch {
    return undefined
  }
  const slash = decoded.lastIndexOf('/')
  if (slash <= 0) return undefined
  return { name: decoded.slice(0, slash), version: decoded.slice(slash + 1) }
}

/** Starts the registry on `config.port`; resolves once it is listening. */
export async function startServer(config: ServeConfig & { buildApi?: BuildApi }): Promise<RunningServer> {
  const sink = batchedLog(config.log ?? ((text) => process.stdout.write(text)))
  const log = sink.log
  const server = http.createServer()
  // Until the registry is open (recovery, first build), requests are told to come back rather than left hanging.
  const starting = (_req: IncomingMessage, res: ServerResponse) => sendJson(res, 503, { error: 'the registry is starting', code: 'STARTING' }, { 'retry-after': 1 })
  server.on('request', starting)
  // Listen first: the base URL of a server on port 0 is known only then, and the API is built with it.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const url = config.url ?? `http://localhost:${port}`
  let registry: Registry
  try {
    registry = await openRegistry({ dataDir: config.dataDir, baseUrl: url, adminToken: config.adminToken, tokens: config.tokens, log, buildApi: config.buildApi })
  } catch (e) {
    server.close()
    sink.flush()
    throw e
  }
  const limiter = createRateLimiter({ globalPerMin: config.rateLimitPerMin, clientPerMin: Math.max(1, Math.ceil(config.rateLimitPerMin / 4)) })
  const wasmRust = createWasmRustRoutes(registry, config.maxUploadBytes)
  const maxUpload = config.maxUploadBytes

  const cargoError = (res: ServerResponse, e: unknown) => {
    const status = statusFor(e)
    const body = errorBody(e)
    sendJson(res, status, { errors: [{ detail: String(body.error) + (body.hint ? ` (${String(body.hint)})` : '') }] })
  }

  const streamArtifact = async (req: IncomingMessage, res: ServerResponse, name: string, version: string, type: string, sha256?: string) => {
    const entry = registry.catalog.get(name, version)
    if (!entry) throw new WharfError('NOT_FOUND', `${name}@${version} is not published here`, { hint: 'GET /api/v1/packages/<name>/versions lists the versions' })
    const artifact = entry.record.artifacts.find((a) => a.sha256 === sha256) ?? primaryArtifact(entry.record)
    const file = artifactPath(registry.repo.dir, artifact.sha256)
    const etag = `"${artifact.sha256}"`
    const headers = { 'content-type': type, etag, 'cache-control': 'public, max-age=31536000, immutable' }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    let stat: fs.Stats
    try {
      stat = await fs.promises.stat(file)
    } catch {
      throw new WharfError('ARTIFACT_MISSING', `the artifact of ${name}@${version} is missing from the store`)
    }
    res.writeHead(200, { ...headers, 'content-length': stat.size })
    if (req.method === 'HEAD') return void res.end()
    registry.downloads.count(entry.record.name, entry.record.version)
    fs.createReadStream(file).pipe(res)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> => {
    const method = req.method ?? 'GET'
    const read = method === 'GET' || method === 'HEAD'
    if (!read) {
      const wait = limiter.take(clientKey(req))
      if (wait > 0) throw Object.assign(new WharfError('RATE_LIMITED', `too many writes; try again in ${wait} s`, { hint: 'slow down, or ask the operator to raise REGISTRY_RATE_LIMIT_PER_MIN' }), { retryAfter: wait })
    }

    // Run 2.0 routes that need a server.
    if (pathname === '/health' && read) return sendJson(res, 200, { status: 'ok' })
    if (pathname === '/api/v1/search' && read) {
      const limit = intParam(query, 'limit', 20, 100)
      const offset = intParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER)
      const result = registry.catalog.search(query.get('q') ?? '', limit, offset)
      const packages = await Promise.all(result.hits.map(({ latest }) => readPackageView(registry.layout.public, latest.record, url, Boolean(latest.yank))))
      return sendJson(res, 200, { packages, total: result.total })
    }
    if (pathname === '/api/v1/stats' && read) {
      const { packages, versions } = registry.catalog.counts()
      return sendJson(res, 200, { package_count: packages, version_count: versions, download_count: registry.downloads.total(), uptime_percent: 100 })
    }
    if (pathname.startsWith('/packages/') && pathname.endsWith('/artifact.wasm') && read) {
      const parsed = parseDownloadPath(pathname)
      if (!parsed) throw new WharfError('NOT_FOUND', `no artifact at ${pathname}`)
      return streamArtifact(req, res, parsed.name, parsed.version, 'application/wasm')
    }
    if (pathname === '/api/v1/packages' && method === 'POST') {
      // Who is asking is settled before a byte of the upload is read.
      const who = registry.auth.require(req.headers.authorization)
      checkDeclaredLength(req, maxUpload + 1024 * 1024)
      const form = await readMultipart(req, { maxFileBytes: maxUpload, fileFields: ['component', 'artifact'] })
      const parsed = parseComponentForm(form.fields, form.file)
      const record = await registry.publishComponent(who, parsed)
      const view = await readPackageView(registry.layout.public, record, url, false)
      crashPoint('answer')
      return sendJson(res, 201, view, { location: `${url}/api/v1/packages/${encodeURIComponent(record.name)}/${encodeURIComponent(record.version)}` })
    }

    // Content-addressed artifacts (the generated API's download_url and Cargo's dl): served from the store and counted.
    const blob = /^\/artifacts\/sha256\/([0-9a-f]{64})$/.exec(pathname)
    if (blob && read) {
      const entry = registry.catalog.bySha256(blob[1]!)
      if (!entry) throw new WharfError('NOT_FOUND', `no published artifact has sha256 ${blob[1]}`)
      const artifact = entry.record.artifacts.find((a) => a.sha256 === blob[1])!
      const type = artifact.name.endsWith('.crate') ? 'application/gzip' : artifact.name.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream'
      return streamArtifact(req, res, entry.record.name, entry.record.version, type, blob[1])
    }

    // Cargo's publish and yank API; other paths under /api/v1/crates/ are the generated crate documents.
    if (pathname.startsWith('/api/v1/crates/')) {
      const m = /^\/api\/v1\/crates\/([^/]+)\/([^/]+)\/(yank|unyank|download)$/.exec(pathname)
      if ((pathname === '/api/v1/crates/new' && method === 'PUT') || (m && (m[3] !== 'download' || read))) {
        try {
          if (!m) {
            const who = registry.auth.require(req.headers.authorization)
            const body = await readBody(req, maxUpload + 1024 * 1024)
            const { metadata, crate } = parseCargoPublish(body)
            if (crate.length > maxUpload) throw tooLarge(maxUpload)
            await registry.publishCrate(who, metadata, crate)
            crashPoint('answer')
            return sendJson(res, 200, { warnings: { invalid_categories: [], invalid_badges: [], other: [] } })
          }
          const crateName = decodeSegment(m[1]!)
          const version = decodeSegment(m[2]!)
          if (m[3] === 'download') {
            const pkg = registry.catalog.crate(crateName)
            if (!pkg) throw new WharfError('NOT_FOUND', `no crate "${crateName}" here`)
            return await streamArtifact(req, res, pkg.name, version, 'application/gzip')
          }
          if (m[3] === 'yank' && method === 'DELETE') {
            const who = registry.auth.require(req.headers.authorization)
            const pkg = registry.catalog.crate(crateName)
            const name = pkg?.name ?? cratePackageId(await registry.cratesNamespace(), crateName)
            await registry.yank(who, name, version, 'yanked with cargo yank')
            return sendJson(res, 200, { ok: true })
          }
          if (m[3] === 'unyank' && method === 'PUT') {
            registry.auth.require(req.headers.authorization)
            throw new WharfError('CONFLICT', `${crateName}@${version} stays yanked: a yank notice is part of the append-only index and cannot be withdrawn`, {
              hint: 'publish a new version instead',
            })
          }
          throw new WharfError('METHOD_NOT_ALLOWED', `${method} ${pathname} is not a route of the Cargo API`)
        } catch (e) {
          if (statusFor(e) >= 500) throw e
          return cargoError(res, e)
        }
      }
    }
    if (pathname === '/cargo/config.json' && read) {
      // Cargo publishes to `api` and downloads from `dl`; both point here, whatever the static file says.
      let generated: Record<string, unknown> = {}
      try {
        generated = JSON.parse(await fs.promises.readFile(`${registry.layout.public}/cargo/config.json`, 'utf8')) as Record<string, unknown>
      } catch {
        // No generated Cargo index yet.
      }
      return sendJson(res, 200, { dl: `${url}/api/v1/crates`, ...generated, api: url })
    }

    if (await wasmRust(req, res, pathname, query)) return

    if (read && pathname === '/') return sendHtml(res, homePage(registry))
    if (read && pathname === '/browse') return sendHtml(res, browsePage(registry, query.get('q') ?? '', Math.max(1, intParam(query, 'page', 1, 1_000_000))))
    if (read && (await registry.statics.serve(req, res, pathname))) return
    if (!read) throw new WharfError('METHOD_NOT_ALLOWED', `${method} ${pathname} is not a route`, { hint: 'see GET / for the routes' })
    throw new WharfError('NOT_FOUND', `nothing at ${pathname}`, { hint: 'unknown package or version' })
  }

  server.off('request', starting)
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now()
    // Fast path: a generated file this target was already answered with (the bulk of all traffic), no parsing.
    if (req.method === 'GET' || req.method === 'HEAD') {
      const status = registry.statics.serveHot(req, res)
      if (status) {
        const target = req.url!
        const q = target.indexOf('?')
        log(`${req.method} ${q < 0 ? target : target.slice(0, q)} ${status} ${(performance.now() - started).toFixed(1)}ms`)
        return
      }
    }
    let pathname = '/'
    res.on('finish', () => log(`${req.method} ${pathname} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`))
    let query: URLSearchParams
    try {
      const parsed = new URL(req.url ?? '/', 'http://localhost')
      pathname = parsed.pathname
      query = parsed.searchParams
    } catch {
      return sendJson(res, 400, { error: 'the request target is not a URL', code: 'INVALID_INPUT', field: 'path' })
    }
    handle(req, res, pathname, query).catch((e: unknown) => {
      const status = statusFor(e)
      if (status >= 500) log(`error ${req.method} ${pathname}: ${(e as Error).stack ?? String(e)}`)
      if (res.headersSent) return void res.destroy()
      const retry = (e as { retryAfter?: number }).retryAfter
      const headers: Record<string, string | number> = retry ? { 'retry-after': retry } : {}
      const body = /^\/(crates|tests|registry)(\/|$)/.test(pathname) ? { ...envelope(null), status: 'error', ...errorBody(e) } : { ...errorBody(e), ...((e as { findings?: unknown }).findings ? { findings: (e as { findings?: unknown }).findings } : {}) }
      // A refused write may still be streaming its body: a small rest is read and dropped so the
      // client sees the answer; a large one (or an upload over the limit) is answered, then cut off.
      if (req.complete) return sendJson(res, status, body, headers)
      if (status === 413) return refuseBody(req, res, status, body, headers)
      void drain(req).then((drained) => (drained && !res.headersSent ? sendJson(res, status, body, headers) : refuseBody(req, res, status, body, headers)))
    })
  })
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
  })
  server.keepAliveTimeout = 5_000

  return {
    url,
    port,
    adminToken: registry.adminToken,
    generatedToken: registry.generatedToken,
    adminTokenFile: registry.layout.adminTokenFile,
    registry,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      await registry.close()
      sink.flush()
    },
  }
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' })
  res.end(html)
}
