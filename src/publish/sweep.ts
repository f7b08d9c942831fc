/**
 * What an interrupted write leaves behind (a full disk, a crash, a kill), and
 * its removal:
 *
 * - temp files of atomic writes (`<file>.<pid>.<hex>.tmp`) whose process is
 *   gone: in the artifact store, under `.git/refs`, in the server's state;
 * - loose git objects that are empty, truncated or do not hash to their name:
 *   isomorphic-git writes objects in place and never rewrites one that
 *   exists, so a broken one would poison every later write of the same
 *   content. One that a ref points at is kept and reported (that history is
 *   already broken, and deleting it would not mend it);
 * - a `.git/index` cut short (it is written in place too): removed, so the
 *   caller can write it again from main.
 *
 * Objects are checked by reading and hashing them; `sinceMs` limits that to
 * objects written since then (a failed write checks only its own; a start
 * checks what came after the previous start's sweep).
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { inflateSync } from 'node:zlib'
import { processAlive, type Repo } from '../git/index.js'
import { STORE_DIR } from '../store/index.js'

/** writeFileAtomic's temp files: `<file>.<pid>.<8 hex>.tmp`. */
const ATOMIC_TEMP = /\.(\d+)\.[0-9a-f]{8}\.tmp$/

export interface SweepResult {
  /** Temp files removed. */
  temps: string[]
  /** Broken loose objects removed, by id. */
  objects: string[]
  /** Broken loose objects kept because a ref points at them. */
  referenced: string[]
  /** True when `.git/index` was broken and removed (write it again from main). */
  gitIndexRemoved: boolean
}

async function* walk(dir: string): AsyncGenerator<string> {
  let entries: fs.Dirent[]
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true })
  } catch {
    return
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) yield* walk(full)
    else yield full
  }
}

/** Removes atomic-write temp files under `dirs` whose writer is no longer running (or is this process, at start). */
export async function removeDeadTemps(dirs: readonly string[], options: { ownAreDead: boolean }): Promise<string[]> {
  const removed: string[] = []
  for (const dir of dirs) {
    for await (const file of walk(dir)) {
      const pid = Number(ATOMIC_TEMP.exec(file)?.[1] ?? Number.NaN)
      if (!Number.isInteger(pid)) continue
      if (pid === process.pid ? !options.ownAreDead : processAlive(pid)) continue
      await fs.promises.rm(file, { force: true })
      removed.push(file)
    }
  }
  return removed
}

/** Whether a loose object file holds a whole object that hashes to `oid`. */
export function looseObjectIntact(raw: Buffer, oid: string): boolean {
  let inflated: Buffer
  try {
    inflated = inflateSync(raw)
  } catch {
    return false
  }
  const nul = inflated.indexOf(0)
  const header = /^(blob|tree|commit|tag) (\d+)$/.exec(inflated.subarray(0, Math.max(0, nul)).toString('latin1'))
  if (nul < 0 || !header || Number(header[2]) !== inflated.length - nul - 1) return false
  return createHash('sha1').update(inflated).digest('hex') === oid
}

/** Every object id a ref (loose, packed or HEAD) points at. */
async function refTips(gitdir: string): Promise<Set<string>> {
  const tips = new Set<string>()
  const add = (text: string) => {
    for (const m of text.matchAll(/\b[0-9a-f]{40}\b/g)) tips.add(m[0])
  }
  for await (const file of walk(path.join(gitdir, 'refs'))) add(await fs.promises.readFile(file, 'utf8').catch(() => ''))
  for (const file of ['packed-refs', 'HEAD']) add(await fs.promises.readFile(path.join(gitdir, file), 'utf8').catch(() => ''))
  return tips
}

/** Removes loose objects written since `sinceMs` (all, when absent) that are not whole; keeps and reports those a ref points at. */
export async function removeBrokenObjects(gitdir: string, sinceMs?: number): Promise<{ removed: string[]; referenced: string[] }> {
  const removed: string[] = []
  const referenced: string[] = []
  let tips: Set<string> | undefined
  const objects = path.join(gitdir, 'objects')
  const fans = (await fs.promises.readdir(objects).catch(() => [] as string[])).filter((d) => /^[0-9a-f]{2}$/.test(d))
  for (const fan of fans) {
    for (const name of await fs.promises.readdir(path.join(objects, fan)).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{38}$/.test(name)) continue
      const file = path.join(objects, fan, name)
      let stat: fs.Stats
      try {
        stat = await fs.promises.stat(file)
      } catch {
        continue
      }
      if (sinceMs !== undefined && stat.mtimeMs < sinceMs && stat.size > 0) continue
      const oid = fan + name
      if (looseObjectIntact(await fs.promises.readFile(file), oid)) continue
      tips ??= await refTips(gitdir)
      if (tips.has(oid)) {
        referenced.push(oid)
        continue
      }
      await fs.promises.rm(file, { force: true })
      removed.push(oid)
    }
  }
  return { removed, referenced }
}

/** Whether `.git/index` is whole: git's DIRC header and its trailing SHA-1 over the rest. A missing index is whole (there is nothing to misread). */
export async function gitIndexIntact(gitdir: string): Promise<boolean> {
  let raw: Buffer
  try {
    raw = await fs.promises.readFile(path.join(gitdir, 'index'))
  } catch {
    return true
  }
  if (raw.length < 32 || raw.toString('latin1', 0, 4) !== 'DIRC') return false
  const body = raw.subarray(0, raw.length - 20)
  return createHash('sha1').update(body).digest().equals(raw.subarray(raw.length - 20))
}

/**
 * Everything above for the index repo of `repo` (and `stateDirs` for temp
 * files). At start (`temps`), every temp file of a dead writer goes and a
 * broken .git/index too; after a failed write, only objects (temps are
 * removed by the write that made them; a broken .git/index makes the
 * following writes' work tree step fail, which the next start repairs).
 */
export async function sweep(repo: Repo, options: { sinceMs?: number; temps: boolean; stateDirs?: readonly string[] }): Promise<SweepResult> {
  const atStart = options.temps
  const gitdir = path.join(repo.dir, '.git')
  const temps = options.temps
    ? await removeDeadTemps([path.join(repo.dir, STORE_DIR), path.join(gitdir, 'refs'), ...(options.stateDirs ?? [])], { ownAreDead: true })
    : []
  const { removed, referenced } = await removeBrokenObjects(gitdir, options.sinceMs)
  let gitIndexRemoved = false
  // Only at start, where the work tree is then written again from main; mid-run, later writes would rebuild it partially.
  if (atStart && !(await gitIndexIntact(gitdir))) {
    await fs.promises.rm(path.join(gitdir, 'index'), { force: true })
    gitIndexRemoved = true
  }
  return { temps, objects: removed, referenced, gitIndexRemoved }
}
