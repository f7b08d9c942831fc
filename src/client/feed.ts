/**
 * Reading a registry's change feed through a verified reader: the head and
 * every page are checked against the snapshot, and each entry's signed file
 * can be fetched by the digest the entry gives. A peer syncs from a cursor
 * (the last `seq` it applied). A page only grows at its end, so a page read
 * before costs only the entries added since (see `readAppended`).
 */
import { FEED_PAGE_SIZE, PATHS, feedPageKept, feedPagePath, type FeedEntry } from '../api/index.js'
import { WharfError } from '../core/errors.js'
import type { RegistryReader } from './reader.js'

export interface FeedHead {
  seq: number
  pages: number
}

async function readJson<T>(reader: RegistryReader, path: string, appended = false): Promise<T | undefined> {
  const bytes = appended ? await reader.readAppended(path, feedPageKept) : await reader.read(path)
  if (!bytes) return undefined
  try {
    return JSON.parse(bytes.toString('utf8')) as T
  } catch (e) {
    throw new WharfError('INVALID_RECORD', `${path} of ${reader.source} is not JSON: ${(e as Error).message}`, { hint: 'the registry serves a broken file; tell its operators' })
  }
}

/** Feed pages read at a time: a first sync of a large registry reads a thousand of them. */
const PAGES_AT_ONCE = 8

/** The entries after `since` (a `seq`; 0 for all), in order, and the feed's last `seq`. */
export async function readFeed(reader: RegistryReader, since = 0): Promise<{ entries: FeedEntry[]; seq: number }> {
  const head = await readJson<FeedHead>(reader, PATHS.feedHead)
  if (!head || !Number.isSafeInteger(head.seq) || head.seq < 0) throw new WharfError('MISSING_FILE', `${reader.source} has no change feed`, { hint: 'is it a wharf registry built by `wharf build-api`?' })
  if (since > head.seq) {
    throw new WharfError('SNAPSHOT_ROLLBACK', `the feed of ${reader.source} ends at ${head.seq}, before the cursor ${since}`, { hint: 'the registry was rolled back, or the cursor belongs to another registry' })
  }
  const first = Math.floor(since / FEED_PAGE_SIZE)
  const last = head.seq === 0 ? -1 : Math.floor((head.seq - 1) / FEED_PAGE_SIZE)
  // Every page is a file the snapshot lists: a feed that claims more is broken, and is not read page by page to find out.
  if (last - first + 1 > reader.snapshot.file_count) {
    throw new WharfError('INVALID_RECORD', `the feed of ${reader.source} says it ends at ${head.seq}, more pages than the registry has files`, { hint: 'the registry serves a broken feed; tell its operators' })
  }
  const entries: FeedEntry[] = []
  for (let start = first; start <= last; start += PAGES_AT_ONCE) {
    const batch = Array.from({ length: Math.min(PAGES_AT_ONCE, last - start + 1) }, (_, i) => start + i)
    const pages = await Promise.all(
      batch.map(async (page) => {
        const doc = await readJson<{ entries?: unknown }>(reader, feedPagePath(page), true)
        if (!doc || !Array.isArray(doc.entries)) throw new WharfError('MISSING_FILE', `feed page ${page} of ${reader.source} is missing`, { hint: 'the registry is inconsistent; tell its operators' })
        for (const entry of doc.entries as unknown[]) {
          if (entry === null || typeof entry !== 'object' || !Number.isSafeInteger((entry as FeedEntry).seq)) {
            throw new WharfError('INVALID_RECORD', `feed page ${page} of ${reader.source} holds an entry that is not a numbered change`, { hint: 'the registry serves a broken feed; tell its operators' })
          }
        }
        return doc.entries as FeedEntry[]
      }),
    )
    for (const page of pages) for (const entry of page) if (entry.seq > since) entries.push(entry)
  }
  return { entries, seq: head.seq }
}

/** The signed index file (record or yank notice) a feed entry names, verified by the digest the entry gives (and no longer than `maxSize`). */
export function readFeedFile(reader: RegistryReader, entry: FeedEntry, maxSize?: number): Promise<Buffer> {
  return reader.readByDigest(entry.file, { sha256: entry.file_sha256, ...(maxSize === undefined ? {} : { maxSize }) }, `${entry.name}@${entry.version} (${entry.type})`)
}
