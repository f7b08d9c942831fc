/**
 * Typed errors. Every failure a user can meet carries a stable code and a hint
 * that says how to fix it; ERRORS below is the one table that says what each
 * code means at each edge: the CLI's exit code and the HTTP status.
 *
 * Exit codes: 0 ok, 1 rejected (the request was understood and refused),
 * 2 usage or environment (fix the command line, the files or the machine),
 * 3 a remote or internal failure (not the caller's fault; try again or report it).
 */

interface Meaning {
  exit: 1 | 2 | 3
  status: number
}

const ERRORS = {
  // The command line or request is malformed.
  USAGE: { exit: 2, status: 400 },
  INVALID_INPUT: { exit: 2, status: 400 },
  INVALID_NAME: { exit: 2, status: 400 },
  INVALID_VERSION: { exit: 2, status: 400 },
  INVALID_ARTIFACT: { exit: 2, status: 400 },
  BAD_KEY: { exit: 2, status: 400 },
  NOT_FOUND: { exit: 2, status: 404 },
  NOT_IMPLEMENTED: { exit: 2, status: 501 },
  // The machine or the files it was pointed at cannot serve the request; on a server that is the server's fault.
  NOT_A_REPO: { exit: 2, status: 500 },
  NOT_AN_INDEX: { exit: 2, status: 500 },
  BAD_REF: { exit: 2, status: 500 },
  IO: { exit: 2, status: 500 },
  TOOLCHAIN: { exit: 2, status: 500 },
  LOCKED: { exit: 2, status: 503 },
  // No sandbox to run uploaded code in; the operator must install one (or opt out by name).
  NO_SANDBOX: { exit: 2, status: 503 },
  // The disk (or the quota) is full: nothing was written; free space and try again.
  NO_SPACE: { exit: 2, status: 507 },
  // Understood and refused.
  REJECTED: { exit: 1, status: 400 },
  INVALID_DIGEST: { exit: 1, status: 400 },
  DIGEST_MISMATCH: { exit: 1, status: 400 },
  FETCH_REFUSED: { exit: 1, status: 400 },
  FETCH_TOO_LARGE: { exit: 1, status: 413 },
  UNAUTHORIZED: { exit: 1, status: 401 },
  FORBIDDEN: { exit: 1, status: 403 },
  METHOD_NOT_ALLOWED: { exit: 1, status: 405 },
  VERSION_EXISTS: { exit: 1, status: 409 },
  NAMESPACE_EXISTS: { exit: 1, status: 409 },
  CONFLICT: { exit: 1, status: 409 },
  // main's first-parent history no longer holds a commit it held (wharf audit, build-api --since).
  HISTORY_REWRITTEN: { exit: 1, status: 409 },
  TOO_LARGE: { exit: 1, status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { exit: 1, status: 415 },
  RATE_LIMITED: { exit: 1, status: 429 },
  // What a client reads from a registry or mirror, refused (wharf install, and peers reading peers).
  // Exit 1 throughout, an unreachable registry included: nothing was installed, and the message says why.
  UNKNOWN_PACKAGE: { exit: 1, status: 404 },
  NO_MATCHING_VERSION: { exit: 1, status: 404 },
  RESOLUTION_FAILED: { exit: 1, status: 409 },
  SIGNATURE_INVALID: { exit: 1, status: 502 },
  INVALID_RECORD: { exit: 1, status: 502 },
  SNAPSHOT_INVALID: { exit: 1, status: 502 },
  SNAPSHOT_EXPIRED: { exit: 1, status: 502 },
  SNAPSHOT_ROLLBACK: { exit: 1, status: 502 },
  NO_SNAPSHOT: { exit: 1, status: 502 },
  MISSING_FILE: { exit: 1, status: 502 },
  UNTRUSTED_REGISTRY: { exit: 1, status: 502 },
  UNREACHABLE: { exit: 1, status: 502 },
  OFFLINE_MISSING: { exit: 1, status: 503 },
  LOCK_MISMATCH: { exit: 1, status: 409 },
  INVALID_LOCKFILE: { exit: 1, status: 400 },
  FROZEN: { exit: 1, status: 409 },
  // The client's own files.
  CONFIG: { exit: 2, status: 500 },
  CREDENTIALS_EXPOSED: { exit: 2, status: 500 },
  CACHE: { exit: 2, status: 500 },
  // GitHub's answers (src/github): a token GitHub refuses is the environment's to fix; a moved head or a
  // refused merge is a refusal; GitHub failing or rate-limiting is someone else's failure.
  GITHUB_UNAUTHORIZED: { exit: 2, status: 502 },
  GITHUB_FORBIDDEN: { exit: 2, status: 502 },
  GITHUB_NOT_FOUND: { exit: 2, status: 404 },
  GITHUB_CONFLICT: { exit: 1, status: 409 },
  GITHUB_HEAD_CHANGED: { exit: 1, status: 409 },
  GITHUB_NOT_MERGEABLE: { exit: 1, status: 409 },
  GITHUB_VALIDATION_FAILED: { exit: 1, status: 422 },
  GITHUB_TOO_LARGE: { exit: 1, status: 413 },
  GITHUB_RATE_LIMITED: { exit: 3, status: 503 },
  GITHUB_UNAVAILABLE: { exit: 3, status: 502 },
  GITHUB_TIMEOUT: { exit: 3, status: 504 },
  // Someone else's failure, or ours.
  FETCH_FAILED: { exit: 3, status: 502 },
  REMOTE: { exit: 3, status: 502 },
  STARTING: { exit: 3, status: 503 },
  // A stop signal arrived: nothing new starts (the CLI then exits 130 or 143 anyway).
  STOPPING: { exit: 3, status: 503 },
  ARTIFACT_MISSING: { exit: 3, status: 500 },
  INTERNAL: { exit: 3, status: 500 },
} as const satisfies Record<string, Meaning>

export type WharfCode = keyof typeof ERRORS

export function isWharfCode(code: unknown): code is WharfCode {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code)
}

