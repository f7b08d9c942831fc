/**
 * A change-feed page only grows at its end: the bytes `feedPageKept` names
 * stay when entries are appended, which is what lets a reader ask for the
 * rest alone, and what lets an incremental build append to a page
 * (`appendFeedPage`) without reading and rendering what it holds.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { feedPageKept, FEED_PAGE_SIZE, type FeedEntry } from '../../src/api/index.js'
import { appendFeedPage, renderFeedPage } from '../../src/api/documents.js'

const entry = (seq: number, name = 'acme:calc'): FeedEntry => ({
  seq,
  type: seq % 7 === 0 ? 'yank' : 'publish',
  name,
  version: `1.0.${seq}`,
  commit: seq.toString(16).padStart(40, '0'),
  time: '2026-11-30T12:00:00Z',
  sha256: 'a'.repeat(64),
  file: `index/packages/acme/calc/1.0.${seq}.json`,
  file_sha256: 'b'.repeat(64),
})

describe('feedPageKept', () => {
  it.each([
    [1, 1],
    [1, 5],
    [17, 1],
    [998, 2],
  ])('keeps the bytes of a page of %i entries when %i more are appended, up to the end of its last entry', (before, added) => {
    const page = 3
    const first = page * FEED_PAGE_SIZE + 1
    const entries = Array.from({ length: before + added }, (_, i) => entry(first + i, i === 0 ? 'acme:odd]}' : 'acme:calc'))
    const old = Buffer.from(renderFeedPage(page, entries.slice(0, before)))
    const grown = Buffer.from(renderFeedPage(page, entries))
    const kept = feedPageKept(old)
    expect(old.subarray(0, kept).equals(grown.subarray(0, kept))).toBe(true)
    // Everything after is the closing bytes alone: a reader asks for little more than the new entries.
    expect(old.length - kept).toBeLessThan(80)
    expect(JSON.parse(old.subarray(0, kept).toString('utf8') + '\n]}').entries).toHaveLength(before)
  })

  it('keeps nothing of bytes that are not a page', () => {
    for (const text of ['', '{}', '[]', '{"entries": []}', 'not json]']) expect(feedPageKept(Buffer.from(text))).toBe(0)
  })
})

describe('appendFeedPage', () => {
  const page = 2
  const first = page * FEED_PAGE_SIZE + 1
  // Names and files with bytes no valid record holds (newlines, quotes, brackets): the splice does not lean on validation.
  const odd = fc.constantFrom('acme:calc', 'acme:odd]}', 'x\n    {"seq": 1}', '"\\', 'é\u2028', '{\n')

  it('gives the bytes of the page rendered whole', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: FEED_PAGE_SIZE - 1 }), fc.integer({ min: 1, max: 6 }), fc.array(odd, { minLength: 1, maxLength: 8 }), (before, more, names) => {
        const added = Math.min(more, FEED_PAGE_SIZE - before)
        const entries = Array.from({ length: before + added }, (_, i) => ({ ...entry(first + i, names[i % names.length]), file: `index/${names[(i + 1) % names.length]}` }))
        const old = Buffer.from(renderFeedPage(page, entries.slice(0, before)))
        const grown = appendFeedPage(page, old, first + before - 1, entries.slice(before))
        expect(grown?.toString('utf8')).toBe(renderFeedPage(page, entries))
      }),
      { numRuns: 60 },
    )
  })

  it('declines a page that does not end where the state says, or is not the page', () => {
    const entries = Array.from({ length: 5 }, (_, i) => entry(first + i))
    const old = Buffer.from(renderFeedPage(page, entries.slice(0, 4)))
    const more = entries.slice(4)
    expect(appendFeedPage(page, old, first + 3, more)).toBeDefined()
    // A build cut short wrote entries the state does not count; or the state counts more than the page holds.
    expect(appendFeedPage(page, old, first + 2, more)).toBeUndefined()
    expect(appendFeedPage(page, old, first + 4, more)).toBeUndefined()
    // Another page's bytes, a page cut short, bytes that are not a page, nothing to add.
    expect(appendFeedPage(page + 1, old, first + 3, more)).toBeUndefined()
    expect(appendFeedPage(page, old.subarray(0, old.length - 30), first + 3, more)).toBeUndefined()
    for (const text of ['', '{}', ']', '{"entries": [\n    {"seq": 2004}\n  ]}']) expect(appendFeedPage(page, Buffer.from(text), first + 3, more)).toBeUndefined()
    expect(appendFeedPage(page, old, first + 3, [])).toBeUndefined()
  })
})
