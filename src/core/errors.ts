/**
 * Typed errors. Every failure a user can meet carries a stable code and a hint
 * that says how to fix it; each edge (CLI, HTTP, action) maps the code to its
 * own signal.
 */

/** Codes for errors that mean "the caller asked for something malformed or impossible here". */
const USAGE_CODES = new Set([
  'USAGE',
  'NOT_A_REPO',
  'NOT_FOUND',
  'BAD_KEY',
  'BAD_REF',
  'IO',
  'NOT_IMPLEMENTED',
  'NOT_AN_INDEX',
  'TOOLCHAIN',
  'INVALID_NAME',
  'INVALID_VERSION',
  'INVALID_INPUT',
  'INVALID_ARTIFACT',
  'LOCKED',
])

export interface WharfErrorOptions {
  /** One sentence telling the user what to do about it. */
  hint?: string
  cause?: unknown
}

export class WharfError extends Error {
  override readonly name = 'WharfError'
  readonly code: string
  readonly hint: string | undefined

  constructor(code: string, message: string, options: WharfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.hint = options.hint
  }
}

export function isWharfError(e: unknown): e is WharfError {
  return e instanceof WharfError
}

/** CLI exit code for an error: 2 for usage and environment problems, 1 for a refused request. */
export function exitCodeFor(e: unknown): 1 | 2 {
  if (isWharfError(e) && !USAGE_CODES.has(e.code)) return 1
  return 2
}

/** One line for people: what went wrong, and how to fix it when we know. */
export function formatError(e: unknown): string {
  if (isWharfError(e)) return e.hint ? `${e.message} (${e.hint})` : e.message
  if (e instanceof Error) return e.message
  return String(e)
}
