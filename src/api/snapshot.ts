/**
 * The signed snapshot of a built API (TUF's snapshot and timestamp roles in
 * one). `snapshot.json` names the index commit, when it was made and until
 * when it may be trusted, and is signed (DSSE, Ed25519) with the registry
 * key, so a mirror cannot serve an older or altered copy unseen; a client
 * that has seen a newer commit, or a past expiry, refuses it.
 *
 * Below it is a hash tree keyed by the sha256 of each file's path:
 * `snapshot.json` lists the digest of each of at most 256 parts
 * `snapshot/<xx>.json`; a part lists the digest of each of its children,
 * and so on down to the leaves, which list the sha256 of every file whose
 * path hashes to their prefix. Leaves are three hex digits deep
 * (`snapshot/<xx>/<y>.json`, 16 to a part) until the registry outgrows 128
 * files per leaf on average; then they deepen a digit at a time
 * (`leaf_digits` in snapshot.json says how deep), each level below the
 * parts two digits wide (256 children) but the first, which takes one when
 * the digits below the parts are odd: a part of a four-digit tree lists
 * its 256 leaves `snapshot/<xx>/<y>/<z>.json` itself (nodeLengths). One new
 * version so rewrites a handful of small files, and a registry must grow
 * 256-fold, not 16-fold, before each one it rewrites has a level more.
 *
 * The documents that (nearly) every build rewrites, most of which every
 * reader starts from (the configuration, the feed's head and its last page,
 * stats, the search index's top...), are named in snapshot.json itself
 * (`files`) and in no leaf: reading them costs no walk down the tree, and a
 * build rewrites only the leaves of the files its change touched.
 */
import { stableJson } from '../core/canonical.js'
import { PAYLOAD_TYPES, signDocument, verifyDocument, type DetachedSignature, type TrustedKey } from '../core/dsse.js'
import { SHA256_HEX, sha256Hex } from '../core/hash.js'
import type { SigningKey } from '../core/keys.js'
import { timestamp } from '../core/time.js'

export const SNAPSHOT_PATH = 'snapshot.json'
export const SNAPSHOT_PARTS_DIR = 'snapshot'

/** `snapshot/<xx>.json` and the nodes below it down to the leaves: a child's name (the hex digits it adds, one or two: childLength) to the sha256 of its file. */
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
  /** Number of files the snapshot lists: in its leaves and in `files`. */
  file_count: number
  /** Part name (two hex digits) to sha256 of the part file. */
  parts: Record<string, string>
  /** Hex digits of a leaf's name, when not 3. */
  leaf_digits?: number
  /** Path to sha256 of the documents every build rewrites (documents.ts `rootPaths`, and the site's aggregate pages); no leaf lists them. */
  files?: Record<string, string>
  signature: DetachedSignature
}

/** Files a leaf holds on average before the tree grows a level. */
export const LEAF_TARGET = 128
const MIN_LEAF_DIGITS = 3

/** How many hex digits name a leaf in a snapshot of `fileCount` files. */
export function leafDigitsFor(fileCount: number, target = LEAF_TARGET): number {
  let digits = MIN_LEAF_DIGITS
  while (fileCount > 16 ** digits * target && digits < 8) digits++
  return digits
}

/** How many hex digits name a leaf of this snapshot. */
export function leafDigitsOf(snapshot: Pick<Snapshot, 'leaf_digits'>): number {
  return snapshot.leaf_digits ?? MIN_LEAF_DIGITS
}

/**
 * The lengths of the node names of a tree whose leaves are `digits` deep,
 * from the parts down: 3 → [2, 3], 4 → [2, 4], 5 → [2, 3, 5], 6 → [2, 4, 6].
 */
export function nodeLengths(digits: number): number[] {
  const below: number[] = []
  for (let length = digits; length > 2; length -= 2) below.unshift(length)
  return [2, ...below]
}

/** The length of the names of the children of a node whose name is `length` long, in a tree whose leaves are `digits` deep. */
export function childLength(length: number, digits: number): number {
  return length + ((digits - length) % 2 === 1 ? 1 : 2)
}

/** The length of the name of the node above one whose name is `length` long (the parts, 2, have snapshot.json above). */
export function parentLength(length: number, digits: number): number {
  const lengths = nodeLengths(digits)
  return lengths[lengths.indexOf(length) - 1] ?? 0
}

/** The leaf a path belongs to: the first `digits` hex digits of the sha256 of the path (`xxy` by default). */
export function leafOf(path: string, digits = MIN_LEAF_DIGITS): string {
  return sha256Hex(path).slice(0, digits)
}

/** The file of the tree node named by a hex prefix: `snapshot/<xx>.json`, `snapshot/<xx>/<y>.json`, `snapshot/<xx>/<y>/<z>.json`... */
export function nodePath(prefix: string): string {
  return prefix.length === 2 ? `${SNAPSHOT_PARTS_DIR}/${prefix}.json` : `${SNAPSHOT_PARTS_DIR}/${prefix.slice(0, 2)}/${prefix.slice(2).split('').join('/')}.json`
}

