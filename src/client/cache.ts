/**
 * The client's cache, shared by every project of a user
 * (`$XDG_CACHE_HOME/wharf`, else `~/.cache/wharf`):
 *
 *   blobs/sha256/<xx>/<hex>      any file by the sha256 of its bytes: artifacts, records,
 *                                namespace files, API documents, snapshot parts and leaves
 *   registries/<host>-<id>/      what the client holds about one registry:
 *     snapshot.json              the newest snapshot it accepted (rollback and freeze checks)
 *     trust.json                 the registry keys trusted on first use
 *     etags.json                 URL -> {etag, sha256} of documents fetched without a known digest
 *
 * A blob is checked against its name when read, so a damaged or altered
 * cache costs a download, never a wrong byte. Every write is a temp file and
 * a rename: two installs sharing the cache see whole files or none.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { noSpaceError, WharfError } from '../core/errors.js'
import { sha256Hex, SHA256_HEX } from '../core/hash.js'

/** The cache directory: `$XDG_CACHE_HOME/wharf`, else `~/.cache/wharf`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.cache'), 'wharf')
}

/**
 * What a failed read or write of the client's own files (the install
 * directory, the lockfile, the cache) means to a user: a full disk
 * (NO_SPACE), or a path that cannot be used as one (IO), each naming the
 * file; anything else as it came.
 */
export function localFileError(e: unknown, file: string, doing: 'read' | 'write'): unknown {
  const full = noSpaceError(e, `writing ${file}`, 'free space on that disk (or raise the quota), then run the command again')
  if (full) return full
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (typeof code !== 'string' || !code.startsWith('E')) return e
  return new WharfError('IO', `cannot ${doing} ${file}: ${(e as Error).message}`, {
    hint: 'check that the path is a directory you may write to, or choose another one ([install] dir, --lockfile, XDG_CACHE_HOME)',
    cause: e,
  })
}

/** Writes `bytes` to `file` by temp file and rename, creating its directory. */
export async function writeAtomic(file: string, bytes: Uint8Array | string, mode?: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await fs.promises.mkdir(path.dirname(file), { recursive: true })
    await fs.promises.writeFile(temp, bytes, mode === undefined ? undefined : { mode })
    await fs.promises.rename(temp, file)
  } catch (e) {
    await fs.promises.rm(temp, { force: true }).catch(() => undefined)
    throw localFileError(e, file, 'write')
  }
}

/** A file's bytes, or undefined when there is no such file. */
export async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.promises.readFile(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw localFileError(e, file, 'read')
  }
}

/** Where the client keeps what it knows of one registry, named by its URL. */
export interface RegistryState {
  dir: string
  readSnapshot(): Promise<Buffer | undefined>
  writeSnapshot(bytes: Uint8Array): Promise<void>
  readTrust(): Promise<TrustFile | undefined>
  writeTrust(trust: TrustFile): Promise<void>
  etag(url: string): Promise<{ etag: string; sha256: string } | undefined>
  setEtag(url: string, etag: string, sha256: string): Promise<void>
}

export interface TrustFile {
  registry: string
  /** Keys taken from the registry's config.json on first use. */
  keys: { id: string; public_key: string }[]
  first_seen: string
}

/**
 * The trust file as this client wrote it, or CACHE naming it: keys are what
 * every snapshot is checked against, so a damaged file is never guessed at.
 */
function parseTrust(bytes: Buffer, file: string): TrustFile {
  let trust: Partial<TrustFile> | null = null
  try {
    trust = JSON.parse(bytes.toString('utf8')) as Partial<TrustFile> | null
  } catch {
    // Reported below with the other ways of being broken.
  }
  const isKey = (k: unknown) => k !== null && typeof k === 'object' && typeof (k as { id?: unknown }).id === 'string' && typeof (k as { public_key?: unknown }).public_key === 'string'
  if (!trust || typeof trust !== 'object' || !Array.isArray(trust.keys) || !trust.keys.every(isKey)) {
    throw new WharfError('CACHE', `${file} is damaged: it is not the list of registry keys this client trusts`, {
      hint: "delete it to learn the registry's key again on the next install (compare the key it notes with one the registry's operators publish), or pin the key in wharf.toml",
    })
  }
  return trust as TrustFile
}

export interface Cache {
  dir: string
  /** The bytes whose sha256 is `sha256`, or undefined (a damaged entry is dropped). */
  get(sha256: string): Promise<Buffer | undefined>
  /** Stores bytes under their sha256, which the caller has already checked. */
  put(sha256: string, bytes: Uint8Array): Promise<void>
  registry(url: string): RegistryState
}

/** A registry URL as one key: lower-case scheme and host, no trailing slash. */
export function normalizeRegistryUrl(url: string): string {
  try {
    // URL lower-cases scheme and host and drops default ports.
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`
  } catch {
    return url.replace(/\/+$/, '')
  }
}

export function openCache(dir: string): Cache {
  const blobPath = (sha256: string) => path.join(dir, 'blobs', 'sha256', sha256.slice(0, 2), sha256)
  const memory = new Map<string, Buffer>()
  return {
    dir,
    async get(sha256) {
      if (!SHA256_HEX.test(sha256)) return undefined
      const held = memory.get(sha256)
      if (held) return held
      const bytes = await readOptional(blobPath(sha256))
      if (!bytes) return undefined
      if (sha256Hex(bytes) !== sha256) {
        await fs.promises.rm(blobPath(sha256), { force: true })
        return undefined
      }
      return bytes
    },
    async put(sha256, bytes) {
      if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a sha256: ${sha256}`)
      // Small documents are read again within one run (parts, leaves, namespace files): keep them at hand.
      if (bytes.length <= 64 * 1024) memory.set(sha256, Buffer.from(bytes))
      const file = blobPath(sha256)
      if (fs.existsSync(file)) return
      await writeAtomic(file, bytes)
    },
    registry(url) {
      const key = normalizeRegistryUrl(url)
      let host = 'registry'
      try {
        host = new URL(key).host.replace(/[^a-z0-9.-]/gi, '_')
      } catch {
        // Not a URL: the digest alone names it.
      }
      const stateDir = path.join(dir, 'registries', `${host}-${sha256Hex(key).slice(0, 12)}`)
      const etagsFile = path.join(stateDir, 'etags.json')
      let etags: Promise<Record<string, { etag: string; sha256: string }>> | undefined
      const loadEtags = () =>
        (etags ??= readOptional(etagsFile).then((b) => {
          try {
            return b ? (JSON.parse(b.toString('utf8')) as Record<string, { etag: string; sha256: string }>) : {}
          } catch {
            return {}
          }
        }))
      return {
        dir: stateDir,
        readSnapshot: () => readOptional(path.join(stateDir, 'snapshot.json')),
        writeSnapshot: (bytes) => writeAtomic(path.join(stateDir, 'snapshot.json'), bytes),
        async readTrust() {
          const file = path.join(stateDir, 'trust.json')
          const bytes = await readOptional(file)
          return bytes ? parseTrust(bytes, file) : undefined
        },
        writeTrust: (trust) => writeAtomic(path.join(stateDir, 'trust.json'), `${JSON.stringify(trust, null, 2)}\n`),
        async etag(u) {
          return (await loadEtags())[u]
        },
        async setEtag(u, etag, sha256) {
          const all = await loadEtags()
          all[u] = { etag, sha256 }
          await writeAtomic(etagsFile, `${JSON.stringify(all, null, 2)}\n`)
        },
      }
    },
  }
}
