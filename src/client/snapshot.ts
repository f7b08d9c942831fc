/**
 * The client's side of the signed snapshot (src/api/snapshot.ts writes it).
 * `verifySnapshot` there checks a whole copy; a client reads a few files, so
 * here the snapshot is checked once (signature, expiry, never older than the
 * newest seen) and each file's digest is then found on demand: in the
 * snapshot itself for the few documents it names (`files`), else through the
 * file's part and leaf, both checked against the digest that names them.
 */
import { leafDigitsOf, leafOf, nodePath, parentLength, type Snapshot, type SnapshotLeaf, type SnapshotPart } from '../api/index.js'
import { PAYLOAD_TYPES, verifyDocument, type TrustedKey } from '../core/dsse.js'
import { WharfError } from '../core/errors.js'
import { SHA256_HEX } from '../core/hash.js'

export interface CheckSnapshotOptions {
  keys: readonly TrustedKey[]
  /** Where the bytes came from, for messages. */
  source: string
  now?: Date
  /** The newest snapshot this client accepted for the registry before. */
  last?: Snapshot
  /** Accept an expired snapshot (offline installs from the cache). */
  allowExpired?: boolean
}

function parse(bytes: Uint8Array, source: string): Snapshot {
  let snapshot: Snapshot
  try {
    snapshot = JSON.parse(Buffer.from(bytes).toString('utf8')) as Snapshot
  } catch (e) {
    throw new WharfError('SNAPSHOT_INVALID', `${source}/snapshot.json is not JSON: ${(e as Error).message}`, { hint: 'the registry or mirror serves a broken copy; try another mirror' })
  }
  const shapeOk =
    snapshot !== null &&
    typeof snapshot === 'object' &&
    snapshot.schema === 'wharf:snapshot/v1' &&
    typeof snapshot.commit === 'string' &&
    Number.isSafeInteger(snapshot.file_count) &&
    snapshot.file_count >= 0 &&
    !Number.isNaN(Date.parse(snapshot.generated_at)) &&
    !Number.isNaN(Date.parse(snapshot.expires)) &&
    snapshot.parts !== null &&
    typeof snapshot.parts === 'object' &&
    Object.entries(snapshot.parts).every(([k, v]) => /^[0-9a-f]{2}$/.test(k) && typeof v === 'string' && SHA256_HEX.test(v)) &&
    (snapshot.leaf_digits === undefined || (Number.isInteger(snapshot.leaf_digits) && snapshot.leaf_digits >= 4 && snapshot.leaf_digits <= 8)) &&
    (snapshot.files === undefined ||
      (snapshot.files !== null && typeof snapshot.files === 'object' && !Array.isArray(snapshot.files) && Object.values(snapshot.files).every((v) => typeof v === 'string' && SHA256_HEX.test(v))))
  if (!shapeOk) throw new WharfError('SNAPSHOT_INVALID', `${source}/snapshot.json is not a wharf snapshot`, { hint: 'the registry or mirror serves a broken copy; try another mirror' })
  return snapshot
}

/** Whether `a` was made after `b`. */
export function isNewer(a: Snapshot, b: Snapshot): boolean {
  return Date.parse(a.generated_at) > Date.parse(b.generated_at)
}

/**
 * The snapshot in `bytes`, once its signature verifies with one of `keys`, it
 * has not expired and it is not older than `last`; else a WharfError that says which.
 */
export function checkSnapshot(bytes: Uint8Array, options: CheckSnapshotOptions): Snapshot {
  const snapshot = parse(bytes, options.source)
  const verdict = verifyDocument(snapshot, PAYLOAD_TYPES.snapshot, options.keys)
  if (!verdict.ok) {
    throw new WharfError('SIGNATURE_INVALID', `the snapshot of ${options.source} is not signed by the registry's key: ${verdict.reason}`, {
      hint: `trusted keys: ${options.keys.map((k) => k.id).join(', ') || 'none'}; if the registry rotated its key, pin the new one in wharf.toml`,
    })
  }
  const now = options.now ?? new Date()
  if (!options.allowExpired && !(Date.parse(snapshot.expires) > now.getTime())) {
    throw new WharfError('SNAPSHOT_EXPIRED', `the snapshot of ${options.source} (commit ${snapshot.commit.slice(0, 12)}) expired at ${snapshot.expires}`, {
      hint: 'the registry has not been rebuilt since (or a mirror froze it); try again later or use another mirror',
    })
  }
  const last = options.last
  if (last && (isNewer(last, snapshot) || (last.generated_at === snapshot.generated_at && last.commit !== snapshot.commit))) {
    throw new WharfError(
      'SNAPSHOT_ROLLBACK',
      `${options.source} serves a snapshot of commit ${snapshot.commit.slice(0, 12)} made at ${snapshot.generated_at}, older than the one this client already saw (commit ${last.commit.slice(0, 12)} made at ${last.generated_at})`,
      { hint: 'the registry or a mirror was rolled back; use another mirror, or ask the registry operators' },
    )
  }
  return snapshot
}

/** Reads a snapshot file (part or leaf) whose sha256 the level above names; the reader checks the digest. */
export type ReadByDigest = (path: string, sha256: string) => Promise<Buffer>

export interface SnapshotIndex {
  snapshot: Snapshot
  /** The sha256 the snapshot lists for `path`, or undefined when the registry holds no such file. */
  digestOf(path: string): Promise<string | undefined>
}

export function createSnapshotIndex(snapshot: Snapshot, read: ReadByDigest): SnapshotIndex {
  // The bytes match the signed digest, so only the registry's own key can have signed a broken part: refuse it as such.
  const json = async <T>(path: string, sha256: string): Promise<T> => {
    const bytes = await read(path, sha256)
    let doc: unknown
    try {
      doc = JSON.parse(bytes.toString('utf8'))
    } catch (e) {
      throw new WharfError('SNAPSHOT_INVALID', `${path} is not JSON: ${(e as Error).message}`, { hint: 'the registry signed a broken snapshot; tell its operators' })
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new WharfError('SNAPSHOT_INVALID', `${path} is not a snapshot part (a JSON object)`, { hint: 'the registry signed a broken snapshot; tell its operators' })
    }
    return doc as T
  }
  // Parts down to the leaves (leaf_digits deep): snapshot/<xx>.json, then the nodes nodeLengths names.
  const digits = leafDigitsOf(snapshot)
  const nodes = new Map<string, Promise<SnapshotPart | SnapshotLeaf | undefined>>()
  const node = (name: string): Promise<SnapshotPart | SnapshotLeaf | undefined> => {
    let n = nodes.get(name)
    if (!n) {
      const above = parentLength(name.length, digits)
      const digest = name.length === 2 ? Promise.resolve(snapshot.parts[name]) : node(name.slice(0, above)).then((p) => (p as SnapshotPart | undefined)?.leaves?.[name.slice(above)])
      n = digest.then((d) => (d && SHA256_HEX.test(d) ? json<SnapshotPart | SnapshotLeaf>(nodePath(name), d) : undefined))
      nodes.set(name, n)
    }
    return n
  }
  const leaf = (name: string) => node(name) as Promise<SnapshotLeaf | undefined>
  return {
    snapshot,
    async digestOf(path) {
      const named = Object.hasOwn(snapshot.files ?? {}, path) ? snapshot.files![path] : undefined
      if (named !== undefined) return named
      const digest = (await leaf(leafOf(path, digits)))?.files?.[path]
      return typeof digest === 'string' && SHA256_HEX.test(digest) ? digest : undefined
    },
  }
}
