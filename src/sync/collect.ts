/**
 * The network half of a sync: read a peer's static output through the
 * client library and verify what it says, without touching the index.
 *
 * The peer's snapshot must be signed by the key pinned in registry.json
 * (and be no older than the one the last sync read); its change feed is
 * read from the cursor stored for the peer; each entry of a delegated
 * namespace brings its signed file (verified by the digest the feed gives
 * and the signature against the peer's namespace keys) and, for a version,
 * its artifacts (re-hashed, staged on disk). A peer that cannot be reached
 * or serves no valid snapshot or feed is an error: nothing was decided. A
 * single entry that fails verification is an item of its own, with why.
 */
import { createHttp, fetchVerified, openReader, parseNamespaceFile, readFeed, readFeedFile, urlFor, verifyRecord, type Cache, type FetchLike, type RegistryReader } from '../client/index.js'
import { PATHS, type FeedEntry } from '../api/index.js'
import { artifactFormatProblem, guardedFetch, urlProblem } from '../check/index.js'
import { PAYLOAD_TYPES, verifyDocument } from '../core/dsse.js'
import { isWharfError, WharfError, type WharfCode } from '../core/errors.js'
import { SHA256_HEX } from '../core/hash.js'
import { classifyPath, namespacePath } from '../core/layout.js'
import { parsePublicKey, keyId } from '../core/keys.js'
import { parseStrictJson } from '../core/json.js'
import { schemaErrors } from '../core/schemas.js'
import type { NamespaceFile, Peer, PeerState, RegistryFile, VersionRecord, YankNotice } from '../core/types.js'
import type { Staging } from './staging.js'
import { namespaceRefusal } from './plan.js'
import type { IndexView } from './view.js'

/** What one feed entry came to. */
export type Item =
  /** Its namespace is not delegated to this peer. */
  | { kind: 'ignored'; entry: FeedEntry }
  /** Not imported, and why; `retry` when a later sync may import it (a file that did not verify, a host that lacked it). */
  | { kind: 'skipped'; entry: FeedEntry; reason: string; code: string; retry: boolean }
  /** A verified record: its artifacts are staged when the index lacked the version at collection. */
  | { kind: 'record'; entry: FeedEntry; record: VersionRecord; namespace: NamespaceFile; staged: boolean }
  /** A verified yank notice. */
  | { kind: 'yank'; entry: FeedEntry; notice: YankNotice; namespace: NamespaceFile }

export interface Collected {
  peer: Peer
  /** The cursor the feed was read from (the stored one). */
  from: number
  /** The feed's last seq: the cursor once these items are applied. */
  seq: number
  snapshot: { commit: string; generated_at: string }
  items: Item[]
  /** Requests sent to the peer and body bytes received. */
  requests: number
  bytes: number
}

export interface CollectOptions {
  /** This registry's index at the commit the sync starts from. */
  view: IndexView
  registry: RegistryFile
  peer: Peer
  /** The verified documents of the peer (snapshot parts, leaves, feed pages, records), kept between syncs. */
  cache: Cache
  staging: Staging
  fetch?: FetchLike
  now?: Date
  note?: (message: string) => void
}

/** Codes that mean the peer as a whole failed (down, or answering 5xx): the sync stops and changes nothing. */
const PEER_DOWN = new Set<WharfCode>(['UNREACHABLE', 'FETCH_FAILED', 'REMOTE'])
/** Entries fetched at once: the HTTP pool bounds requests, this bounds what waits in memory. */
const BATCH = 64

const namespaceOf = (name: string) => name.slice(0, name.indexOf(':'))

/** Why a feed entry is not one this sync can act on, or undefined. The feed is verified, but its author is a peer. */
function malformed(entry: FeedEntry): string | undefined {
  if (!entry || typeof entry !== 'object') return 'a feed entry is not an object'
  if (!Number.isSafeInteger(entry.seq) || entry.seq < 1) return `feed entry seq ${String(entry.seq)} is not a positive integer`
  if (entry.type !== 'publish' && entry.type !== 'yank') return `feed entry ${entry.seq} has type "${String(entry.type)}"`
  if (typeof entry.name !== 'string' || typeof entry.version !== 'string') return `feed entry ${entry.seq} names no package and version`
  const where = classifyPath(typeof entry.file === 'string' ? entry.file : '')
  const expected = entry.type === 'publish' ? 'record' : 'yank'
  if (where.kind !== expected || where.name !== entry.name || where.version !== entry.version) return `feed entry ${entry.seq} points at "${String(entry.file)}", not the ${expected} file of ${entry.name}@${entry.version}`
  if (typeof entry.file_sha256 !== 'string' || !SHA256_HEX.test(entry.file_sha256)) return `feed entry ${entry.seq} has no file digest`
  return undefined
}

