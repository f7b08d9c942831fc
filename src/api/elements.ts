/**
 * Documents that list objects in one sorted array (a search shard's
 * packages, the search index's shards), updated an element at a time. An
 * incremental build changes a few elements of such a document; reading all
 * of them as JSON and rendering them again costs what the document weighs
 * (a shard of 512 packages, a top of thousands of shards), so the elements
 * it does not change are kept as the bytes they are.
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
  /** Its bytes as `stableJson` lays them out inside the array. */
  text: string
}

/**
 * The elements of the array under `key` in `text` (a document `stableJson`
 * wrote), in order, each with the string value of its key `by`; undefined
 * when `text` is not laid out so, or an element has no such key, or they
 * are not in order: the caller then parses the document.
 */
export function readElements(text: string, key: string, by: string): Element[] | undefined {
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
    const element = text.slice(at, end + 6)
    const line = element.indexOf(opensKey)
    if (line < 0) return undefined
    const value = element.slice(line + opensKey.length, element.indexOf('\n', line + 1)).replace(/,$/, '')
    let id: unknown
    try {
      id = JSON.parse(value)
    } catch {
      return undefined
    }
    if (typeof id !== 'string' || (elements.length > 0 && !(elements[elements.length - 1]!.id < id))) return undefined
    elements.push({ id, text: element })
    at = end + 6
    if (text.startsWith('\n  ]', at)) return elements
    if (!text.startsWith(',\n', at)) return undefined
    at += 2
  }
}

/** An object as `stableJson` lays it out as an element of a top-level array. */
export function elementText(value: object): string {
  return `    ${JSON.stringify(sortKeys(value), null, 2).replace(/\n/g, '\n    ')}`
}

/**
 * `stableJson(doc)` with the array under `key` holding `elements` (already
 * in order): the same bytes as rendering the document whole.
 */
export function renderWithElements(doc: Record<string, unknown>, key: string, elements: readonly Element[]): string {
  if (elements.length === 0) return stableJson({ ...doc, [key]: [] })
  const framed = stableJson({ ...doc, [key]: [0] })
  const slot = `\n  ${JSON.stringify(key)}: [\n    0\n  ]`
  const at = framed.indexOf(slot)
  const cut = at + slot.length - 9
  return `${framed.slice(0, cut)}${elements.map((e) => e.text).join(',\n')}${framed.slice(cut + 5)}`
}

/**
 * `elements` with those of `set` (by id) put in, replacing any of the same
 * id, and those named in `remove` taken out, in order of id.
 */
export function mergeElements(elements: readonly Element[], set: readonly Element[], remove: ReadonlySet<string> = new Set()): Element[] {
  const replaced = new Set(set.map((e) => e.id))
  const kept = elements.filter((e) => !replaced.has(e.id) && !remove.has(e.id))
  return [...kept, ...set].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
