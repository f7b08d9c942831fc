/**
 * One writer at a time per index repo: an exclusive lock file under .wharf/,
 * taken away from a process that died holding it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { WharfError } from '../core/errors.js'

/** Whether a process with this id exists (one we may not signal still does). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function withRepoLock<T>(dir: string, work: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const file = path.join(dir, '.wharf', 'lock')
  await fs.promises.mkdir(path.dirname(file), { recursive: true })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await fs.promises.writeFile(file, String(process.pid), { flag: 'wx' })
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        // Created but not written (a full disk): an empty lock would name no holder and block every writer.
        await fs.promises.rm(file, { force: true })
        throw e
      }
      const holder = Number((await fs.promises.readFile(file, 'utf8').catch(() => '')) || Number.NaN)
      if (Number.isInteger(holder) && !processAlive(holder)) {
        await fs.promises.rm(file, { force: true })
        continue
      }
      if (Date.now() > deadline) {
        throw new WharfError('LOCKED', `${dir} is locked by process ${holder}`, { hint: 'wait for the other wharf command to finish' })
      }
      await sleep(25)
    }
  }
  try {
    return await work()
  } finally {
    await fs.promises.rm(file, { force: true })
  }
}
