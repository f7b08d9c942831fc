/**
 * `wharf serve`: the local registry (DESIGN §7). Static files from the
 * generated API, plus one route table (router.ts, routes/) for what needs a
 * server: Run 2.0 search, downloads and publish; Cargo's publish API; the
 * WasmRust REST routes; and the site build-api writes (`/` is its home page,
 * `/browse?q=` searches on the server). Every write goes through the
 * pipeline of publish/.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { noSpaceError, statusFor, WharfError } from '../core/errors.js'
import { clientKey, drain, refuseBody, sendJson, setSecurityHeaders } from './http.js'
import { createRateLimiter } from './rate-limit.js'
import { openRegistry, type Registry } from './registry.js'
import { badPath, createRouter, errorAnswer, noRoute, type Envelope } from './router.js'
import { cargoRoutes } from './routes/cargo.js'
import { pageRoutes } from './routes/pages.js'
import { runRoutes } from './routes/run.js'
import { wasmRustRoutes } from './routes/wasmrust.js'
import { scheduleSync } from './sync.js'
import type { BuildApi } from './build.js'
import type { ServeConfig } from './config.js'

export { configFromEnv, parseTokens, DEFAULTS, UNSANDBOXED_OPT_OUT, type ServeConfig, type NamespaceToken } from './config.js'
export { CRASH_STEPS, type CrashStep } from '../publish/index.js'

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

/**
 * The write budgets for REGISTRY_RATE_LIMIT_PER_MIN: token holders share it,
 * each holder a quarter; requests without a valid token share a quarter of
 * it, each address a sixteenth (at least one a minute).
 */
export function writeLimits(perMin: number): { authenticated: { globalPerMin: number; clientPerMin: number }; anonymous: { globalPerMin: number; clientPerMin: number } } {
  const share = (n: number) => Math.max(1, Math.ceil(perMin / n))
  return { authenticated: { globalPerMin: perMin, clientPerMin: share(4) }, anonymous: { globalPerMin: share(4), clientPerMin: share(16) } }
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
    registry = await openRegistry({
      dataDir: config.dataDir,
      baseUrl: url,
      adminToken: config.adminToken,
      tokens: config.tokens,
      log,
      buildApi: config.buildApi,
      sandbox: config.sandbox,
      ...(config.name ? { name: config.name } : {}),
      ...(config.publicKey ? { publicKey: config.publicKey } : {}),
    })
  } catch (e) {
    server.close()
    sink.flush()
    throw e
  }
  const limits = writeLimits(config.rateLimitPerMin)
  const writes = createRateLimiter(limits.authenticated)
  const anonymous = createRateLimiter(limits.anonymous)
  const router = createRouter([
    ...runRoutes(registry, config.maxUploadBytes),
    ...cargoRoutes(registry, config.maxUploadBytes),
    ...wasmRustRoutes(registry, config.maxUploadBytes),
    ...pageRoutes(registry),
  ])

  /** Answers one request; `failed` learns the envelope an error must take as soon as the route is known. */
  const handle = async (req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams, failed: { envelope: Envelope }): Promise<void> => {
    const method = req.method ?? 'GET'
    const read = method === 'GET' || method === 'HEAD'
    const found = router.find(method, pathname)
    // The route's API is known before anything is refused, so a refusal (a 429 too) takes that API's error shape.
    if ('handler' in found) failed.envelope = found.envelope
    else if ('claim' in found && found.claim) failed.envelope = found.claim
    if (!read) {
      // Charged after authentication: a valid token draws on the writers' budget, anything else on the smaller one of its address.
      const who = registry.auth.identify(req.headers.authorization)
      const wait = who ? writes.take(`${who.namespace}\0${who.login}`) : anonymous.take(clientKey(req))
      if (wait > 0) {
        throw new WharfError('RATE_LIMITED', `too many ${who ? 'writes' : 'requests without a valid token'}; try again in ${wait} s`, {
          hint: who ? 'slow down, or ask the operator to raise REGISTRY_RATE_LIMIT_PER_MIN' : 'send a valid token (Authorization: Bearer <token>)',
          retryAfter: wait,
        })
      }
    }
    if ('badPath' in found) throw badPath(pathname)
    if ('handler' in found) return found.handler({ req, res, params: found.params, query, pathname })
    if (read && (await registry.statics.serve(req, res, pathname))) return
    const answers = router.answersAt(pathname)
    // A path no route serves is the static files', which answer reads alone: a 405 names its methods (RFC 9110 §15.5.6).
    const allowed = answers.allowed.length > 0 || read ? answers.allowed : ['GET', 'HEAD']
    if (allowed.length > 0) {
      failed.envelope = found.claim ?? answers.envelope ?? failed.envelope
      res.setHeader('allow', allowed.join(', '))
    }
    throw noRoute(method, pathname, allowed)
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
    setSecurityHeaders(res)
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
    const failed: { envelope: Envelope } = { envelope: 'run' }
    handle(req, res, pathname, query, failed).catch((thrown: unknown) => {
      // A full disk anywhere (a job file, a token file, the pipeline) is 507, whatever step met it.
      const e = noSpaceError(thrown) ?? thrown
      const status = statusFor(e)
      if (status >= 500) log(`error ${req.method} ${pathname}: ${(e as Error).stack ?? String(e)}`)
      if (res.headersSent) return void res.destroy()
      const headers: Record<string, string | number> = e instanceof WharfError && e.retryAfter ? { 'retry-after': e.retryAfter } : {}
      const body = errorAnswer(failed.envelope, e)
      // A refused write may still be streaming its body: a small rest is read and dropped so the
      // client sees the answer; a large one (or an upload over the limit) is answered, then cut off.
      if (req.complete) return sendJson(res, status, body, headers)
      if (status === 413) return refuseBody(req, res, status, body, headers)
      void drain(req).then((drained) => (drained && !res.headersSent ? sendJson(res, status, body, headers) : refuseBody(req, res, status, body, headers)))
    })
  })
  server.on('clientError', (_e, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\nx-content-type-options: nosniff\r\ncontent-length: 0\r\n\r\n')
  })
  server.keepAliveTimeout = 5_000
  const syncTimer = config.syncIntervalMs ? scheduleSync(registry, config.syncIntervalMs, log) : undefined
  // What start-up said (the sandbox, recovery, the first build) is out by the time the server is ready, not a batch later.
  sink.flush()

  return {
    url,
    port,
    adminToken: registry.adminToken,
    generatedToken: registry.generatedToken,
    adminTokenFile: registry.layout.adminTokenFile,
    registry,
    async close() {
      await syncTimer?.stop()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      await registry.close()
      sink.flush()
    },
  }
}
