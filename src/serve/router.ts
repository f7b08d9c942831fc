/**
 * The server's one route table. Each route is a method, a find-my-way
 * pattern, a handler and the envelope of the API it belongs to, which shapes
 * its error answers; routes/ holds one file per API the server speaks.
 *
 * A request no route takes is a static file of the generated API when it
 * reads, else refused with 405 (naming the methods the path does answer).
 */
import { METHODS, type IncomingMessage, type ServerResponse } from 'node:http'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import { WharfError } from '../core/errors.js'
import { errorBody, fieldError } from './http.js'

/** The shape of an API's answers: Run 2.0's `{error, code, ...}`, Cargo's `{errors: [{detail}]}`, WasmRust's `{status, data, error, pagination}`. */
export type Envelope = 'run' | 'cargo' | 'wasmrust'

export interface RouteRequest {
  req: IncomingMessage
  res: ServerResponse
  /** Path parameters, percent-decoded (`:name`; `*` for a wildcard). */
  params: Readonly<Record<string, string | undefined>>
  query: URLSearchParams
  pathname: string
}

export interface Route {
  method: HTTPMethod | readonly HTTPMethod[]
  /** A find-my-way pattern: `/crates/:id`, `/artifacts/sha256/:hex(^[0-9a-f]{64}$)`, `/tests/*`. */
  pattern: string
  envelope: Envelope
  /** Absent for a prefix claim: a path the API owns that no route answers gets that API's envelope. */
  handler?: (request: RouteRequest) => Promise<void>
}

/** Claims every path under `pattern` for an API, so what no route answers there keeps that API's envelope. */
export function claimPrefix(pattern: string, envelope: Envelope): Route {
  return { method: METHODS as HTTPMethod[], pattern, envelope }
}

/** What no route answers: 405 naming the methods the path does answer, else 404 for a read and 405 for a write. */
export function noRoute(method: string, pathname: string, allowed: readonly string[]): WharfError {
  if (allowed.length > 0) return new WharfError('METHOD_NOT_ALLOWED', `${method} ${pathname} is not a route`, { hint: `${pathname} answers ${allowed.join(', ')}` })
  if (method === 'GET' || method === 'HEAD') return new WharfError('NOT_FOUND', `nothing at ${pathname}`, { hint: 'unknown package or version' })
  return new WharfError('METHOD_NOT_ALLOWED', `${method} ${pathname} is not a route`, { hint: 'see GET / for the routes' })
}

export type Found =
  | { handler: NonNullable<Route['handler']>; envelope: Envelope; params: Record<string, string | undefined> }
  | { badPath: true }
  /** No route answers; `claim` is the envelope of the API that claims the path, if one does. */
  | { claim: Envelope | undefined }

export interface Router {
  /** How to answer a request, from its method and its path as sent (percent-encoded). */
  find(method: string, pathname: string): Found
  /** For a request no route answers: the methods routes do answer at this path, and the envelope of the first. */
  answersAt(pathname: string): { allowed: string[]; envelope: Envelope | undefined }
}

export function createRouter(routes: readonly Route[]): Router {
  const router = FindMyWay({
    // Long package ids fit in one parameter: 64 for the namespace and 128 for the name, with room for escapes.
    maxParamLength: 1024,
    onBadUrl: () => undefined,
  })
  const methods = new Set<string>()
  for (const route of routes) {
    const list = typeof route.method === 'string' ? [route.method] : [...route.method]
    // A route that reads answers HEAD too, as a static host does.
    if (list.includes('GET') && !list.includes('HEAD')) list.push('HEAD')
    for (const m of list) methods.add(m)
    router.on(list, route.pattern, () => undefined, route)
  }
  const lookup = (method: string, pathname: string) => {
    const found = methods.has(method) ? router.find(method as HTTPMethod, pathname) : null
    // find-my-way answers a path that does not percent-decode with the onBadUrl handler and no store.
    return found === null ? undefined : found.store === null ? 'bad' : { route: found.store as Route, params: found.params }
  }
  return {
    find(method, pathname) {
      const found = lookup(method, pathname)
      if (found === 'bad') return { badPath: true }
      if (found?.route.handler) return { handler: found.route.handler, envelope: found.route.envelope, params: found.params }
      return { claim: found?.route.envelope }
    },
    answersAt(pathname) {
      const allowed: string[] = []
      let envelope: Envelope | undefined
      for (const m of methods) {
        const other = lookup(m, pathname)
        if (other === undefined || other === 'bad' || !other.route.handler) continue
        allowed.push(m)
        envelope ??= other.route.envelope
      }
      return { allowed, envelope }
    },
  }
}

/** The error a path that does not percent-decode gets. */
export function badPath(pathname: string): WharfError {
  return fieldError('INVALID_INPUT', 'path', `"${pathname}" is not a validly percent-encoded path`, 'percent-encode names as encodeURIComponent does')
}

/** An error answer's body in the envelope of the route that failed. */
export function errorAnswer(envelope: Envelope, e: unknown): object {
  const body = errorBody(e)
  switch (envelope) {
    case 'cargo':
      return { errors: [{ detail: String(body.error) + (body.hint ? ` (${String(body.hint)})` : '') }] }
    case 'wasmrust':
      return { status: 'error', data: null, error: null, pagination: null, ...body }
    case 'run':
      return body.code !== 'INTERNAL' && e instanceof WharfError && e.findings ? { ...body, findings: e.findings } : body
  }
}
