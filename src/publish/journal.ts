/**
 * The write journal: before a write touches anything it records what it is
 * about to do, and the entry goes only once the write is answered. On start,
 * each entry left behind is finished (when main already holds its files: the
 * merge is the commit point) or rolled back (branch and new artifacts removed).
 */
import fs from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../store/index.js'

export interface JournalEntry {
  id: string
  label: string
  branch: string
  /** Tip of main when the write began. */
  base: string
  /** Every file the write adds or changes, with the blob id main holds once it is merged. */
  files: { path: string; oid: string }[]
  /** The artifact it stores, and whether the store had it before (then it is never removed). */
  artifact?: { sha256: string; preexisting: boolean }
  /** More artifacts it stores (an import's), each the same way. */
  artifacts?: { sha256: string; preexisting: boolean }[]
  started_at: string
}

export interface Journal {
  write(entry: JournalEntry): Promise<void>
  remove(id: string): Promise<void>
  pending(): Promise<JournalEntry[]>
  /** When the last start's sweep ran (ms since the epoch), if one did. */
  readMark(): Promise<number | undefined>
  writeMark(at: number): Promise<void>
}

export function createJournal(dir: string): Journal {
  const file = (id: string) => path.join(dir, `${id}.json`)
  const markFile = path.join(dir, 'swept-at')
  return {
    async readMark() {
      const at = Number((await fs.promises.readFile(markFile, 'utf8').catch(() => '')).trim() || Number.NaN)
      return Number.isFinite(at) ? at : undefined
    },
    async writeMark(at) {
      await writeFileAtomic(markFile, `${at}\n`)
    },
    async write(entry) {
      await writeFileAtomic(file(entry.id), `${JSON.stringify(entry)}\n`)
    },
    async remove(id) {
      await fs.promises.rm(file(id), { force: true })
    },
    async pending() {
      const names = await fs.promises.readdir(dir).catch(() => [] as string[])
      const entries: JournalEntry[] = []
      for (const name of names.sort()) {
        if (name.endsWith('.tmp')) {
          // A journal write cut short: the write it announced never started.
          await fs.promises.rm(path.join(dir, name), { force: true })
          continue
        }
        if (!name.endsWith('.json')) continue
        entries.push(JSON.parse(await fs.promises.readFile(path.join(dir, name), 'utf8')) as JournalEntry)
      }
      return entries
    },
  }
}
