/** RFC 8785 (JSON Canonicalization Scheme): the exact bytes a signature covers. */
import canonicalize from 'canonicalize'

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value)
  if (text === undefined) throw new TypeError('value cannot be canonicalized as JSON')
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