/** The keys config.json lists, for an error message when the pinned one no longer signs. */
async function listedKeys(peer: Peer, fetch: FetchLike | undefined): Promise<string[]> {
  try {
    const answer = await createHttp({ ...(fetch ? { fetch } : {}), retries: 0 }).get(urlFor(peer.url, PATHS.config), { maxBytes: 1024 * 1024 })
    const config = JSON.parse(answer.bytes?.toString('utf8') ?? '{}') as { keys?: { id?: unknown; revoked?: unknown }[] }
    return (config.keys ?? []).filter((k) => typeof k.id === 'string' && !k.revoked).map((k) => k.id as string)
  } catch {
    return []
  }
}

/** Opens the peer's output against its pinned key; a refusal says what the peer lists now and how to re-pin. */
async function openPeer(options: CollectOptions, http: ReturnType<typeof createHttp>): Promise<RegistryReader> {
  const { peer } = options
  try {
    return await openReader({ url: peer.url, keys: [peer.key], http, cache: options.cache, ...(options.now ? { now: options.now } : {}), ...(options.note ? { note: options.note } : {}) })
  } catch (e) {
    if (!isWharfError(e)) throw e
    if (e.code === 'SIGNATURE_INVALID') {
      const listed = await listedKeys(peer, options.fetch)
      throw new WharfError('SIGNATURE_INVALID', `the snapshot is not signed by its pinned key ${peer.key.id}${listed.length ? `; its config.json lists ${listed.join(', ')}` : ''}`, {
        hint: `if the peer rotated its key, confirm the new one with its operators, then pin it: wharf peer add ${peer.name} ${peer.url} ${peer.namespaces.map((n) => `--namespace ${n}`).join(' ')} --key KEYID`,
      })
    }
    throw e
  }
}

/**
 * Reads what is new at `options.peer` since the stored cursor, verified, and
 * stages the artifacts of versions the index lacks. Throws when the peer as a
 * whole fails (unreachable, no valid snapshot or feed), naming the peer.
 */
export async function collect(options: CollectOptions): Promise<Collected> {
  try {
    return await collectFrom(options)
  } catch (e) {
    if (!isWharfError(e)) throw e
    const peer = options.peer
    throw new WharfError(e.code, `peer "${peer.name}" (${peer.url}): ${e.message}`, { hint: `nothing was imported${e.hint ? `; ${e.hint}` : ''}` })
  }
}