/** A problem found in a submission (check's findings name their rule by a RuleId). */
export interface Finding {
  rule: string
  file?: string
  message: string
  hint: string
}

export interface WharfErrorOptions {
  /** One sentence telling the user what to do about it. */
  hint?: string
  cause?: unknown
  /** The request field at fault; an HTTP answer names it. */
  field?: string
  /** The check findings behind a refused submission. */
  findings?: readonly Finding[]
  /** Seconds to wait before asking again. */
  retryAfter?: number
}

export class WharfError extends Error {
  override readonly name = 'WharfError'
  readonly code: WharfCode
  readonly hint: string | undefined
  readonly field: string | undefined
  readonly findings: readonly Finding[] | undefined
  readonly retryAfter: number | undefined

  constructor(code: WharfCode, message: string, options: WharfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.hint = options.hint
    this.field = options.field
    this.findings = options.findings
    this.retryAfter = options.retryAfter
  }
}

export function isWharfError(e: unknown): e is WharfError {
  return e instanceof WharfError
}

/** The code an error stands for; anything that is not a WharfError is an internal failure. */
export function codeOf(e: unknown): WharfCode {
  return isWharfError(e) ? e.code : 'INTERNAL'
}

/** CLI exit code for an error: 1 refused, 2 usage or environment, 3 a remote or internal failure. */
export function exitCodeFor(e: unknown): 1 | 2 | 3 {
  return ERRORS[codeOf(e)].exit
}

/** HTTP status for an error; anything that is not a WharfError is the server's fault (500). */
export function statusFor(e: unknown): number {
  return ERRORS[codeOf(e)].status
}

/**
 * The code for a registry's error answer: the code it sent when it is one of
 * ours and the status agrees that the request was refused; else the status's
 * own meaning. Any 5xx is a remote failure, whatever the body says.
 */
export function codeForStatus(status: number, sent?: unknown): WharfCode {
  if (status >= 500 || status < 400) return 'REMOTE'
  if (isWharfCode(sent) && ERRORS[sent].status < 500) return sent
  const byStatus: Record<number, WharfCode> = {
    400: 'INVALID_INPUT',
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    409: 'VERSION_EXISTS',
    413: 'TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    429: 'RATE_LIMITED',
  }
  return byStatus[status] ?? 'REJECTED'
}

/** Errno codes that mean the disk, or the writer's quota, is full. */
const NO_SPACE_ERRNO = new Set(['ENOSPC', 'EDQUOT'])

/**
 * The NO_SPACE error (507 at the HTTP edge) for a write that failed because
 * the disk or a quota is full, found anywhere in the cause chain; undefined
 * for any other failure.
 */
export function noSpaceError(e: unknown, what = 'the write', hint = 'free space (or raise the quota) where the registry keeps its data, then try again'): WharfError | undefined {
  if (isWharfError(e) && e.code === 'NO_SPACE') return e
  for (let cause = e, depth = 0; cause && typeof cause === 'object' && depth < 8; cause = (cause as { cause?: unknown }).cause, depth++) {
    const code = (cause as { code?: unknown }).code
    if (typeof code === 'string' && NO_SPACE_ERRNO.has(code)) {
      return new WharfError('NO_SPACE', `${what} failed: the disk is full (${code}); nothing was written`, {
        hint,
        cause: e,
      })
    }
  }
  return undefined
}

/** One line for people: what went wrong, and how to fix it when we know. */
export function formatError(e: unknown): string {
  if (isWharfError(e)) return e.hint ? `${e.message} (${e.hint})` : e.message
  if (e instanceof Error) return e.message
  return String(e)
}

/** An error as one JSON object: `{error, code, hint?, field?, findings?, retry_after?}`. */
export function errorJson(e: unknown): Record<string, unknown> {
  const base = { error: isWharfError(e) || e instanceof Error ? e.message : String(e), code: codeOf(e) }
  if (!isWharfError(e)) return base
  return {
    ...base,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(e.field ? { field: e.field } : {}),
    ...(e.findings ? { findings: e.findings } : {}),
    ...(e.retryAfter !== undefined ? { retry_after: e.retryAfter } : {}),
  }
}
