/** RFC 8785 (JSON Canonicalization Scheme): the exact bytes a signature covers. */
import canonicalize from 'canonicalize'
import { WharfError } from './errors.js'

/**
 * The canonical JSON of `value`. RFC 8785 is defined over I-JSON, which has
 * no lone surrogates and only finite numbers: such a value is refused with
 * INVALID_INPUT.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined
  try {
    text = canonicalize(value)
  } catch (e) {
    throw new WharfError('INVALID_INPUT', `the value has no canonical JSON (RFC 8785): ${(e as Error).message}`, { hint: 'remove lone surrogates and non-finite numbers' })
  }
  if (text === undefined) throw new WharfError('INVALID_INPUT', 'the value has no canonical JSON (RFC 8785)', { hint: 'pass a JSON value' })
  return text
}

/** Deterministic pretty JSON for files people read: keys sorted, two-space indent, final newline. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`
}

/**
 * The same value with the keys of every object in sorted order, for output
 * that must not depend on insertion order. Keys become own properties even
 * when named `__proto__`, so hostile input cannot change an object's prototype.
 */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]))
  }
  return value
}
