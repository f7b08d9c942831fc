/**
 * Where a sync keeps the artifacts it verified until its commit stores them:
 * a directory of its own under `.wharf/sync/staging/`, one file per sha256,
 * on disk rather than in memory (a first sync may import thousands), and
 * removed when the sync ends. A directory left by a sync that died is
 * removed by the next one.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Cache } from '../client/index.js'
import { SHA256_HEX, sha256Hex } from '../core/hash.js'
import { processAlive } from '../git/index.js'

export interface Staging extends Cache {
  /** The staged copy of `sha256`. */
  file(sha256: string): string
  /** The staged bytes, checked against their digest. */
  read(sha256: string): Promise<Buffer>
  /** Removes the directory and everything in it. */
  dispose(): Promise<void>
}

/** A staging directory for one sync under `root`; directories of syncs that are no longer running are removed first. */
export async function openStaging(root: string): Promise<Staging> {
  await fs.promises.mkdir(root, { recursive: true })
  for (const name of await fs.promises.readdir(root)) {
    const pid = Number(name.split('-')[0])
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) await fs.promises.rm(path.join(root, name), { recursive: true, force: true })
  }
  const dir = path.join(root, `${process.pid}-${randomBytes(4).toString('hex')}`)
  await fs.promises.mkdir(dir)
  const file = (sha256: string) => {
    if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a sha256: ${sha256}`)
    return path.join(dir, sha256)
  }
  const get = async (sha256: string): Promise<Buffer | undefined> => {
    const bytes = await fs.promises.readFile(file(sha256)).catch(() => undefined)
    return bytes && sha256Hex(bytes) === sha256 ? bytes : undefined
  }
  return {
    dir,
    file,
    get,
    async put(sha256, bytes) {
      // Staged copies need not survive a crash (the sync starts over), so no fsync: a temp file and a rename.
      const temp = `${file(sha256)}.${randomBytes(4).toString('hex')}.tmp`
      await fs.promises.writeFile(temp, bytes)
      await fs.promises.rename(temp, file(sha256))
    },
    async read(sha256) {
      const bytes = await get(sha256)
      if (!bytes) throw new Error(`the staged artifact ${sha256} is missing or changed`)
      return bytes
    },
    registry() {
      throw new TypeError('a staging area holds artifacts only')
    },
    dispose: () => fs.promises.rm(dir, { recursive: true, force: true }),
  }
}
