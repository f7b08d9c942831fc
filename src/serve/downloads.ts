/**
 * Download counters, persisted under the data dir. A download only bumps a
 * number in memory; the file is rewritten (atomically) at most every
 * `flushMs`, and on close.
 */
import fs from 'node:fs'
import { writeFileAtomic } from '../store/index.js'

export interface Downloads {
  count(name: string, version: string): void
  total(): number
  of(name: string, version?: string): number
  /** The most downloaded versions, most first (ties by name and version). */
  top(limit: number): { name: string; version: string; downloads: number }[]
  close(): Promise<void>
}

interface Stored {
  total: number
  versions: Record<string, number>
}

export async function openDownloads(file: string, flushMs = 500): Promise<Downloads> {
  let stored: Stored = { total: 0, versions: {} }
  try {
    const parsed = JSON.parse(await fs.promises.readFile(file, 'utf8')) as Stored
    if (Number.isInteger(parsed.total) && parsed.versions && typeof parsed.versions === 'object') stored = parsed
  } catch {
    // No counters yet (first start), or a file from before the format: start from zero.
  }
  let timer: NodeJS.Timeout | undefined
  let writing: Promise<void> = Promise.resolve()
  const flush = () => {
    timer = undefined
    const snapshot = JSON.stringify(stored)
    writing = writing.then(() => writeFileAtomic(file, snapshot).catch(() => undefined))
    return writing
  }
  return {
    count(name, version) {
      const key = `${name}@${version}`
      stored.versions[key] = (stored.versions[key] ?? 0) + 1
      stored.total += 1
      timer ??= setTimeout(flush, flushMs)
      timer.unref?.()
    },
    total: () => stored.total,
    of(name, version) {
      if (version) return stored.versions[`${name}@${version}`] ?? 0
      let n = 0
      for (const [key, value] of Object.entries(stored.versions)) if (key.startsWith(`${name}@`)) n += value
      return n
    },
    top(limit) {
      return Object.entries(stored.versions)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, limit)
        .map(([key, downloads]) => ({ name: key.slice(0, key.lastIndexOf('@')), version: key.slice(key.lastIndexOf('@') + 1), downloads }))
    },
    async close() {
      if (timer) clearTimeout(timer)
      await flush()
    },
  }
}
