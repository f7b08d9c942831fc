/**
 * Documents that list objects in one sorted array (a search shard's
 * packages, the search index's shards), updated an element at a time. An
 * incremental build changes a few elements of such a document; reading all
 * of them as JSON and rendering them again costs what the document weighs
 * (a shard of 512 packages, a top of thousands of shards), so the elements
 * it does not change are kept as the bytes they are: the file is read as
 * latin1 (a character a byte), cut and joined, and written back the same
 * way, never decoded from UTF-8 or encoded again.
 *
 * It relies on how `stableJson` lays a document out: two spaces a level, the
 * array's elements at four, their keys at six, and no newline inside a
 * string (JSON escapes it). So `\n    }` ends an element and
 * `\n      "<key>": ` opens one of its keys, whatever the values hold.
 */
import { sortKeys, stableJson } from '../core/canonical.js'

export interface Element {
  /** The value of the element's sort key. */
  id: string
  /** Its bytes as `stableJson` lays them out inside the array, a character a byte (`bytesOf`). */
  text: string
}

const ASCII = /^[\x00-\x7f]*$/
/** A key's value that is a string as JSON writes it with nothing escaped: no control character, no byte past ASCII. */
const PLAIN_STRING = /^"[^"\\\x00-\x1f\x80-\xff]*"$/

/** The UTF-8 bytes of `text`, a character a byte (as a file read as latin1 holds them). */
function bytesOf(text: string): string {
  return ASCII.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1')
}

/**
 * The elements of the array under `key` in `bytes` (a document `stableJson`
 * wrote), in order, each with the string value of its key `by`; undefined
 * when the bytes are not laid out so, or an element has no such key, or
 * they are not in order: the caller then parses the document.
 */
export function readElements(bytes: Buffer, key: string, by: string): Element[] | undefined {
  const text = bytes.toString('latin1')
  const name = JSON.stringify(key)
  if (text.includes(`\n  ${name}: []`)) return []
  const open = text.indexOf(`\n  ${name}: [\n`)
  if (open < 0) return undefined
  const opensKey = `\n      ${JSON.stringify(by)}: `
  const elements: Element[] = []
  let at = open + name.length + 7
  for (;;) {
    if (!text.startsWith('    {\n', at)) return undefined
    const end = text.indexOf('\n    }', at)
    if (end < 0) return undefined
    const line = text.indexOf(opensKey, at)
    if (line < 0 || line > end) return undefined
    const from = line + opensKey.length
    const to = text.indexOf('\n', from)
    const value = text.slice(from, text.charCodeAt(to - 1) === 44 /* , */ ? to - 1 : to)
    const id = PLAIN_STRING.test(value) ? value.slice(1, -1) : parseString(value)
    if (id === undefined || (elements.length > 0 && !(elements[elements.length - 1]!.id < id))) return undefined
    elements.push({ id, text: text.slice(at, end + 6) })
    at = end + 6
    if (text.startsWith('\n  ]', at)) return elements
    if (!text.startsWith(',\n', at)) return undefined
    at += 2
  }
}

/** The string a JSON value (its bytes, a character a byte) holds, or undefined. */
function parseString(value: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'latin1').toString('utf8'))
    return typeof parsed === 'string' ? parsed : undefined
  } catch {
    return undefined
  }
}

/** An object as `stableJson` lays it out as an element of a top-level array. */
export function elementText(value: object): string {
  return bytesOf(`    ${JSON.stringify(sortKeys(value), null, 2).replace(/\n/g, '\n    ')}`)
}

/**
 * `stableJson(doc)` with the array under `key` holding `elements` (already
 * in order): the same bytes as rendering the document whole.
 */
export function renderWithElements(doc: Record<string, unknown>, key: string, elements: readonly Element[]): Buffer {
  if (elements.length === 0) return Buffer.from(stableJson({ ...doc, [key]: [] }))
  const framed = bytesOf(stableJson({ ...doc, [key]: [0] }))
  const slot = `\n  ${JSON.stringify(key)}: [\n    0\n  ]`
  const at = framed.indexOf(slot)
  const cut = at + slot.length - 9
  return Buffer.from(`${framed.slice(0, cut)}${elements.map((e) => e.text).join(',\n')}${framed.slice(cut + 5)}`, 'latin1')
}

/**
 * `elements` (in order of id) with those of `set` (by id) put in, replacing
 * any of the same id, and those named in `remove` taken out, in order of id.
 */
export function mergeElements(elements: readonly Element[], set: readonly Element[], remove: ReadonlySet<string> = new Set()): Element[] {
  const replaced = new Set(set.map((e) => e.id))
  const added = [...set].sort(byId)
  const merged: Element[] = []
  let next = 0
  for (const element of elements) {
    while (next < added.length && added[next]!.id < element.id) merged.push(added[next++]!)
    if (!replaced.has(element.id) && !remove.has(element.id)) merged.push(element)
  }
  while (next < added.length) merged.push(added[next++]!)
  return merged
}

const byId = (a: Element, b: Element) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
