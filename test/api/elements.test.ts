/**
 * A search shard and the search index's top, updated an element at a time
 * (src/api/elements.ts), are the bytes their renderers write for the whole
 * document, whatever the elements hold; bytes not laid out as a renderer
 * lays them out are declined, so the build parses them instead. Elements
 * are cut and joined as bytes (latin1), so names and text past ASCII must
 * come back the same.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { elementText, mergeElements, readElements, renderWithElements } from '../../src/api/elements.js'
import { renderSearchIndex, renderSearchShard, type SearchEntry, type Site } from '../../src/api/documents.js'

const COMMIT = 'c'.repeat(40)

// Names and descriptions with what JSON must escape, and text that looks like the layout the reader relies on.
const hex = (minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength, maxLength })
const text = fc.oneof(fc.string(), fc.constantFrom('\n    }', '\n      "name": "x",', '",\n', '\\', '\u2028', '}]'))
const entry = (name: string, description: string, keywords: string[]): SearchEntry =>
  ({ name, kind: 'component', description, keywords, latest: '1.0.0', versions: 1, yanked: false, commit: COMMIT }) as unknown as SearchEntry
const name = fc.oneof(fc.string({ minLength: 1 }), fc.string({ minLength: 1, unit: 'grapheme' }), fc.string({ minLength: 1, unit: 'binary' }))
const entries = fc.uniqueArray(fc.record({ name, description: fc.oneof(text, fc.string({ unit: 'grapheme' })), keywords: fc.array(text, { maxLength: 3 }) }), { selector: (e) => e.name, maxLength: 12 })

describe('a search shard updated an element at a time', () => {
  it('is the bytes of the shard rendered whole', () => {
    fc.assert(
      fc.property(entries, entries, fc.integer({ min: 0, max: 12 }), (before, changed, removed) => {
        const old = renderSearchShard('0a', before.map((e) => entry(e.name, e.description, e.keywords)), COMMIT)
        const elements = readElements(Buffer.from(old), 'packages', 'name')
        expect(elements?.map((e) => e.id)).toEqual(before.map((e) => e.name).sort((a, b) => (a < b ? -1 : 1)))
        const gone = new Set(before.slice(0, removed).map((e) => e.name))
        const set = changed.map((e) => ({ id: e.name, text: elementText(entry(e.name, e.description, e.keywords)) }))
        const after = new Map(before.filter((e) => !gone.has(e.name)).map((e) => [e.name, e]))
        for (const e of changed) after.set(e.name, e)
        const whole = renderSearchShard('0a', [...after.values()].map((e) => entry(e.name, e.description, e.keywords)), 'd'.repeat(40))
        expect(renderWithElements({ shard: '0a', commit: 'd'.repeat(40) }, 'packages', mergeElements(elements!, set, gone))).toEqual(Buffer.from(whole))
      }),
    )
  })

  it('declines bytes that are not a shard as the renderer lays one out', () => {
    const shard = renderSearchShard('0a', [entry('acme:b', 'b', []), entry('acme:a', 'a', [])], COMMIT)
    expect(readElements(Buffer.from(shard), 'packages', 'name')?.map((e) => e.id)).toEqual(['acme:a', 'acme:b'])
    for (const bytes of [
      JSON.stringify(JSON.parse(shard)), // another layout
      shard.replace('"name": "acme:a"', '"name": "acme:c"'), // out of order
      shard.replace('"name": "acme:a",', '"title": "acme:a",'), // no sort key
      shard.replace('"name": "acme:a"', '"name": 7'), // not a string
      shard.replace('"name": "acme:a"', '"name": "acme:a'), // not JSON
      shard.slice(0, shard.lastIndexOf('\n    }')), // cut short
    ]) {
      expect(readElements(Buffer.from(bytes), 'packages', 'name')).toBeUndefined()
    }
    expect(readElements(Buffer.from(renderSearchShard('0a', [], COMMIT)), 'packages', 'name')).toEqual([])
  })
})

describe('the search index top updated an element at a time', () => {
  it('is the bytes of the top rendered whole', () => {
    const site = { baseUrl: 'https://registry.example', head: COMMIT } as Site
    const shards = fc.uniqueArray(fc.record({ shard: hex(1, 3), count: fc.nat(), sha256: hex(64, 64) }), { selector: (s) => s.shard, maxLength: 20 })
    fc.assert(
      fc.property(shards, shards, (before, changed) => {
        const info = new Map(before.map((s) => [s.shard, { count: s.count, sha256: s.sha256 }]))
        const old = renderSearchIndex(site, info)
        const elements = readElements(Buffer.from(old), 'shards', 'shard')!
        const top = JSON.parse(old) as { shards: Record<string, unknown>[] }
        const set = changed.map((s) => ({ id: s.shard, text: elementText({ ...top.shards[0], shard: s.shard, packages: s.count, sha256: s.sha256, url: `${site.baseUrl}/api/v1/search-index/${s.shard}.json` }) }))
        for (const s of changed) info.set(s.shard, { count: s.count, sha256: s.sha256 })
        const next = { ...site, head: 'e'.repeat(40) }
        expect(renderWithElements({ commit: next.head }, 'shards', mergeElements(elements, set))).toEqual(Buffer.from(renderSearchIndex(next, info)))
      }),
    )
  })
})