export const partPath = nodePath
export const leafPath = nodePath

/** Whether a path is the snapshot itself (never listed in it). */
export function isSnapshotFile(path: string): boolean {
  return path === SNAPSHOT_PATH || path.startsWith(`${SNAPSHOT_PARTS_DIR}/`)
}

const byKey = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
const sortedRecord = (entries: Iterable<[string, string]>) => Object.fromEntries([...entries].sort(byKey))

/** Whether a JSON object keeps `key` as an integer (an array index), ahead of every other key and in numeric order. */
const isArrayIndex = (key: string): boolean => /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 2 ** 32 - 1

/**
 * A record of strings as stableJson lays it out as the value of a top-level
 * key, written straight from its entries: a leaf of a large registry lists
 * hundreds of files, and making the object, sorting it again and having
 * JSON.stringify walk it costs several times this. The keys go in the order
 * a JSON object keeps them: array indices first, by value, then the rest sorted.
 */
function recordText(entries: Iterable<[string, string]>): string {
  const indices: [string, string][] = []
  const names: [string, string][] = []
  for (const entry of entries) (isArrayIndex(entry[0]) ? indices : names).push(entry)
  if (indices.length + names.length === 0) return '{}'
  indices.sort((a, b) => Number(a[0]) - Number(b[0]))
  names.sort(byKey)
  let out = '{'
  for (const [key, value] of indices) out += `\n    ${JSON.stringify(key)}: ${JSON.stringify(value)},`
  for (const [key, value] of names) out += `\n    ${JSON.stringify(key)}: ${JSON.stringify(value)},`
  return `${out.slice(0, -1)}\n  }`
}

/** stableJson of the leaf, made by hand (recordText). */
export function renderLeaf(leaf: string, files: Map<string, string>): string {
  return `{\n  "files": ${recordText(files)},\n  "leaf": ${JSON.stringify(leaf)},\n  "schema": ${JSON.stringify('wharf:snapshot-leaf/v1' satisfies SnapshotLeaf['schema'])}\n}\n`
}

/**
 * Renders the nodes under `prefix` from lines `<first 8 hex of the path's
 * sha256>\t<path>\t<sha256>` (a path written twice counts once), calling
 * `write(nodePath, text)` for each; returns the digests of the topmost nodes
 * at or below `prefix` by name (the node at `prefix` when it is one; when
 * it is not, the nodes below it its parent lists), how many files they list
 * and how many nodes there are.
 */
export function renderSubtree(prefix: string, lines: string, digits: number, write: (file: string, text: string) => string): { digests: [string, string][]; count: number; nodes: number } {
  if (prefix.length >= digits) {
    const files = new Map<string, string>()
    let start = 0
    while (start < lines.length) {
      const end = lines.indexOf('\n', start)
      const tab = lines.indexOf('\t', start + 9)
      files.set(lines.slice(start + 9, tab), lines.slice(tab + 1, end))
      start = end + 1
    }
    return { digests: [[prefix, write(nodePath(prefix), renderLeaf(prefix, files))]], count: files.size, nodes: 1 }
  }
  const lengths = nodeLengths(digits)
  const next = lengths.find((length) => length > prefix.length)!
  const children = new Map<string, string[]>()
  let start = 0
  while (start < lines.length) {
    const end = lines.indexOf('\n', start) + 1
    const name = lines.slice(start, start + next)
    const list = children.get(name)
    if (list) list.push(lines.slice(start, end))
    else children.set(name, [lines.slice(start, end)])
    start = end
  }
  const digests: [string, string][] = []
  let count = 0
  let nodes = 0
  for (const [name, list] of children) {
    const child = renderSubtree(name, list.join(''), digits, write)
    digests.push(...child.digests)
    count += child.count
    nodes += child.nodes
  }
  if (!lengths.includes(prefix.length)) return { digests, count, nodes }
  const entries = new Map(digests.map(([name, digest]) => [name.slice(prefix.length), digest]))
  return { digests: [[prefix, write(nodePath(prefix), renderPart(prefix, entries))]], count, nodes: nodes + 1 }
}

/** stableJson of the part, made by hand (recordText). */
export function renderPart(part: string, leaves: Map<string, string>): string {
  return `{\n  "leaves": ${recordText(leaves)},\n  "part": ${JSON.stringify(part)},\n  "schema": ${JSON.stringify('wharf:snapshot-part/v1' satisfies SnapshotPart['schema'])}\n}\n`
}

/**
 * A node as renderPart wrote it (`bytes`) with the digests of `children`
 * written over the old ones: byte for byte what renderPart writes of the
 * node so changed, since the names it lists, and so their order, stay.
 * Undefined when a child comes or goes, or the bytes are not laid out so:
 * the caller renders the node afresh.
 */
export function replaceDigests(bytes: Buffer, children: Map<string, string | null>): Buffer | undefined {
  const result = Buffer.from(bytes)
  for (const [name, digest] of children) {
    if (digest === null || !SHA256_HEX.test(digest)) return undefined
    const key = `\n    ${JSON.stringify(name)}: "`
    const at = result.indexOf(key)
    if (at < 0) return undefined
    const start = at + Buffer.byteLength(key)
    if (result[start + 64] !== 0x22 /* " */) return undefined
    result.write(digest, start, 'latin1')
  }
  return result
}

