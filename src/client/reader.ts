/**
 * A verified view of a registry's static output, read from its URL and its
 * mirrors in order. Nothing a source sends is trusted: the snapshot must be
 * signed by the registry's key, unexpired and never older than the newest
 * this client saw; every other file must hash to the digest the snapshot
 * lists for its path, and an artifact to the sha256 and size its signed
 * record gives. Any source may serve any file, since only digests decide.
 * Each verified file lands in the content-addressed cache, so a file whose
 * digest is already known costs no request at all, and a file that only
 * grows at its end (a feed page) costs only the bytes it grew by.
 */
import { PATHS, SNAPSHOT_PATH, type Snapshot } from '../api/index.js'
import { parsePublicKey, keyId } from '../core/keys.js'
import type { TrustedKey } from '../core/dsse.js'
import { WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { normalizeRegistryUrl, type Cache, type RegistryState } from './cache.js'
import { urlFor, type Http } from './http.js'
import { checkSnapshot, createSnapshotIndex, isNewer, type SnapshotIndex } from './snapshot.js'

export interface ReaderOptions {
  /** The registry's URL: the root its static output is served from. */
  url: string
  /** Mirrors of the same output, tried in order when the registry fails. */
  mirrors?: string[]
  /** Registry keys pinned by configuration; without them, the keys seen first are trusted (and noted). */
  keys?: TrustedKey[]
  http: Http
  cache: Cache
  now?: Date
  /** Read the cache alone: the newest snapshot seen, and files by digest. */
  offline?: boolean
  /** Things a person should know: a key trusted on first use, a source that failed and was skipped. */
  note?: (message: string) => void
}

export interface ExpectedBytes {
  sha256: string
  size?: number
  /** At most this many bytes (a caller's own limit where the size is not known): a longer answer is not read to its end. */
  maxSize?: number
}

export interface RegistryReader {
  /** The registry's URL as given. */
  url: string
  /** The source whose snapshot was accepted (the registry or a mirror). */
  source: string
  snapshot: Snapshot
  keys: readonly TrustedKey[]
  /** The sha256 the snapshot lists for `path`, or undefined when there is no such file. */
  digestOf(path: string): Promise<string | undefined>
  /** A file of the output, verified against the snapshot (and no longer than `maxSize`); undefined when the snapshot lists no such file. */
  read(path: string, maxSize?: number): Promise<Buffer | undefined>
  /**
   * A file that only grows at its end (a feed page), read as `read` reads it,
   * but when the cache holds the copy the previous snapshot listed, only the
   * bytes after the first `kept(copy)` of it are asked for (HTTP Range), and
   * those bytes of the copy and the answer together must hash to the
   * snapshot's digest. A host that ignores the range, or an answer that does
   * not verify, costs a read of the whole file, verified as `read` does.
   */
  readAppended(path: string, kept: (copy: Buffer) => number): Promise<Buffer | undefined>
  /** A file whose digest the caller knows (from a record, a lockfile or a feed entry). */
  readByDigest(path: string, expected: ExpectedBytes, what?: string): Promise<Buffer>
  /**
   * An artifact by its URL in a record (`sha256:<hex>` for the registry's own
   * store, else an absolute URL, redirects followed), verified by size and sha256.
   */
  fetchArtifact(url: string, expected: ExpectedBytes, what: string, onBytes?: (n: number) => void): Promise<Buffer>
  /** Where an artifact is canonically served (the URL a lockfile names). */
  artifactUrl(url: string): string
}

const LOCAL_PREFIX = 'sha256:'
const base = (url: string) => url.replace(/\/+$/, '')

interface Problem {
  source: string
  error: WharfError
}

/** The error when no source would do: a wrong digest outranks a refusal, which outranks a missing file, which outranks an unreachable host. */
function worst(problems: Problem[], fallback: () => WharfError): WharfError {
  const rank = (e: WharfError) => (e.code === 'DIGEST_MISMATCH' ? 3 : e.code === 'MISSING_FILE' ? 1 : e.code === 'UNREACHABLE' ? 0 : 2)
  const sorted = [...problems].sort((a, b) => rank(b.error) - rank(a.error))
  const first = sorted[0]?.error ?? fallback()
  if (problems.length <= 1) return first
  const others = sorted.slice(1).map((p) => `${p.source}: ${p.error.message}`)
  return new WharfError(first.code, `${first.message}; also tried ${others.join('; ')}`, { hint: first.hint })
}

function mismatch(what: string, url: string, actual: string, expected: string, expectedFrom: string): WharfError {
  return new WharfError('DIGEST_MISMATCH', `${what}: ${url} has sha256 ${actual}, but ${expectedFrom} says ${expected}`, {
    hint: 'the file was altered on its way or on the host; nothing was installed. Try a mirror, and tell the registry operators',
  })
}

/**
 * The keys to verify snapshots with, and where they came from; `learned`
 * when they were read from the registry just now (trust on first use), to
 * be stored only once a snapshot they sign has verified.
 */
async function trustedKeys(options: ReaderOptions, state: RegistryState): Promise<{ keys: TrustedKey[]; pinned: boolean; learned?: boolean }> {
  if (options.keys?.length) return { keys: options.keys, pinned: true }
  const held = await state.readTrust()
  if (held?.keys.length) return { keys: held.keys, pinned: false }
  if (options.offline) {
    throw new WharfError('OFFLINE_MISSING', `no key of ${options.url} is known yet, so nothing from it can be verified offline`, {
      hint: 'install once online first, or pin the registry key in wharf.toml',
    })
  }
  // Trust on first use: the keys the registry itself publishes, never a mirror's.
  const answer = await options.http.get(urlFor(options.url, PATHS.config), { maxBytes: 1024 * 1024 }).catch((e: unknown) => {
    if (e instanceof WharfError && e.code === 'UNREACHABLE') {
      throw new WharfError(e.code, e.message, { hint: "on first use the registry's key is learned from the registry itself, not its mirrors: pin it in wharf.toml ([registry] key = \"...\") to install from a mirror" })
    }
    throw e
  })
  if (answer.status !== 200 || !answer.bytes) {
    throw new WharfError('UNTRUSTED_REGISTRY', `${options.url}/${PATHS.config} answered HTTP ${answer.status}, so the registry's key cannot be learned`, {
      hint: 'is this a wharf registry? Pin its key in wharf.toml ([registry] key = "...") if it serves none',
    })
  }
  let keys: TrustedKey[]
  try {
    const config = JSON.parse(answer.bytes.toString('utf8')) as { keys?: { public_key?: unknown; revoked?: unknown }[] }
    keys = (config.keys ?? [])
      .filter((k) => typeof k.public_key === 'string' && !k.revoked)
      .map((k) => {
        const publicKey = parsePublicKey(k.public_key as string)
        return { id: keyId(publicKey), public_key: publicKey }
      })
  } catch {
    keys = []
  }
  if (keys.length === 0) {
    throw new WharfError('UNTRUSTED_REGISTRY', `${options.url}/${PATHS.config} lists no registry key`, { hint: 'pin the registry key in wharf.toml ([registry] key = "...")' })
  }
  return { keys, pinned: false, learned: true }
}

/** Stores keys learned on first use, once a snapshot they sign has verified, and says so. */
async function keepLearnedKeys(options: ReaderOptions, state: RegistryState, keys: TrustedKey[]): Promise<void> {
  await state.writeTrust({ registry: normalizeRegistryUrl(options.url), keys: keys.map((k) => ({ id: k.id, public_key: k.public_key })), first_seen: new Date().toISOString() })
  options.note?.(
    `note: trusting ${options.url} on first use with key ${keys.map((k) => k.id).join(', ')}; stored in ${state.dir}/trust.json. ` +
      `Compare it with the key the registry publishes elsewhere, and pin it in wharf.toml ([registry] key = "${keys[0]!.public_key}")`,
  )
}

export interface FetchVerifiedOptions {
  http: Http
  cache: Cache
  /** Where the bytes may be found, tried in order. */
  urls: string[]
  expected: ExpectedBytes
  /** What the bytes are, for messages ("acme:calc@1.0.0"). */
  what: string
  /** Who vouches for the digest, for messages ("its signed record", "the snapshot"). */
  expectedFrom?: string
  /** The cache alone. */
  offline?: boolean
  note?: (message: string) => void
  onBytes?: (count: number) => void
}

/**
 * Bytes whose sha256 (and size) are known in advance: from the cache when it
 * holds them, else from the first URL whose answer verifies. A wrong answer
 * is never stored or returned; when every URL fails, the error names the
 * file and both digests (a wrong digest outranks a missing file, which
 * outranks an unreachable host).
 */
export async function fetchVerified(options: FetchVerifiedOptions): Promise<Buffer> {
  const { http, cache, expected, what } = options
  const expectedFrom = options.expectedFrom ?? 'the expected digest'
  const cached = await cache.get(expected.sha256)
  if (cached && (expected.size === undefined || cached.length === expected.size) && !(cached.length > (expected.maxSize ?? Infinity))) return cached
  if (options.offline) {
    throw new WharfError('OFFLINE_MISSING', `${what} is not in the cache`, { hint: 'run the install once without --offline' })
  }
  const problems: Problem[] = []
  for (const url of options.urls) {
    try {
      const answer = await http.get(url, { maxBytes: expected.size ?? expected.maxSize ?? 64 * 1024 * 1024, ...(options.onBytes ? { onBytes: options.onBytes } : {}) })
      if (answer.status !== 200 || !answer.bytes) throw new WharfError('MISSING_FILE', `${url} answered HTTP ${answer.status}`, { hint: 'the host lacks a file its snapshot lists; try a mirror' })
      const actual = sha256Hex(answer.bytes)
      if (actual !== expected.sha256 || (expected.size !== undefined && answer.bytes.length !== expected.size)) {
        const size = expected.size !== undefined && answer.bytes.length !== expected.size ? ` (${answer.bytes.length} bytes, expected ${expected.size})` : ''
        throw mismatch(what, url, `${actual}${size}`, expected.sha256, expectedFrom)
      }
      await cache.put(actual, answer.bytes)
      if (problems.length) options.note?.(`note: ${what} came from ${url}; ${problems.map((p) => `${p.source}: ${p.error.message}`).join('; ')}`)
      return answer.bytes
    } catch (e) {
      if (!(e instanceof WharfError)) throw e
      // Over a known size, the answer is not the file; over a limit of the caller's, it may be, but is refused all the same.
      const overSize = e.code === 'TOO_LARGE' && expected.size !== undefined
      problems.push({ source: url, error: overSize ? mismatch(what, url, `(more than ${expected.size} bytes)`, expected.sha256, expectedFrom) : e })
    }
  }
  throw worst(problems, () => new WharfError('MISSING_FILE', `${what} is not served by any source`))
}

/** Opens a registry: settles which keys to trust, then accepts the first source whose snapshot checks out. */
export async function openReader(options: ReaderOptions): Promise<RegistryReader> {
  const { http, cache } = options
  const state = cache.registry(options.url)
  const sources = [options.url, ...(options.mirrors ?? [])].map(base).filter((s, i, all) => all.indexOf(s) === i)
  const { keys, pinned, learned } = await trustedKeys(options, state)
  const lastBytes = await state.readSnapshot()
  let last: Snapshot | undefined
  if (lastBytes) {
    try {
      last = checkSnapshot(lastBytes, { keys, source: 'the cache', allowExpired: true })
    } catch {
      // A stored snapshot the keys no longer verify (the pin changed) protects nothing.
    }
  }

  let snapshot: Snapshot | undefined
  let source = sources[0]!
  if (options.offline) {
    if (!last) throw new WharfError('OFFLINE_MISSING', `no snapshot of ${options.url} is in the cache`, { hint: 'install once online first' })
    snapshot = last
  } else {
    const problems: Problem[] = []
    for (const candidate of sources) {
      try {
        const bytes = await fetchSnapshot(candidate)
        snapshot = checkSnapshot(bytes, { keys, source: candidate, now: options.now, ...(last ? { last } : {}) })
        source = candidate
        if (!last || isNewer(snapshot, last) || last.commit !== snapshot.commit) await state.writeSnapshot(bytes)
        if (problems.length) options.note?.(`note: using ${candidate}: ${problems.map((p) => `${p.source}: ${p.error.message}`).join('; ')}`)
        break
      } catch (e) {
        if (!(e instanceof WharfError)) throw e
        // A key learned on first use can be let go of, if the registry really changed it.
        const hint = e.code === 'SIGNATURE_INVALID' && !pinned && !learned ? `${e.hint}; or, once sure the registry changed its key, delete ${state.dir}/trust.json to trust the new one` : e.hint
        problems.push({ source: candidate, error: new WharfError(e.code, e.message, { hint }) })
      }
    }
    // A refused snapshot says more than an unreachable mirror.
    if (!snapshot) throw worst(problems, () => new WharfError('NO_SNAPSHOT', `no source of ${options.url} was tried`))
    // A key learned just now is kept only once it verified what the registry serves: a wrong one is not left behind pinned.
    if (learned) await keepLearnedKeys(options, state, keys)
  }

  async function fetchSnapshot(from: string): Promise<Buffer> {
    const url = urlFor(from, SNAPSHOT_PATH)
    const known = await state.etag(url)
    const held = known ? await cache.get(known.sha256) : undefined
    const answer = await http.get(url, { maxBytes: 1024 * 1024, ...(held && known ? { etag: known.etag } : {}) })
    if (answer.status === 304 && held) return held
    if (answer.status !== 200 || !answer.bytes) {
      throw new WharfError(answer.status === 404 ? 'NO_SNAPSHOT' : 'UNREACHABLE', `${url} answered HTTP ${answer.status}`, {
        hint: 'is this the root of a wharf registry built by `wharf build-api`?',
      })
    }
    const sha = sha256Hex(answer.bytes)
    await cache.put(sha, answer.bytes)
    if (answer.etag) await state.setEtag(url, answer.etag, sha)
    return answer.bytes
  }

  const inflight = new Map<string, Promise<Buffer>>()

  const once = (key: string, work: () => Promise<Buffer>): Promise<Buffer> => {
    let p = inflight.get(key)
    if (!p) {
      p = work()
      inflight.set(key, p)
      p.catch(() => inflight.delete(key))
    }
    return p
  }

  const ordered = [source, ...sources.filter((s) => s !== source)]
  const verified = (urls: string[], expected: ExpectedBytes, what: string, expectedFrom: string, onBytes?: (n: number) => void) =>
    fetchVerified({ http, cache, urls, expected, what, expectedFrom, ...(options.offline ? { offline: true } : {}), ...(options.note ? { note: options.note } : {}), ...(onBytes ? { onBytes } : {}) })
  const readByDigest = (path: string, expected: ExpectedBytes, what = path) =>
    once(`${path}\0${expected.sha256}`, () => verified(ordered.map((s) => urlFor(s, path)), expected, what, 'the snapshot'))
  const index: SnapshotIndex = createSnapshotIndex(snapshot, (path, sha256) => readByDigest(path, { sha256 }))

  // What the previous snapshot listed, walked through the cache alone: a node it lacks ends the walk, never a request.
  const earlier =
    last && last.commit !== snapshot.commit
      ? createSnapshotIndex(last, async (path, sha256) => {
          const bytes = await cache.get(sha256)
          if (!bytes) throw new WharfError('OFFLINE_MISSING', `${path} is not in the cache`)
          return bytes
        })
      : undefined
  const earlierCopy = async (path: string): Promise<Buffer | undefined> => {
    try {
      const digest = await earlier?.digestOf(path)
      return digest ? await cache.get(digest) : undefined
    } catch {
      return undefined
    }
  }

  /** `path` from the bytes its earlier copy keeps and the rest asked of the accepted source; undefined when that does not give the bytes of `sha256`. */
  async function grown(path: string, sha256: string, kept: (copy: Buffer) => number): Promise<Buffer | undefined> {
    const copy = await earlierCopy(path)
    const keep = copy ? kept(copy) : 0
    if (!copy || !(keep > 0 && keep <= copy.length)) return undefined
    let answer
    try {
      answer = await http.get(urlFor(source, path), { from: keep })
    } catch (e) {
      if (e instanceof WharfError) return undefined
      throw e
    }
    const bytes = answer.status === 206 && answer.from === keep && answer.bytes ? Buffer.concat([copy.subarray(0, keep), answer.bytes]) : answer.status === 200 ? answer.bytes : undefined
    if (!bytes || sha256Hex(bytes) !== sha256) return undefined
    await cache.put(sha256, bytes)
    return bytes
  }

  return {
    url: options.url,
    source,
    snapshot,
    keys,
    digestOf: (path) => index.digestOf(path),
    async read(path, maxSize) {
      const digest = await index.digestOf(path)
      return digest ? readByDigest(path, { sha256: digest, ...(maxSize === undefined ? {} : { maxSize }) }) : undefined
    },
    async readAppended(path, kept) {
      const digest = await index.digestOf(path)
      if (!digest) return undefined
      const expected = { sha256: digest }
      if (options.offline || (await cache.get(digest))) return readByDigest(path, expected)
      return once(`appended\0${path}\0${digest}`, async () => (await grown(path, digest, kept)) ?? readByDigest(path, expected))
    },
    readByDigest,
    artifactUrl(url) {
      return url.startsWith(LOCAL_PREFIX) ? urlFor(options.url, `artifacts/sha256/${url.slice(LOCAL_PREFIX.length)}`) : url
    },
    fetchArtifact(url, expected, what, onBytes) {
      const storePath = `artifacts/sha256/${expected.sha256}`
      // An artifact outside the registry's store is fetched where its record says; the registry's own copy is the fallback.
      const direct = url.startsWith(LOCAL_PREFIX) ? undefined : url
      const urls = [...(direct ? [direct] : []), ...ordered.map((s) => urlFor(s, storePath))]
      return once(`artifact\0${expected.sha256}`, () => verified(urls, expected, what, 'its signed record', onBytes))
    },
  }
}
