/** The HTTP edge: typed errors to status codes, JSON answers, and bodies read under a byte limit. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isWharfError, statusFor, WharfError, type WharfCode } from '../core/errors.js'
import { CONTENT_SECURITY_POLICY } from '../site/index.js'

/** A WharfError that names the request field at fault, so the JSON answer can too. */
export function fieldError(code: WharfCode, field: string, message: string, hint?: string): WharfError {
  return new WharfError(code, message, { hint, field })
}

/**
 * The JSON body of an error answer: `error` is the message; code, field and
 * hint say more. A 500 is the server's own fault: what went wrong goes to the
 * log, not to the client.
 */
export function errorBody(e: unknown): Record<string, unknown> {
  if (!isWharfError(e) || statusFor(e) === 500) return { error: 'internal error', code: 'INTERNAL' }
  return { error: e.message, code: e.code, ...(e.field ? { field: e.field } : {}), ...(e.hint ? { hint: e.hint } : {}) }
}

/**
 * What a document may do once a browser has it. A page keeps the site's own
 * policy (its scripts, styles and images, forms posted here, no inline code)
 * and is never framed, which only a header can say; anything else (JSON,
 * artifacts, badges) may load nothing at all.
 */
export const PAGE_POLICY = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`
export const DATA_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"

/** Headers every answer carries: no content sniffing, and the policy for its type (a page's, or none at all). */
export function securityHeaders(type: string): Record<string, string> {
  return { 'x-content-type-options': 'nosniff', 'content-security-policy': type.startsWith('text/html') ? PAGE_POLICY : DATA_POLICY }
}

/** The same for an answer whose type is not known yet (set first, and replaced by whatever writeHead sends). */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff')
  res.setHeader('content-security-policy', DATA_POLICY)
}

const JSON_HEADERS = securityHeaders('application/json')

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...JSON_HEADERS, ...headers })
  res.end(text)
}

export function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store', ...securityHeaders('text/html') })
  res.end(html)
}

/** A whole-number query parameter, capped at `max`; anything else is the client's error, naming the parameter. */
export function intParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name)
  if (raw === null || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw fieldError('INVALID_INPUT', name, `"${name}" must be a whole number`, `e.g. ${name}=${fallback}`)
  return Math.min(Number(raw), max)
}

/**
 * Ends the exchange without reading the rest of the body: the answer goes
 * out, then the connection closes, so a client cannot make the server read
 * what it already refused.
 */
export function refuseBody(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  const text = `${JSON.stringify(body)}\n`
  res.shouldKeepAlive = false
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close', ...JSON_HEADERS, ...headers })
  res.end(text, () => {
    // Give the client a moment to read the answer before the socket goes.
    setTimeout(() => req.socket.destroy(), 50).unref()
  })
  req.pause()
}

export function tooLarge(limit: number): WharfError {
  return new WharfError('TOO_LARGE', `the upload is larger than this registry's ${Math.round(limit / 1024 / 1024)} MB limit`, {
    hint: 'strip debug sections (wasm-tools strip), or ask the operator to raise REGISTRY_MAX_UPLOAD_MB',
  })
}

/**
 * Throws 413 when the declared Content-Length is over `limit`, before
 * anything is read. `stated` is the upload limit the refusal names, when
 * `limit` leaves room beyond it for a request's other parts (form fields).
 */
export function checkDeclaredLength(req: IncomingMessage, limit: number, stated = limit): void {
  const declared = req.headers['content-length']
  if (declared !== undefined && (!/^\d+$/.test(declared) || Number(declared) > limit)) {
    if (!/^\d+$/.test(declared)) throw fieldError('INVALID_INPUT', 'content-length', `Content-Length "${declared}" is not a number`)
    throw tooLarge(stated)
  }
}

/** The whole body, counting bytes as they arrive and stopping at `limit` (`stated` as in checkDeclaredLength). */
export async function readBody(req: IncomingMessage, limit: number, stated = limit): Promise<Buffer> {
  checkDeclaredLength(req, limit, stated)
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > limit) throw tooLarge(stated)
    chunks.push(chunk)
  }
  if (!req.complete) throw fieldError('INVALID_INPUT', 'body', 'the request body ended early', 'send the whole body')
  return Buffer.concat(chunks)
}

/** Parses a JSON request body, naming the problem on failure. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit)
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (e) {
    throw fieldError('INVALID_INPUT', 'body', `the body is not JSON: ${(e as Error).message}`, 'send Content-Type: application/json with a JSON object')
  }
}

/** The client a request counts against for rate limits. */
export function clientKey(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown'
}

/** What an early answer still reads of a small body, so the client sees the answer rather than a broken pipe. */
export const DRAIN_LIMIT = 1024 * 1024

/**
 * Reads and drops the rest of a refused request's body when it is small;
 * resolves false when it is over `limit` or too slow (then the caller closes the connection instead).
 */
export function drain(req: IncomingMessage, limit = DRAIN_LIMIT, timeoutMs = 2_000): Promise<boolean> {
  if (req.complete) return Promise.resolve(true)
  const declared = Number(req.headers['content-length'] ?? Number.NaN)
  if (declared > limit) return Promise.resolve(false)
  return new Promise((resolve) => {
    let seen = 0
    const done = (ok: boolean) => {
      clearTimeout(timer)
      req.off('data', count)
      req.off('end', ended)
      req.off('error', failed)
      resolve(ok)
    }
    const count = (chunk: Buffer) => {
      seen += chunk.length
      if (seen > limit) done(false)
    }
    const ended = () => done(true)
    const failed = () => done(false)
    const timer = setTimeout(() => done(false), timeoutMs)
    req.on('data', count)
    req.on('end', ended)
    req.on('error', failed)
    req.resume()
  })
}
