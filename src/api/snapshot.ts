/**
 * The signed snapshot of a built API (TUF's snapshot and timestamp roles in
 * one). `snapshot.json` names the index commit, when it was made and until
 * when it may be trusted, and is signed (DSSE, Ed25519) with the registry
 * key, so a mirror cannot serve an older or altered copy unseen; a client
 * that has seen a newer commit, or a past expiry, refuses it.
 *
 * Below it is a two-level hash tree keyed by the sha256 of each file's path:
 * `snapshot.json` lists the digest of each of at most 256 parts
 * `snapshot/<xx>.json`, a part the digest of each of its at most 16 leaves
 * `snapshot/<xx>/<y>.json`, and a leaf the sha256 of every file whose path
 * hashes to `xxy`. One new version rewrites a handful of small files (a
 * leaf holds about 50 entries at 200,000 files), and the 4,096 leaves add
 * little to a full build.
 */
import { stableJson } from '../core/canonical.js'
import { PAYLOAD_TYPES, signDocument, verifyDocument, type DetachedSignature, type TrustedKey } from '../core/dsse.js'
import { sha256Hex } from '../core/hash.js'
import type { SigningKey } from '../core/keys.js'

export const SNAPSHOT_PATH = 'snapshot.json'
export const SNAPSHOT_PARTS_DIR = 'snapshot'

/** `snapshot/<xx>.json`: leaf name (one hex digit) to the sha256 of the leaf file. */
export interface SnapshotPart {
  schema: 'wharf:snapshot-part/v1'
  part: string
  leaves: Record<string, string>
}

/** `snapshot/<xx>/<y>.json`: path (relative to the API root) to the sha256 of its bytes. */
export interface SnapshotLeaf {
  schema: 'wharf:snapshot-leaf/v1'
  leaf: string
  files: Record<string, string>
}

export interface Snapshot {
  schema: 'wharf:snapshot/v1'
  registry: string
  /** The index commit the API was built from. */
  commit: string
  generated_at: string
  expires: string
  /** Number of files the leaves list. */
  file_count: number
  /** Part name (two hex digits) to sha256 of the part file. */
  parts: Record<string, string>
  signature: DetachedSignature
}

/** The leaf a path belongs to: the first three hex digits of the sha256 of the path (`xxy`). */
export function leafOf(path: string): string {
  return sha256Hex(path).slice(0, 3)
}

export function partPath(part: string): string {
  return `${SNAPSHOT_PARTS_DIR}/${part}.json`
}

export function leafPath(leaf: string): string {
  return `${SNAPSHOT_PARTS_DIR}/${leaf.slice(0, 2)}/${leaf.slice(2)}.json`
}

/** Whether a path is the snapshot itself (never listed in it). */
export function isSnapshotFile(path: string): boolean {
  return path === SNAPSHOT_PATH || path.startsWith(`${SNAPSHOT_PARTS_DIR}/`)
}

const sortedRecord = (entries: Iterable<[string, string]>) => Object.fromEntries([...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))

export function renderLeaf(leaf: string, files: Map<string, string>): string {
  return stableJson({ schema: 'wharf:snapshot-leaf/v1', leaf, files: sortedRecord(files) } satisfies SnapshotLeaf)
}

/** A leaf from text lines `<path>\t<sha256>` (a path written twice counts once), and how many files it lists. */
export function renderLeafLines(leaf: string, lines: string): { text: string; count: number } {
  const files = new Map<string, string>()
  let start = 0
  while (start < lines.length) {
    const end = lines.indexOf('\n', start)
    const tab = lines.indexOf('\t', start)
    files.set(lines.slice(start, tab), lines.slice(tab + 1, end))
    start = end + 1
  }
  return { text: renderLeaf(leaf, files), count: files.size }
}

export function renderPart(part: string, leaves: Map<string, string>): string {
  return stableJson({ schema: 'wharf:snapshot-part/v1', part, leaves: sortedRecord(leaves) } satisfies SnapshotPart)
}

export interface SnapshotInput {
  registry: string
  commit: string
  now: Date
  ttlSeconds: number
  parts: Record<string, string>
  fileCount: number
  key: SigningKey
}

const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z')

export function renderSnapshot(input: SnapshotInput): string {
  const unsigned = {
    schema: 'wharf:snapshot/v1' as const,
    registry: input.registry,
    commit: input.commit,
    generated_at: iso(input.now),
    expires: iso(new Date(input.now.getTime() + input.ttlSeconds * 1000)),
    file_count: input.fileCount,
    parts: Object.fromEntries(Object.entries(input.parts).sort()),
  }
  return stableJson(signDocument(unsigned, PAYLOAD_TYPES.snapshot, input.key))
}

