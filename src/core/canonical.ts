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
 * What is already in order is returned as it is, not copied: a document
 * written with its keys in order costs one pass over it (a build renders
 * millions), and only the objects out of order are rebuilt.
 */
export function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const sorted = sortKeys(item)
      if (sorted !== item) (copy ??= value.slice())[i] = sorted
    }
    return copy ?? value
  }
  const object = value as Record<string, unknown>
  const keys = Object.keys(object)
  let inOrder = true
  for (let i = 1; i < keys.length && inOrder; i++) inOrder = keys[i - 1]! < keys[i]!
  let values: unknown[] | undefined
  for (let i = 0; i < keys.length; i++) {
    const item = object[keys[i]!]
    const sorted = sortKeys(item)
    if (sorted !== item) (values ??= keys.map((k) => object[k]))[i] = sorted
  }
  if (inOrder && !values) return value
  const order = keys.map((_, i) => i)
  if (!inOrder) order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1))
  const out: Record<string, unknown> = {}
  for (const i of order) {
    const item = values ? values[i] : object[keys[i]!]
    if (keys[i] === '__proto__') Object.defineProperty(out, '__proto__', { value: item, enumerable: true, writable: true, configurable: true })
    else out[keys[i]!] = item
  }
  return out
}
