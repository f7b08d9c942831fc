/**
 * A change-feed page only grows at its end: the bytes `feedPageKept` names
 * stay when entries are appended, which is what lets a reader ask for the
 * rest alone.
 */
import { describe, expect, it } from 'vitest'
import { feedPageKept, FEED_PAGE_SIZE, type FeedEntry } from '../../src/api/index.js'
import { renderFeedPage } from '../../src/api/documents.js'

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