export interface SnapshotProblem {
  path: string
  message: string
}

export interface VerifySnapshotOptions {
  /** Reads a file of the API by its path; undefined when there is none. */
  read(path: string): Promise<Uint8Array | undefined>
  /** The registry's keys (config.json `keys`, or pinned by the client). */
  keys: readonly TrustedKey[]
  now?: Date
  /** Every file path the copy holds, to report files the snapshot does not list. */
  list?: () => Promise<string[]>
  /** A commit the reader has already seen: a snapshot of another commit is accepted only when `accept(commit)` says so. */
  accept?: (commit: string) => boolean
}

export interface SnapshotVerdict {
  ok: boolean
  commit?: string
  expires?: string
  files: number
  problems: SnapshotProblem[]
}

/**
 * Checks a copy of the API against its snapshot: the signature, the expiry,
 * every part's digest and every listed file's digest (and, with `list`,
 * that no unlisted file was slipped in).
 */
export async function verifySnapshot(options: VerifySnapshotOptions): Promise<SnapshotVerdict> {
  const problems: SnapshotProblem[] = []
  const raw = await options.read(SNAPSHOT_PATH)
  if (!raw) return { ok: false, files: 0, problems: [{ path: SNAPSHOT_PATH, message: 'there is no snapshot' }] }
  let snapshot: Snapshot
  try {
    snapshot = JSON.parse(Buffer.from(raw).toString('utf8')) as Snapshot
  } catch (e) {
    return { ok: false, files: 0, problems: [{ path: SNAPSHOT_PATH, message: `not JSON: ${(e as Error).message}` }] }
  }
  const verdict = verifyDocument(snapshot, PAYLOAD_TYPES.snapshot, options.keys)
  if (!verdict.ok) problems.push({ path: SNAPSHOT_PATH, message: `the signature does not verify: ${verdict.reason}` })
  const now = options.now ?? new Date()
  if (!(Date.parse(snapshot.expires) > now.getTime())) problems.push({ path: SNAPSHOT_PATH, message: `the snapshot expired at ${snapshot.expires}` })
  if (options.accept && !options.accept(snapshot.commit)) problems.push({ path: SNAPSHOT_PATH, message: `the snapshot is of commit ${snapshot.commit}, which the reader does not accept (rolled back?)` })
  const listed = new Set<string>()
  /** The JSON of a snapshot file whose digest is `digest`, or undefined (and a problem) when it is missing or altered. */
  const readVerified = async <T>(file: string, digest: string, what: string): Promise<T | undefined> => {
    const bytes = await options.read(file)
    if (!bytes) problems.push({ path: file, message: `the ${what} is missing` })
    else if (sha256Hex(bytes) !== digest) problems.push({ path: file, message: `the ${what} does not match its digest in ${what === 'part' ? 'snapshot.json' : 'its part'}` })
    else return JSON.parse(Buffer.from(bytes).toString('utf8')) as T
    return undefined
  }
  for (const [part, digest] of Object.entries(snapshot.parts ?? {})) {
    const partDoc = await readVerified<SnapshotPart>(partPath(part), digest, 'part')
    for (const [name, leafDigest] of Object.entries(partDoc?.leaves ?? {})) {
      const leafDoc = await readVerified<SnapshotLeaf>(leafPath(`${part}${name}`), leafDigest, 'leaf')
      for (const [path, sha] of Object.entries(leafDoc?.files ?? {})) {
        listed.add(path)
        if (leafOf(path) !== `${part}${name}`) problems.push({ path, message: `listed in leaf ${part}${name}, but belongs to leaf ${leafOf(path)}` })
        const content = await options.read(path)
        if (!content) problems.push({ path, message: 'the file is missing' })
        else if (sha256Hex(content) !== sha) problems.push({ path, message: 'the file does not match its digest in the snapshot' })
      }
    }
  }
  if (listed.size !== snapshot.file_count) problems.push({ path: SNAPSHOT_PATH, message: `file_count is ${snapshot.file_count}, but the leaves list ${listed.size} files` })
  if (options.list) {
    for (const path of await options.list()) {
      if (!isSnapshotFile(path) && !listed.has(path) && !path.startsWith('.wharf/')) problems.push({ path, message: 'the file is not in the snapshot' })
    }
  }
  return { ok: problems.length === 0, commit: snapshot.commit, expires: snapshot.expires, files: listed.size, problems }
}