export interface SnapshotInput {
  registry: string
  commit: string
  now: Date
  ttlSeconds: number
  parts: Record<string, string>
  fileCount: number
  /** Hex digits of a leaf name (default 3). */
  leafDigits?: number
  /** The documents every build rewrites, path to sha256 (`files`). */
  files?: Record<string, string>
  key: SigningKey
}


export function renderSnapshot(input: SnapshotInput): string {
  const unsigned = {
    schema: 'wharf:snapshot/v1' as const,
    registry: input.registry,
    commit: input.commit,
    generated_at: timestamp(input.now),
    expires: timestamp(new Date(input.now.getTime() + input.ttlSeconds * 1000)),
    file_count: input.fileCount,
    parts: Object.fromEntries(Object.entries(input.parts).sort()),
    ...(input.leafDigits !== undefined && input.leafDigits !== MIN_LEAF_DIGITS ? { leaf_digits: input.leafDigits } : {}),
    ...(input.files && Object.keys(input.files).length ? { files: sortedRecord(Object.entries(input.files)) } : {}),
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
  const listed = new Map<string, string>()
  const digits = leafDigitsOf(snapshot)
  if (!Number.isInteger(digits) || digits < MIN_LEAF_DIGITS || digits > 8) {
    problems.push({ path: SNAPSHOT_PATH, message: `leaf_digits is ${snapshot.leaf_digits}, not a whole number from ${MIN_LEAF_DIGITS} to 8` })
    return { ok: false, commit: snapshot.commit, expires: snapshot.expires, files: 0, problems }
  }
  /** The snapshot's own files (snapshot.json, its parts and leaves): any other file under snapshot/ was slipped in. */
  const snapshotFiles = new Set<string>([SNAPSHOT_PATH])
  /** The JSON of a snapshot file whose digest is `digest`, or undefined (and a problem) when it is missing or altered. */
  const readVerified = async <T>(file: string, digest: string, what: string, parent: string): Promise<T | undefined> => {
    snapshotFiles.add(file)
    const bytes = await options.read(file)
    if (!bytes) problems.push({ path: file, message: `the ${what} is missing` })
    else if (sha256Hex(bytes) !== digest) problems.push({ path: file, message: `the ${what} does not match its digest in ${parent}` })
    else return JSON.parse(Buffer.from(bytes).toString('utf8')) as T
    return undefined
  }
  /** Notes a file the snapshot lists and checks its bytes against the digest. */
  const checkFile = async (path: string, sha: string): Promise<void> => {
    listed.set(path, sha)
    const content = await options.read(path)
    if (!content) problems.push({ path, message: 'the file is missing' })
    else if (sha256Hex(content) !== sha) problems.push({ path, message: 'the file does not match its digest in the snapshot' })
  }
  const visit = async (prefix: string, digest: string): Promise<void> => {
    const parent = prefix.length === 2 ? 'snapshot.json' : 'its part'
    if (prefix.length < digits) {
      const part = await readVerified<SnapshotPart>(nodePath(prefix), digest, 'part', parent)
      const width = childLength(prefix.length, digits) - prefix.length
      for (const [name, child] of Object.entries(part?.leaves ?? {})) {
        if (name.length === width && /^[0-9a-f]+$/.test(name)) await visit(`${prefix}${name}`, child)
        else problems.push({ path: nodePath(prefix), message: `the part names a child "${name}", not ${width} hex digits` })
      }
      return
    }
    const leaf = await readVerified<SnapshotLeaf>(nodePath(prefix), digest, 'leaf', parent)
    for (const [path, sha] of Object.entries(leaf?.files ?? {})) {
      if (leafOf(path, digits) !== prefix) problems.push({ path, message: `listed in leaf ${prefix}, but belongs to leaf ${leafOf(path, digits)}` })
      await checkFile(path, sha)
    }
  }
  for (const [part, digest] of Object.entries(snapshot.parts ?? {})) await visit(part, digest)
  for (const [path, sha] of Object.entries(snapshot.files ?? {})) {
    if (listed.has(path)) problems.push({ path, message: `snapshot.json names it, and so does leaf ${leafOf(path, digits)}: a file is listed in one place only` })
    else await checkFile(path, sha)
  }
  if (listed.size !== snapshot.file_count) problems.push({ path: SNAPSHOT_PATH, message: `file_count is ${snapshot.file_count}, but the snapshot lists ${listed.size} files` })
  if (options.list) {
    for (const path of await options.list()) {
      if (isSnapshotFile(path) ? !snapshotFiles.has(path) : !listed.has(path) && !path.startsWith('.wharf/')) problems.push({ path, message: 'the file is not in the snapshot' })
    }
  }
  return { ok: problems.length === 0, commit: snapshot.commit, expires: snapshot.expires, files: listed.size, problems }
}
