/**
 * JSON that a submitter wrote, read strictly. A signed file must mean one
 * thing to every reader, and parsers disagree on some input: which of two
 * equal keys wins, whether `__proto__` is a key or a prototype, what a lone
 * surrogate (half of a UTF-16 pair, which has no UTF-8 form) becomes. Such
 * input is refused here, with the kind of problem, rather than read one way.
 */

/** Keys that some JavaScript readers treat specially; never part of a wharf file. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** Deeper nesting than any wharf file needs. */
export const MAX_JSON_DEPTH = 64

export type JsonProblemKind = 'syntax' | 'too-deep' | 'duplicate-key' | 'reserved-key' | 'lone-surrogate'

export interface JsonProblem {
  kind: JsonProblemKind
  message: string
}

export type StrictJson = { ok: true; value: unknown } | ({ ok: false } & JsonProblem)

// With the u flag a surrogate pair is one code point; only an unpaired half is in category Cs.
const LONE_SURROGATE = /\p{Cs}/u

/** A key or a string as it can be printed: lone surrogates shown as \u escapes. */
const shown = (text: string): string => JSON.stringify(text)

function pointer(parent: string, key: string | number): string {
  return `${parent}/${typeof key === 'number' ? key : shown(key).slice(1, -1)}`
}

/**
 * Parses `text` as JSON and refuses what readers could disagree on: an
 * object with the same key twice, a reserved key, a lone surrogate in a key
 * or a string, nesting deeper than `maxDepth`. Never throws.
 */
export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): StrictJson {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return { ok: false, kind: 'syntax', message: `not valid JSON: ${(e as Error).message}` }
  }
  const problem = keyProblem(text, maxDepth) ?? jsonValueProblem(value, maxDepth)
  return problem ? { ok: false, ...problem } : { ok: true, value }
}

/**
 * Duplicate keys and depth, read from the text (JSON.parse keeps the last of
 * two equal keys and says nothing). `text` is valid JSON.
 */
function keyProblem(text: string, maxDepth: number): JsonProblem | undefined {
  // One frame per open object (its keys so far) or array (undefined).
  const frames: { keys: Set<string> | undefined; expectKey: boolean; path: string; key: string | number }[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '{' || c === '[') {
      const top = frames[frames.length - 1]
      const path = top ? pointer(top.path, top.key) : ''
      frames.push({ keys: c === '{' ? new Set() : undefined, expectKey: c === '{', path, key: c === '{' ? '' : 0 })
      if (frames.length > maxDepth) return { kind: 'too-deep', message: `the JSON nests deeper than ${maxDepth} levels at ${path || '/'}` }
    } else if (c === '}' || c === ']') {
      frames.pop()
    } else if (c === ',') {
      const top = frames[frames.length - 1]
      if (top?.keys) top.expectKey = true
      else if (top) top.key = (top.key as number) + 1
    } else if (c === '"') {
      let end = i + 1
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      const top = frames[frames.length - 1]
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        top.expectKey = false
        top.key = key
        if (top.keys.has(key)) {
          return { kind: 'duplicate-key', message: `the key ${shown(key)} appears twice in the object at ${top.path || '/'}` }
        }
        top.keys.add(key)
      }
      i = end
    }
  }
  return undefined
}

/**
 * Why `value` cannot be signed or read as one thing by every reader: a
 * reserved key, a lone surrogate, too deep a nesting. Undefined when fine.
 */
export function jsonValueProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const stack: [unknown, number, string][] = [[value, 0, '']]
  while (stack.length > 0) {
    const [item, depth, path] = stack.pop()!
    if (typeof item === 'string') {
      if (LONE_SURROGATE.test(item)) return { kind: 'lone-surrogate', message: `the string at ${path || '/'} holds a lone surrogate (${shown(item).slice(0, 40)}), which no UTF-8 file can hold` }
      continue
    }
    if (item === null || typeof item !== 'object') continue
    if (depth >= maxDepth) return { kind: 'too-deep', message: `the JSON nests deeper than ${maxDepth} levels at ${path || '/'}` }
    if (Array.isArray(item)) {
      item.forEach((v, i) => stack.push([v, depth + 1, pointer(path, i)]))
      continue
    }
    for (const key of Object.keys(item)) {
      if (LONE_SURROGATE.test(key)) return { kind: 'lone-surrogate', message: `the key ${shown(key)} at ${path || '/'} holds a lone surrogate, which no UTF-8 file can hold` }
      if (RESERVED_KEYS.has(key)) return { kind: 'reserved-key', message: `the key "${key}" at ${path || '/'} is not allowed (JavaScript readers treat it specially)` }
      stack.push([(item as Record<string, unknown>)[key], depth + 1, pointer(path, key)])
    }
  }
  return undefined
}
