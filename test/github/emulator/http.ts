/** The emulator's route table, request context, errors and pagination. */
import type { Account, Access, Repo, Scope, Token } from './state.js'

export interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface RouteRequest {
  method: string
  /** The OpenAPI path template the route answers, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  template: string
  params: Record<string, string>
  query: URLSearchParams
  /** Parsed JSON for API routes; raw bytes for uploads. */
  body: unknown
  rawBody: Buffer
  headers: Record<string, string | string[] | undefined>
  token: Token | undefined
  /** The repository named by `{owner}/{repo}`, already authorised for the route's scope and access. */
  repo: Repo
  /** Who acts: the token's actor, or undefined when anonymous. */
  actor: Account | undefined
  /** The request's URL path, for pagination links. */
  url: URL
}

export interface RouteDef {
  method: string
  template: string
  /** The permission the route needs on `{owner}/{repo}`; null: not a repository route. */
  scope: Scope | null
  access: Access
  /** A second scope that grants the route too (comments and labels on a pull request: issues or pull-requests). */
  altScope?: Scope
  /** Any signed-in user may do this on a public repo (open a pull request, comment), as on GitHub. */
  anyUser?: boolean
  handler: (req: RouteRequest) => Promise<Reply> | Reply
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const DOCS = 'https://docs.github.com/rest'

export function errorBody(status: number, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { message, documentation_url: DOCS, status: String(status), ...extra }
}

export function notFound(): HttpError {
  return new HttpError(404, 'Not Found')
}

/** 422 in GitHub's shape: `errors: [{ resource, field, code, message? }]`. */
export function validationFailed(resource: string, field: string, code: string, message?: string): HttpError {
  const error: Record<string, string> = { resource, field, code }
  if (message) error.message = message
  return new HttpError(422, 'Validation Failed', { errors: [error] })
}

/** The request's JSON object body (an empty object when there is none); anything else is a 400, as GitHub answers. */
export function jsonBody(req: RouteRequest): Record<string, unknown> {
  if (req.body === undefined) return {}
  if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) throw new HttpError(400, 'Problems parsing JSON')
  return req.body as Record<string, unknown>
}

export function intParam(req: RouteRequest, name: string): number {
  const value = req.params[name] ?? ''
  if (!/^\d{1,15}$/.test(value)) throw notFound()
  return Number(value)
}

/**
 * One page of `items` by `per_page` (default 30, at most 100) and `page`, with
 * the `Link` header GitHub sends (`next`, `last`, `first`, `prev`).
 */
export function paginate<T>(req: RouteRequest, items: T[]): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(req.query.get('per_page') ?? 30) || 30))
  const page = Math.max(1, Number(req.query.get('page') ?? 1) || 1)
  const last = Math.max(1, Math.ceil(items.length / perPage))
  const link = (p: number) => {
    const url = new URL(req.url)
    url.searchParams.set('per_page', String(perPage))
    url.searchParams.set('page', String(p))
    return url.toString()
  }
  const links: string[] = []
  if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`)
  if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`, `<${link(1)}>; rel="first"`)
  return { items: items.slice((page - 1) * perPage, page * perPage), headers: links.length > 0 ? { link: links.join(', ') } : {} }
}

/** Matches a path against templates; a trailing `{ref}` or `{path}` takes the rest of the path (slashes as `/` or `%2F`). */
export function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/')
  const have = path.split('/')
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!
    const param = /^\{(\w+)\}$/.exec(segment)?.[1]
    if ((param === 'ref' || param === 'path') && i === want.length - 1) {
      if (have.length <= i) return undefined
      try {
        params[param] = have.slice(i).map(decodeURIComponent).join('/')
      } catch {
        return undefined
      }
      return params
    }
    if (i >= have.length) return undefined
    if (param) {
      if (have[i] === '') return undefined
      try {
        params[param] = decodeURIComponent(have[i]!)
      } catch {
        return undefined
      }
    } else if (segment !== have[i]) return undefined
  }
  return have.length === want.length ? params : undefined
}
