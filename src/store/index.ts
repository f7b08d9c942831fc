/**
 * The content-addressed artifact store of a local index repo:
 * `.wharf/artifacts/sha256/<hex>`, ignored by git, written atomically.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { SHA256_HEX, sha256Hex } from '../core/hash.js'

export const STORE_DIR = '.wharf/artifacts/sha256'
export const LOCAL_URL_PREFIX = 'sha256:'

export function artifactPath(indexDir: string, sha256: string): string {
  if (!SHA256_HEX.test(sha256)) throw new WharfError('INVALID_DIGEST', `"${sha256}" is not a sha256 hex digest`)
  return path.join(indexDir, STORE_DIR, sha256)
}

/** Writes `bytes` to `file` so that a reader sees either nothing or the whole file. */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string, mode = 0o644): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true })
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await fs.promises.open(temp, 'w', mode)
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.promises.rename(temp, file)
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
