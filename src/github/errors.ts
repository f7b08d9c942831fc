/**
 * GitHub's failures as WharfErrors with stable codes and a hint each. Every call
 * in this module goes through `describeFailure`, so nothing above it sees an
 * Octokit error.
 */
import { WharfError, type WharfCode } from '../core/errors.js'

/** Stable codes of GitHub failures. */
export const GitHubErrorCode = {
  /** Primary or secondary rate limit, after the retries allowed. */
  RateLimited: 'GITHUB_RATE_LIMITED',
  /** The token is missing, expired or revoked. */
  Unauthorized: 'GITHUB_UNAUTHORIZED',
  /** The token lacks a permission the call needs. */
  Forbidden: 'GITHUB_FORBIDDEN',
  NotFound: 'GITHUB_NOT_FOUND',
  /** A conflicting state: an empty or not yet ready repository, a moved base branch. */
  Conflict: 'GITHUB_CONFLICT',
  /** A merge was refused because the pull request's head is not the sha the caller checked. */
  HeadChanged: 'GITHUB_HEAD_CHANGED',
  /** A merge was refused: conflicts, a closed pull request, or branch protection. */
  NotMergeable: 'GITHUB_NOT_MERGEABLE',
  /** GitHub refused the request's content (422). */
  ValidationFailed: 'GITHUB_VALIDATION_FAILED',
  /** GitHub answered 5xx or could not be reached, after retries. */
  Unavailable: 'GITHUB_UNAVAILABLE',
  /** A download was larger than the caller allows. */
  TooLarge: 'GITHUB_TOO_LARGE',
  /** A wait (a fork becoming ready, a download) took longer than allowed. */
  Timeout: 'GITHUB_TIMEOUT',
} as const satisfies Record<string, WharfCode>
export type GitHubErrorCode = (typeof GitHubErrorCode)[keyof typeof GitHubErrorCode]

interface RequestErrorLike {
  status: number
  message: string
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown }
}

function isRequestError(e: unknown): e is RequestErrorLike {
  return typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number' && 'message' in e
}

/** GitHub's own message and, for a 422, the field errors it lists. */
function githubMessage(e: RequestErrorLike): string {
  const data = e.response?.data as { message?: unknown; errors?: unknown } | undefined
  const message = typeof data?.message === 'string' ? data.message : e.message
  const details = Array.isArray(data?.errors)
    ? data.errors
        .map((x) => (typeof x === 'string' ? x : typeof x === 'object' && x ? ((x as { message?: string }).message ?? `${(x as { field?: string }).field ?? ''} ${(x as { code?: string }).code ?? ''}`.trim()) : ''))
        .filter(Boolean)
    : []
  return details.length > 0 ? `${message}: ${details.join('; ')}` : message
}

function isRateLimit(e: RequestErrorLike): boolean {
  const headers = e.response?.headers ?? {}
  return e.status === 429 || ((e.status === 403 || e.status === 429) && (String(headers['x-ratelimit-remaining']) === '0' || /rate limit/i.test(githubMessage(e))))
}

/**
 * The WharfError for a failed GitHub call. `what` says what was being done
 * ("merging alice/index#3"); the hint says what to do about it.
 */
export function describeFailure(e: unknown, what: string): WharfError {
  if (e instanceof WharfError) return e
  if (!isRequestError(e)) return new WharfError(GitHubErrorCode.Unavailable, `${what}: ${e instanceof Error ? e.message : String(e)}`, { hint: 'check the network and the API URL', cause: e })
  const message = `${what}: GitHub answered ${e.status}: ${githubMessage(e)}`
  if (isRateLimit(e)) {
    const reset = Number(e.response?.headers?.['x-ratelimit-reset'])
    const when = Number.isFinite(reset) && reset > 0 ? ` after ${new Date(reset * 1000).toISOString()}` : ' in a few minutes'
    return new WharfError(GitHubErrorCode.RateLimited, message, { hint: `GitHub's rate limit was reached; run it again${when}`, cause: e })
  }
  switch (e.status) {
    case 401:
      return new WharfError(GitHubErrorCode.Unauthorized, message, { hint: 'the token is missing, expired or revoked: pass a valid one', cause: e })
    case 403:
      return new WharfError(GitHubErrorCode.Forbidden, message, {
        hint: "the token lacks a permission this needs: grant it in the workflow's permissions: block or use a token that has it",
        cause: e,
      })
    case 404:
      return new WharfError(GitHubErrorCode.NotFound, message, { hint: 'check the owner, repository and number; a private repository answers 404 to a token that cannot see it', cause: e })
    case 405:
      return new WharfError(GitHubErrorCode.NotMergeable, message, { hint: 'resolve the conflicts or the branch protection rule, then merge again', cause: e })
    case 409:
      return new WharfError(GitHubErrorCode.Conflict, message, { hint: 'the repository changed or is not ready; fetch its state again and retry', cause: e })
    case 422:
      return new WharfError(GitHubErrorCode.ValidationFailed, message, { hint: 'GitHub refused the content of the request; see its message', cause: e })
    default:
      return new WharfError(GitHubErrorCode.Unavailable, message, { hint: 'GitHub is failing or unreachable; retry later', cause: e })
  }
}

/** Runs one GitHub call, turning any failure into a WharfError that names what was being done. */
export async function attempt<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (e) {
    throw describeFailure(e, what)
  }
}

/** Runs a call whose 404 means "absent": resolves undefined instead of failing. */
export async function attemptOptional<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call()
  } catch (e) {
    if (isRequestError(e) && e.status === 404) return undefined
    throw describeFailure(e, what)
  }
}

export function statusOf(e: unknown): number | undefined {
  if (e instanceof WharfError) return statusOf(e.cause)
  return isRequestError(e) ? e.status : undefined
}