async function collectFrom(options: CollectOptions): Promise<Collected> {
  const { peer, view, registry, staging } = options
  const allowLoopback = registry.policy.urls.allow_http_loopback
  const refused = urlProblem(peer.url, allowLoopback)
  if (refused) throw new WharfError('FETCH_REFUSED', refused, { hint: 'serve the peer over https (plain http is allowed to loopback hosts when policy.urls.allow_http_loopback is set)' })
  // Every byte the peer names is fetched as check fetches an artifact: from public addresses only (loopback as the policy
  // says), each redirect too, whatever a record's URL or a host's Location points at.
  const http = createHttp({ fetch: options.fetch ?? guardedFetch(allowLoopback), timeoutMs: registry.policy.limits.fetch_timeout_ms })
  const state: PeerState | undefined = await view.peerState(peer.name)
  const from = state?.cursor ?? 0

  const reader = await openPeer(options, http)
  const snapshot = { commit: reader.snapshot.commit, generated_at: reader.snapshot.generated_at }
  if (state && Date.parse(snapshot.generated_at) < Date.parse(state.snapshot.generated_at)) {
    throw new WharfError('SNAPSHOT_ROLLBACK', `it serves a snapshot made at ${snapshot.generated_at}, older than the one the last sync read (${state.snapshot.generated_at})`, {
      hint: 'the peer or its host was rolled back; ask its operators',
    })
  }
  await checkConfig(reader, peer)

  // A namespace delegated since the cursor was set has history before it: read the feed from the start for it.
  const fresh = new Set(state ? peer.namespaces.filter((ns) => !state.namespaces.includes(ns)) : [])
  const feed = await readFeed(reader, fresh.size ? 0 : from)
  const bySeq = new Map<number, FeedEntry>()
  for (const entry of state?.pending ?? []) bySeq.set(entry.seq, entry)
  for (const entry of feed.entries) if (entry.seq > from || fresh.has(namespaceOf(String(entry.name)))) bySeq.set(entry.seq, entry)
  const entries = [...bySeq.values()].sort((a, b) => a.seq - b.seq)

  // Index files are read no further than this registry's limit: a peer's file over it is never downloaded whole.
  const limit = registry.policy.limits.max_file_bytes
  const withinLimit = <T>(file: string, read: Promise<T>): Promise<T> =>
    read.catch((e: unknown) => {
      if (!isWharfError(e) || e.code !== 'TOO_LARGE') throw e
      throw new WharfError('TOO_LARGE', `${file} is over this registry's ${limit}-byte limit`, { hint: 'raise policy.limits.max_file_bytes to import it' })
    })

  const peerNamespaces = new Map<string, Promise<NamespaceFile>>()
  const namespaceAtPeer = (ns: string) => {
    let p = peerNamespaces.get(ns)
    if (!p) {
      const file = namespacePath(ns)
      p = withinLimit(file, reader.read(file, limit)).then((bytes) => {
        if (!bytes) throw new WharfError('MISSING_FILE', `peer "${peer.name}" has no ${file}`, { hint: 'the peer lists versions of a namespace it holds no keys for; tell its operators' })
        const namespace = parseNamespaceFile(admissible(bytes, file), ns, file)
        // The import writes it with this peer as its authority: it must be a namespace file this registry's check accepts.
        const problems = schemaErrors('namespace', { ...namespace, authority: peer.name })
        if (problems.length) throw new WharfError('INVALID_RECORD', `${file} does not match schemas/namespace.schema.json here: ${problems.slice(0, 3).join('; ')}`)
        return namespace
      })
      peerNamespaces.set(ns, p)
    }
    return p
  }

  const one = async (entry: FeedEntry): Promise<Item> => {
    const problem = malformed(entry)
    if (problem) return { kind: 'skipped', entry, reason: problem, code: 'INVALID_RECORD', retry: false }
    const ns = namespaceOf(entry.name)
    if (!peer.namespaces.includes(ns)) return { kind: 'ignored', entry }
    const refusal = namespaceRefusal(registry.peers, peer.name, ns, await view.namespace(ns))
    if (refusal) return { kind: 'skipped', entry, reason: refusal, code: 'FORBIDDEN', retry: false }
    try {
      const namespace = await namespaceAtPeer(ns)
      const bytes = admissible(await withinLimit(entry.file, readFeedFile(reader, entry, limit)), entry.file)
      if (entry.type === 'yank') return { kind: 'yank', entry, notice: verifyYank(bytes, entry, namespace), namespace }
      const record = verifyRecord(bytes, entry, namespace, entry.file)
      const problems = schemaErrors('record', record)
      if (problems.length) throw new WharfError('INVALID_RECORD', `${entry.file} does not match schemas/record.schema.json: ${problems.slice(0, 3).join('; ')}`)
      if (await view.held(record.name, record.version)) return { kind: 'record', entry, record, namespace, staged: false }
      await stageArtifacts(record, reader, options, http)
      return { kind: 'record', entry, record, namespace, staged: true }
    } catch (e) {
      if (!isWharfError(e) || PEER_DOWN.has(e.code)) throw e
      // An artifact whose bytes verified but are not what the signed record says they are stays so: it is not tried again.
      return { kind: 'skipped', entry, reason: e.message, code: e.code, retry: e.code !== 'INVALID_ARTIFACT' }
    }
  }

  /**
   * The bytes of an index file the import would commit, when this registry's
   * check would take them: read within policy.limits.max_file_bytes
   * (withinLimit), and JSON that reads one way (parseStrictJson). A file check
   * would refuse is this entry's skip, not the refusal of the whole import.
   */
  function admissible(bytes: Buffer, file: string): Buffer {
    const strict = parseStrictJson(bytes.toString('utf8'))
    if (!strict.ok) throw new WharfError('INVALID_RECORD', `${file}: ${strict.message}`)
    return bytes
  }

  const items: Item[] = []
  for (let i = 0; i < entries.length; i += BATCH) items.push(...(await Promise.all(entries.slice(i, i + BATCH).map(one))))
  return { peer, from, seq: feed.seq, snapshot, items, requests: http.requests, bytes: http.bytes }
}

