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

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
    return out
  }
  return value
}
