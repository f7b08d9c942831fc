/**
 * The content-addressed artifact store of a local index repo:
 * `.wharf/artifacts/sha256/<hex>`, ignored by git, written atomically; the
 * atomic file write every writer uses; and the removal of a tree that code
 * wharf ran wrote into.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { SHA256_HEX, sha256Hex } from '../core/hash.js'
import { LOCAL_URL_PREFIX } from '../core/layout.js'

export { removeTree } from './remove.js'

export const STORE_DIR = '.wharf/artifacts/sha256'
export { LOCAL_URL_PREFIX }

export function artifactPath(indexDir: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new WharfError('INVALID_DIGEST', `"${sha256}" is not a sha256 hex digest`)
  return path.join(indexDir, STORE_DIR, sha256)
}

/**
 * Writes `bytes` to `file` so that a reader, or a restart after a crash, sees
 * either the old file or the whole new one: a temp file beside it (named
 * `*.tmp`), flushed to disk, then renamed over it. Every file wharf writes
 * for keeps goes through here. `sync: false` leaves the flush to the caller,
 * which then flushes many files at once (build-api's in-place update).
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string, mode = 0o644, sync = true): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    // The directory is nearly always there: it is made when the temp file cannot be.
    const handle = await fs.promises.open(temp, 'w', mode).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e
      await fs.promises.mkdir(path.dirname(file), { recursive: true })
      return fs.promises.open(temp, 'w', mode)
    })
    try {
      await handle.writeFile(bytes)
      if (sync) await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.promises.rename(temp, file)
  } catch (e) {
    await fs.promises.rm(temp, { force: true })
    throw e
  }
}

export interface StoredArtifact {
  sha256: string
  size: number
  url: string
}

/** Adds bytes to the store (a no-op when the same digest is there) and returns their address. */
export async function putArtifact(indexDir: string, bytes: Uint8Array): Promise<StoredArtifact> {
  const sha256 = sha256Hex(bytes)
  const file = artifactPath(indexDir, sha256)
  if (!fs.existsSync(file)) await writeFileAtomic(file, bytes, 0o444)
  return { sha256, size: bytes.length, url: `${LOCAL_URL_PREFIX}${sha256}` }
}

/** The stored bytes for a digest, or undefined when the store does not have them. */
export async function readArtifact(indexDir: string, sha256: string): Promise<Uint8Array | undefined> {
  try {
    return await fs.promises.readFile(artifactPath(indexDir, sha256))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

export function isLocalUrl(url: string): boolean {
  return url.startsWith(LOCAL_URL_PREFIX)
}