/** The peer's own descriptor must still list the pinned key, unrevoked. */
async function checkConfig(reader: RegistryReader, peer: Peer): Promise<void> {
  const bytes = await reader.read(PATHS.config)
  let keys: { id?: unknown; public_key?: unknown; revoked?: unknown }[] = []
  try {
    keys = (JSON.parse(bytes?.toString('utf8') ?? '{}') as { keys?: typeof keys }).keys ?? []
  } catch {
    // Listed by a verified snapshot yet no JSON: reported below as a missing key.
  }
  const pinned = keys.find((k) => typeof k.public_key === 'string' && safeKeyId(k.public_key) === peer.key.id)
  if (!pinned || pinned.revoked) {
    throw new WharfError('UNTRUSTED_REGISTRY', `its config.json ${pinned ? 'revokes' : 'no longer lists'} the pinned key ${peer.key.id}`, {
      hint: `confirm the peer's current key with its operators, then pin it: wharf peer add ${peer.name} ${peer.url} ${peer.namespaces.map((n) => `--namespace ${n}`).join(' ')} --key KEYID`,
    })
  }
}

function safeKeyId(publicKey: string): string | undefined {
  try {
    return keyId(parsePublicKey(publicKey))
  } catch {
    return undefined
  }
}

function verifyYank(bytes: Buffer, entry: FeedEntry, namespace: NamespaceFile): YankNotice {
  let notice: YankNotice
  try {
    notice = JSON.parse(bytes.toString('utf8')) as YankNotice
  } catch (e) {
    throw new WharfError('INVALID_RECORD', `${entry.file} is not JSON: ${(e as Error).message}`)
  }
  const problems = schemaErrors('yank', notice)
  if (problems.length) throw new WharfError('INVALID_RECORD', `${entry.file} does not match schemas/yank.schema.json: ${problems.slice(0, 3).join('; ')}`)
  if (notice.name !== entry.name || notice.version !== entry.version) throw new WharfError('INVALID_RECORD', `${entry.file} yanks ${notice.name}@${notice.version}, not ${entry.name}@${entry.version}`)
  const verdict = verifyDocument(notice, PAYLOAD_TYPES.yank, namespace.keys)
  if (!verdict.ok) throw new WharfError('SIGNATURE_INVALID', `the yank notice of ${entry.name}@${entry.version} does not verify with the keys of namespace "${namespace.namespace}": ${verdict.reason}`)
  return notice
}

/** Fetches each artifact of `record`, checks its digest, size and format, and stages it. */
async function stageArtifacts(record: VersionRecord, reader: RegistryReader, options: CollectOptions, http: ReturnType<typeof createHttp>): Promise<void> {
  const limits = options.registry.policy.limits
  const allowLoopback = options.registry.policy.urls.allow_http_loopback
  for (const artifact of record.artifacts) {
    const what = `${record.name}@${record.version} (${artifact.name})`
    if (artifact.size > limits.max_artifact_bytes) {
      throw new WharfError('TOO_LARGE', `${what} is ${artifact.size} bytes, over this registry's ${limits.max_artifact_bytes}-byte limit`, { hint: 'raise policy.limits.max_artifact_bytes to import it' })
    }
    // The peer's own copy always; the URL its record names first, when this registry's policy lets it be fetched. Bytes
    // another record of this sync staged are taken as they are (staging checks their digest), and judged for this record.
    const store = urlFor(reader.source, `artifacts/sha256/${artifact.sha256}`)
    const direct = artifact.url.startsWith('sha256:') || urlProblem(artifact.url, allowLoopback) ? undefined : artifact.url
    const bytes = await fetchVerified({ http, cache: options.staging, urls: direct ? [direct, store] : [store], expected: { sha256: artifact.sha256, size: artifact.size }, what, expectedFrom: 'its signed record' })
    const problem = artifactFormatProblem(record, artifact, bytes)
    if (problem) throw new WharfError('INVALID_ARTIFACT', `${what}: ${problem}`, { hint: "the peer's signed record describes its artifact wrongly; nothing here can repair it" })
  }
}
