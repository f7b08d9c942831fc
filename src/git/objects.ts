/**
 * The one way wharf reads git objects: loose objects and version-2 packs,
 * each object checked against its id (the SHA-1 of its type, size and
 * content) as it is read, so altered bytes in the object store are an error
 * and never a published file.
 *
 * isomorphic-git spends ~250 µs per object on a packed repo (it probes for a
 * loose file and lists the pack directory before every read, and loads whole
 * pack indexes into maps); this reader looks an object up in a pack index
 * on disk by interpolation within one fanout bucket (object ids are uniform
 * hashes, so the id's own value says where in the bucket it sits), reading
 * one window of ids around that guess (a bucket of a million-version index
 * is half a megabyte; a lookup reads ten kilobytes of it, at any size), and
 * in one held in memory through a table of where each prefix of ids starts.
 * It reads and inflates only that object, and keeps the trees and delta
 * bases it read last. It only reads: isomorphic-git stays the one writer.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { allocateObject, Inflater } from './inflate.js'

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag'

export interface GitObject {
  type: ObjectType
  data: Buffer
  /** `data` with git's header "<type> <size>\0" in the bytes before it (the same memory), when it was made that way: what the object id hashes. */
  framed?: Buffer
}

/**
 * The most recent entries put, at most `size` of them weighing at most
 * `budget` together (`weigh` says what one weighs), dropping the oldest
 * first; an entry heavier than the whole budget is not kept. The budget
 * keeps a reader's memory bounded whatever its trees weigh: a namespace of
 * 150,000 packages is a 7 MB tree, and a walk of the history reads a new
 * version of it at every commit. (Dropping a Map's first key instead makes
 * V8 step over every entry deleted before it, each time, until the table is
 * rebuilt: the order is kept in a queue.)
 */
export class Recent<K, V> {
  private readonly map = new Map<K, V>()
  private queue: K[] = []
  private head = 0
  private weight = 0

  constructor(
    private readonly size: number,
    private readonly budget = Infinity,
    private readonly weigh: (value: V) => number = () => 0,
  ) {}

  get(key: K): V | undefined {
    return this.map.get(key)
  }

  /** What the entries kept weigh together. */
  get weighs(): number {
    return this.weight
  }

  set(key: K, value: V): void {
    const weight = this.weigh(value)
    if (weight > this.budget) return
    const old = this.map.get(key)
    if (old === undefined) this.queue.push(key)
    else this.weight -= this.weigh(old)
    this.map.set(key, value)
    this.weight += weight
    while (this.map.size > this.size || this.weight > this.budget) {
      const oldest = this.queue[this.head++]!
      this.weight -= this.weigh(this.map.get(oldest)!)
      this.map.delete(oldest)
    }
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  clear(): void {
    this.map.clear()
    this.queue = []
    this.head = 0
    this.weight = 0
  }
}

/** Git's header of an object: "<type> <size>\0". */
const headerOf = (type: ObjectType, size: number): string => `${type} ${size}\0`

/** A buffer of `header` and then `size` more bytes, and where the data starts. */
function framedBuffer(header: string, size: number): [Buffer, number] {
  const out = allocateObject(header.length + size)
  return [out, out.write(header, 0, 'latin1')]
}

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' }
/** A pack up to this size is read whole in bulk mode; beyond it, object by object. */
const MAX_PACK_IN_MEMORY = 2 * 1024 ** 3
const OFS_DELTA = 6
const REF_DELTA = 7
const OID_START = 8 + 256 * 4
/**
 * Ids read from a pack index around an interpolated guess (10 KiB). The
 * guess is off by at most about half the square root of the bucket's size
 * (one standard deviation: 80 ids in a bucket of 27,000, a million-version
 * index), so one window nearly always holds the id, and a second, guessed
 * between the ids the first one read, does.
 */
const WINDOW = 512
/** Guesses by interpolation before halving instead: ids are hashes, but a pack index is read from disk and trusted only so far. */
const INTERPOLATIONS = 3

/** Recent objects kept by a reader, parsed trees, and delta bases of each pack: how many, and how many bytes (a parsed entry weighs about ENTRY_BYTES). */
const OBJECTS = 4096
const TREES = 4096
const BASES = 2048
const CACHE_BYTES = 128 * 1024 * 1024
const ENTRY_BYTES = 160
const objectBytes = (object: GitObject): number => object.framed?.length ?? object.data.length
/** Bytes enough for a loose object's header: the longest type, a space, a 64-bit size and a NUL. */
const LOOSE_HEADER_MAX = 32
/**
 * The most bytes `deflated` bytes of zlib stream can inflate to (deflate
 * shrinks data at most about 1032 to 1): a size an object claims past this
 * is a lie that would allocate without bound.
 */
const inflatable = (deflated: number): number => deflated * 1032 + 64

const corruptHint = { hint: 'the repo may be corrupt or tampered with: run git fsck' }

/**
 * A pack and its index. In bulk mode both are in memory (in shared memory,
 * so worker threads read the same copy); otherwise each lookup reads one
 * fanout bucket of the index and each object only its own bytes, so the
 * cost of a read does not grow with the size of the repo.
 */
interface Pack {
  file: string
  fd: number
  idxFd: number
  size: number
  count: number
  fanout: Uint32Array
  /** Ids read at a time from an index on disk (WINDOW). */
  window: number
  idx?: Buffer
  /** With `idx`: where the ids of each prefix start (prefixStarts). */
  starts?: Uint32Array
  bytes?: Buffer
  /** Recently rebuilt objects by offset: the bases of delta chains. */
  bases: Recent<number, GitObject>
}

/** The packs of a reader in shared memory, to open the same store in a worker thread without reading it again. */
export interface SharedStore {
  dir: string
  packs: { file: string; idx: SharedArrayBuffer; starts: SharedArrayBuffer; bytes: SharedArrayBuffer }[]
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  const read = fs.readSync(fd, buf, 0, length, position)
  return read === length ? buf : buf.subarray(0, read)
}

/** A whole file in shared memory. */
function readShared(file: string, size: number): Buffer {
  const buf = Buffer.from(new SharedArrayBuffer(size))
  const fd = fs.openSync(file, 'r')
  try {
    for (let done = 0; done < size; ) {
      const n = fs.readSync(fd, buf, done, Math.min(size - done, 1 << 30), done)
      if (n === 0) throw new WharfError('IO', `${file} ended early`, corruptHint)
      done += n
    }
  } finally {
    fs.closeSync(fd)
  }
  return buf
}

/** Pieces read at once, and their size, by readSharedAtOnce. */
const READS_AT_ONCE = 4
const READ_PIECE = 8 * 1024 * 1024

/**
 * A whole file in shared memory, read in pieces on several of libuv's
 * threads at once: most of reading a large pack into memory is the kernel
 * handing the process fresh pages, which two cores do in about half the
 * time one does.
 */
async function readSharedAtOnce(file: string, size: number, piece: number): Promise<Buffer> {
  const buf = Buffer.from(new SharedArrayBuffer(size))
  const handle = await fs.promises.open(file, 'r')
  try {
    let next = 0
    const reader = async (): Promise<void> => {
      while (next < size) {
        const start = next
        const end = Math.min(size, start + piece)
        next = end
        for (let at = start; at < end; ) {
          const { bytesRead } = await handle.read(buf, at, end - at, at)
          if (bytesRead === 0) throw new WharfError('IO', `${file} ended early`, corruptHint)
          at += bytesRead
        }
      }
    }
    await Promise.all(Array.from({ length: READS_AT_ONCE }, reader))
  } finally {
    await handle.close()
  }
  return buf
}

/** Checks that a pack index in memory holds the ids, CRCs and offsets (20 + 4 + 4 bytes each) of the objects it counts, and the two checksums: what every lookup in memory may read. */
function checkIndexLength(idxFile: string, idx: Buffer, count: number): void {
  if (idx.length < OID_START + count * 28 + 40) throw new WharfError('IO', `${idxFile} is shorter than the ${count} objects it counts need`, corruptHint)
}

function parseFanout(idxFile: string, head: Buffer): Uint32Array {
  if (head.length < OID_START || head.readUInt32BE(0) !== 0xff744f63 || head.readUInt32BE(4) !== 2) {
    throw new WharfError('IO', `${idxFile} is not a version-2 pack index`, { hint: 'repack the repo with a current git (git repack -a -d)' })
  }
  const fanout = new Uint32Array(256)
  for (let i = 0; i < 256; i++) fanout[i] = head.readUInt32BE(8 + i * 4)
  return fanout
}

function openPack(idxFile: string, bulk: boolean, window: number): Pack {
  const file = idxFile.replace(/\.idx$/, '.pack')
  const idxFd = fs.openSync(idxFile, 'r')
  let fd = -1
  try {
    const fanout = parseFanout(idxFile, readAt(idxFd, 0, OID_START))
    fd = fs.openSync(file, 'r')
    const size = fs.fstatSync(fd).size
    const pack: Pack = { file, fd, idxFd, size, count: fanout[255]!, fanout, window, bases: new Recent(BASES, CACHE_BYTES, objectBytes) }
    if (bulk && size <= MAX_PACK_IN_MEMORY) {
      pack.idx = readShared(idxFile, fs.fstatSync(idxFd).size)
      checkIndexLength(idxFile, pack.idx, pack.count)
      pack.starts = prefixStarts(pack.idx, pack.count)
      pack.bytes = readShared(file, size)
    }
    return pack
  } catch (e) {
    fs.closeSync(idxFd)
    if (fd >= 0) fs.closeSync(fd)
    throw e
  }
}

/** Ids `from`..`to - 1` of a pack index, as one buffer. */
function idsOf(pack: Pack, from: number, to: number): Buffer {
  if (pack.idx) return pack.idx.subarray(OID_START + from * 20, OID_START + to * 20)
  const ids = readAt(pack.idxFd, OID_START + from * 20, (to - from) * 20)
  if (ids.length !== (to - from) * 20) throw new WharfError('IO', `${pack.file.replace(/\.pack$/, '.idx')} ends early`, corruptHint)
  return ids
}

/** Where in [0, 1) an id sits among all ids that share its first byte: the next four bytes as a fraction. */
const fractionOf = (ids: Buffer, at: number): number => ids.readUInt32BE(at + 1) / 2 ** 32

/** The first position among `ids` (a run of ids) whose id is not below `oid`; the run's length when there is none. */
function bisect(ids: Buffer, oid: Buffer): number {
  const word = oid.readUInt32BE(0)
  let a = 0
  let b = ids.length / 20
  while (a < b) {
    const mid = (a + b) >>> 1
    const at = mid * 20
    // Compare four bytes at a time as numbers; only equal words need the full compare.
    const other = ids.readUInt32BE(at)
    const below = other !== word ? other < word : ids.compare(oid, 0, 20, at, at + 20) < 0
    if (below) a = mid + 1
    else b = mid
  }
  return a
}

/**
 * The first position in the fanout bucket of `oid[0]` whose id is not
 * below `oid` (20 raw bytes), the bucket's end, and the id at that position
 * when it was read on the way. An index in memory is searched in place
 * (lowerBoundInMemory); one on disk is read a window at a time around where
 * the id's value says it lies, narrowing the range by each window until one
 * holds the answer (after a few guesses, windows in the middle: a bisection).
 */
function lowerBound(pack: Pack, oid: Buffer): [number, number, Buffer | undefined] {
  const first = oid[0]!
  let lo = first === 0 ? 0 : pack.fanout[first - 1]!
  const end = pack.fanout[first]!
  if (pack.idx) return [lowerBoundInMemory(pack.idx, pack.starts!, lo, end, oid), end, undefined]
  let hi = end
  let loKey = 0
  let hiKey = 1
  const key = fractionOf(oid, 0)
  for (let round = 0; lo < hi; round++) {
    const share = round < INTERPOLATIONS && hiKey > loKey ? Math.min(1, Math.max(0, (key - loKey) / (hiKey - loKey))) : 0.5
    const guess = lo + Math.floor((hi - lo) * share)
    const start = Math.max(lo, Math.min(guess - (pack.window >> 1), hi - pack.window))
    const stop = Math.min(hi, start + pack.window)
    const ids = idsOf(pack, start, stop)
    const at = bisect(ids, oid)
    if (at === 0 && start > lo) {
      hi = start
      hiKey = fractionOf(ids, 0)
    } else if (at === stop - start && stop < hi) {
      lo = stop
      loKey = fractionOf(ids, ids.length - 20)
    } else {
      return [start + at, end, at < stop - start ? ids.subarray(at * 20, at * 20 + 20) : undefined]
    }
  }
  return [lo, end, undefined]
}

/** How the id at position `i` of an index in memory compares with the id in `words`: -1, 0 or 1. */
function compareAt(idx: Buffer, i: number, words: Uint32Array): number {
  const at = OID_START + i * 20
  for (let w = 0; w < 5; w++) {
    const word = idx.readUInt32BE(at + w * 4)
    if (word !== words[w]!) return word < words[w]! ? -1 : 1
  }
  return 0
}

/** The id being looked up, as words (lookups are synchronous: one at a time per thread). */
const OID_WORDS = new Uint32Array(5)

/** Bits of prefix that `prefixStarts` tells apart: about one id per prefix, within 8 (the fanout's) and 24 (a 64 MiB table). */
const prefixBits = (count: number): number => Math.min(24, Math.max(8, Math.floor(Math.log2(Math.max(1, count)))))

/**
 * Where in an index in memory the ids of each prefix of `prefixBits` bits
 * start (and, last, the count), in shared memory for worker threads. With
 * about one id per prefix, a lookup reads its slot and an id or two: two
 * reads of memory, where a search of a fanout bucket of a million-version
 * index (27,000 ids, half a megabyte) touches a new page at every step.
 * Positions only grow, so ids out of order (a corrupt index) make lookups
 * miss, never read out of range.
 */
function prefixStarts(idx: Buffer, count: number): Uint32Array {
  const bits = prefixBits(count)
  const starts = new Uint32Array(new SharedArrayBuffer(((1 << bits) + 1) * 4))
  const shift = 32 - bits
  let slot = 0
  for (let i = 0; i < count; i++) {
    const prefix = idx.readUInt32BE(OID_START + i * 20) >>> shift
    while (slot <= prefix) starts[slot++] = i
  }
  starts.fill(count, slot)
  return starts
}

/**
 * The first position in `lo`..`hi - 1` (one fanout bucket) of an index in
 * memory whose id is not below `oid`, or `hi`: bisected among the ids that
 * share its prefix, compared a word at a time in place.
 */
function lowerBoundInMemory(idx: Buffer, starts: Uint32Array, lo: number, hi: number, oid: Buffer): number {
  for (let w = 0; w < 5; w++) OID_WORDS[w] = oid.readUInt32BE(w * 4)
  const slot = OID_WORDS[0]! >>> (Math.clz32(starts.length - 1) + 1)
  lo = Math.min(hi, Math.max(lo, starts[slot]!))
  hi = Math.max(lo, Math.min(hi, starts[slot + 1]!))
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareAt(idx, mid, OID_WORDS) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Pack offset of `oid` (20 raw bytes), or -1. */
function findInPack(pack: Pack, oid: Buffer): number {
  const [found, end, id] = lowerBound(pack, oid)
  if (found >= end) return -1
  // An index in memory is compared in place, with the words lowerBoundInMemory just made of `oid`.
  if (pack.idx ? compareAt(pack.idx, found, OID_WORDS) !== 0 : (id ?? idsOf(pack, found, found + 1)).compare(oid) !== 0) return -1
  const offStart = OID_START + pack.count * 24
  const offset = pack.idx ? pack.idx.readUInt32BE(offStart + found * 4) : readAt(pack.idxFd, offStart + found * 4, 4).readUInt32BE(0)
  if (!(offset & 0x80000000)) return offset
  const large = offStart + pack.count * 4 + (offset & 0x7fffffff) * 8
  const bytes = pack.idx ? pack.idx.subarray(large, large + 8) : readAt(pack.idxFd, large, 8)
  if (bytes.length < 8) throw new WharfError('IO', `${pack.file.replace(/\.pack$/, '.idx')} ends early`, corruptHint)
  return bytes.readUInt32BE(0) * 2 ** 32 + bytes.readUInt32BE(4)
}

/** Object ids in a pack that start with `prefix` (hex), at most `limit`: the first found as any id is, then the run of them. */
function matchInPack(pack: Pack, prefix: string, limit: number): string[] {
  const [from, end] = lowerBound(pack, Buffer.from(prefix.padEnd(40, '0'), 'hex'))
  const ids = idsOf(pack, from, Math.min(end, from + limit))
  const out: string[] = []
  for (let at = 0; at < ids.length; at += 20) {
    const oid = ids.toString('hex', at, at + 20)
    if (!oid.startsWith(prefix)) break
    out.push(oid)
  }
  return out
}

/** Copies `length` bytes of `from` at `at` into `to` at `into`, returns where they end in `to`. A delta's copies are mostly a few bytes, where Buffer#copy costs a view of its own per call; a loop does not. */
function copyBytes(from: Buffer, at: number, to: Buffer, into: number, length: number): number {
  if (length > 64) return into + from.copy(to, into, at, at + length)
  for (let i = 0; i < length; i++) to[into + i] = from[at + i]!
  return into + length
}

function applyDelta(base: Buffer, delta: Buffer, what: string, type: ObjectType): { data: Buffer; framed: Buffer } {
  let pos = 0
  const varint = (): number => {
    let result = 0
    let shift = 0
    for (;;) {
      if (pos >= delta.length) throw new WharfError('IO', `${what}: a pack delta ends early`, corruptHint)
      const byte = delta[pos++]!
      result += (byte & 0x7f) * 2 ** shift
      shift += 7
      if (!(byte & 0x80)) return result
    }
  }
  const baseSize = varint()
  if (baseSize !== base.length) throw new WharfError('IO', `${what}: a pack delta does not match its base object`, corruptHint)
  const size = varint()
  // Each instruction makes at most 64 KiB: a larger result is a lie that would allocate without bound.
  if (size > (delta.length - pos) * 0x10000) throw new WharfError('IO', `${what}: a pack delta says it makes more than it could`, corruptHint)
  const [framed, start] = framedBuffer(headerOf(type, size), size)
  const out = framed.subarray(start)
  let written = 0
  while (pos < delta.length) {
    const op = delta[pos++]!
    if (op & 0x80) {
      let offset = 0
      let size = 0
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += delta[pos++]! * 2 ** (8 * i)
      for (let i = 0; i < 3; i++) if (op & (1 << (4 + i))) size += delta[pos++]! * 2 ** (8 * i)
      if (size === 0) size = 0x10000
      if (offset + size > base.length || written + size > out.length) throw new WharfError('IO', `${what}: a pack delta copies past its base or its result`, corruptHint)
      written = copyBytes(base, offset, out, written, size)
    } else if (op > 0) {
      if (pos + op > delta.length || written + op > out.length) throw new WharfError('IO', `${what}: a pack delta inserts past its end`, corruptHint)
      written = copyBytes(delta, pos, out, written, op)
      pos += op
    } else {
      throw new WharfError('IO', `${what}: a pack delta holds a reserved instruction`, corruptHint)
    }
  }
  if (written !== out.length) throw new WharfError('IO', `${what}: a pack delta leaves its result short`, corruptHint)
  return { data: out, framed }
}

/** Node's one-call digest (from 20.12), much cheaper than a Hash object for small inputs. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array) => string }).hash

/** Whether an object is what `oid` (hex) names: the SHA-1 of "<type> <size>\0" and the content. */
function hashes(oid: string, object: GitObject): boolean {
  // One call over header and data where they lie together; else the header is hashed on its own first.
  if (object.framed && oneShot) return oneShot('sha1', object.framed) === oid
  return crypto.createHash('sha1').update(headerOf(object.type, object.data.length)).update(object.data).digest('hex') === oid
}

const FULL_OID = /^[0-9a-f]{40}$/

/**
 * A reader over `<dir>/.git/objects`. Loose objects are found whenever they
 * were written; a pack written after the reader was made is found on the
 * first read that misses the packs it knows.
 */
export class ObjectReader {
  private readonly objectsDir: string
  private readonly packs: Pack[] = []
  private readonly known = new Set<string>()
  private readonly cache = new Recent<string, GitObject>(OBJECTS, CACHE_BYTES, objectBytes)
  private readonly trees = new Recent<string, readonly RawEntry[]>(TREES, CACHE_BYTES, (entries) => entries.length * ENTRY_BYTES)
  /** Trees looked into once without parsing them: a second look parses them. */
  private readonly glanced = new Recent<string, true>(TREES)
  private readonly inflater = new Inflater()
  private shallow: Set<string> | undefined

  /**
   * @param dir the work tree of the repo
   * @param bulk read whole packs into memory: for reading most of a repo (a full build)
   * @param window ids read at a time from a pack index on disk (tests make it small to reach what a large index does)
   */
  constructor(
    private readonly dir: string,
    private readonly bulk = false,
    shared?: SharedStore,
    private readonly window = WINDOW,
  ) {
    this.objectsDir = path.join(dir, '.git', 'objects')
    for (const pack of shared?.packs ?? []) this.adopt(pack)
    this.scanPacks()
  }

  /** A reader in another thread over this reader's in-memory packs (and its own fds for the rest). */
  static fromShared(store: SharedStore): ObjectReader {
    return new ObjectReader(store.dir, true, store)
  }

  /**
   * A bulk reader (as `new ObjectReader(dir, true)`) whose packs are read
   * into memory several pieces at once (readSharedAtOnce); a pack too large
   * to hold is read object by object, as there.
   * @param piece bytes read at a time (tests make it small to read a pack in many pieces)
   */
  static async openBulk(dir: string, piece = READ_PIECE): Promise<ObjectReader> {
    const packDir = path.join(dir, '.git', 'objects', 'pack')
    const names = await fs.promises.readdir(packDir).catch(() => [] as string[])
    const packs: SharedStore['packs'] = []
    for (const name of names.filter((f) => f.endsWith('.idx')).sort()) {
      const idxFile = path.join(packDir, name)
      const file = idxFile.replace(/\.idx$/, '.pack')
      // A pack is written before its index, and one being written or removed is left to the reader's own scan.
      const sizes = await Promise.all([fs.promises.stat(idxFile), fs.promises.stat(file)]).catch(() => undefined)
      if (!sizes || sizes[1].size > MAX_PACK_IN_MEMORY) continue
      let idx: Buffer
      let bytes: Buffer
      try {
        ;[idx, bytes] = await Promise.all([readSharedAtOnce(idxFile, sizes[0].size, piece), readSharedAtOnce(file, sizes[1].size, piece)])
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw e
      }
      const count = parseFanout(idxFile, idx)[255]!
      checkIndexLength(idxFile, idx, count)
      packs.push({ file, idx: idx.buffer as SharedArrayBuffer, starts: prefixStarts(idx, count).buffer as SharedArrayBuffer, bytes: bytes.buffer as SharedArrayBuffer })
    }
    return new ObjectReader(dir, true, { dir, packs })
  }

  /** The in-memory packs, for `fromShared` in a worker thread. */
  share(): SharedStore {
    return {
      dir: this.dir,
      packs: this.packs
        .filter((p) => p.idx && p.bytes)
        .map((p) => ({ file: p.file, idx: p.idx!.buffer as SharedArrayBuffer, starts: p.starts!.buffer as SharedArrayBuffer, bytes: p.bytes!.buffer as SharedArrayBuffer })),
    }
  }

  private adopt(shared: SharedStore['packs'][number]): void {
    const idx = Buffer.from(shared.idx)
    const bytes = Buffer.from(shared.bytes)
    const idxFile = shared.file.replace(/\.pack$/, '.idx')
    const fanout = parseFanout(idxFile, idx)
    checkIndexLength(idxFile, idx, fanout[255]!)
    const starts = new Uint32Array(shared.starts)
    this.packs.push({ file: shared.file, fd: -1, idxFd: -1, size: bytes.length, count: fanout[255]!, fanout, window: this.window, idx, starts, bytes, bases: new Recent(BASES, CACHE_BYTES, objectBytes) })
    this.known.add(idxFile)
  }

  /** Opens the packs not seen yet; returns whether there were any. */
  private scanPacks(): boolean {
    const packDir = path.join(this.objectsDir, 'pack')
    let names: string[]
    try {
      names = fs.readdirSync(packDir)
    } catch {
      return false
    }
    let added = false
    for (const name of names.filter((f) => f.endsWith('.idx')).sort()) {
      const idxFile = path.join(packDir, name)
      if (this.known.has(idxFile)) continue
      // A pack is written before its index, and a half-written index is skipped until the next scan.
      let pack: Pack
      try {
        pack = openPack(idxFile, this.bulk, this.window)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw e
      }
      this.known.add(idxFile)
      this.packs.push(pack)
      added = true
    }
    return added
  }

  /** Commits whose parents a shallow clone left out. */
  isShallow(oid: string): boolean {
    if (!this.shallow) {
      const file = path.join(this.dir, '.git', 'shallow')
      this.shallow = new Set(fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [])
    }
    return this.shallow.has(oid)
  }

  close(): void {
    for (const pack of this.packs.splice(0)) {
      if (pack.fd >= 0) fs.closeSync(pack.fd)
      if (pack.idxFd >= 0) fs.closeSync(pack.idxFd)
    }
    this.known.clear()
    this.cache.clear()
    this.trees.clear()
    this.glanced.clear()
    this.inflater.close()
  }

  private loosePath(oid: string): string {
    return path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2))
  }

  has(oid: string): boolean {
    if (!FULL_OID.test(oid)) return false
    const raw = Buffer.from(oid, 'hex')
    if (this.packs.some((p) => findInPack(p, raw) >= 0) || fs.existsSync(this.loosePath(oid))) return true
    return this.scanPacks() && this.packs.some((p) => findInPack(p, raw) >= 0)
  }

  /** The full ids of the objects whose id starts with `prefix` (at least 4 hex digits), at most `limit`. */
  expand(prefix: string, limit = 2): string[] {
    const lower = prefix.toLowerCase()
    if (!/^[0-9a-f]{4,40}$/.test(lower)) return []
    if (lower.length === 40) return this.has(lower) ? [lower] : []
    this.scanPacks()
    const found = new Set<string>()
    for (const pack of this.packs) for (const oid of matchInPack(pack, lower, limit)) found.add(oid)
    try {
      for (const name of fs.readdirSync(path.join(this.objectsDir, lower.slice(0, 2)))) {
        const oid = lower.slice(0, 2) + name
        if (FULL_OID.test(oid) && oid.startsWith(lower)) found.add(oid)
      }
    } catch {
      // no loose objects under this prefix
    }
    return [...found].sort().slice(0, limit)
  }

  /** The object `oid`, checked to hash to its id. */
  read(oid: string): GitObject {
    const cached = this.cache.get(oid)
    if (cached) return cached
    if (!FULL_OID.test(oid)) throw new WharfError('IO', `"${oid}" is not an object id`, corruptHint)
    const raw = Buffer.from(oid, 'hex')
    const object = this.readUncached(oid, raw)
    if (!hashes(oid, object)) {
      throw new WharfError('IO', `object ${oid} in ${this.objectsDir} does not hash to its id: its content was altered`, corruptHint)
    }
    // A tree is read again by the next commit's diff; a walk of the history reads each commit once, and a build each blob.
    if (object.type === 'tree') this.cache.set(oid, object)
    return object
  }

  /** The entries of tree `oid`, parsed once and kept while recent (do not change them). */
  readTree(oid: string): readonly RawEntry[] {
    let entries = this.trees.get(oid)
    if (!entries) {
      entries = parseTree(this.readAs(oid, 'tree'))
      this.trees.set(oid, entries)
    }
    return entries
  }

  /**
   * The entry named `name` in tree `oid`, as `readTree(oid).find` gives it,
   * without making an entry of every other name the first time: a lookup
   * through the large directories of a large index reads each of them once.
   * A tree looked into again is parsed and kept, as `readTree` does.
   */
  entryOf(oid: string, name: string): RawEntry | undefined {
    // A name with U+FFFD may match a name whose bytes are not UTF-8: only the parsed names say.
    if (this.trees.get(oid) || this.glanced.get(oid) || name.includes('\uFFFD')) return this.readTree(oid).find((e) => e.name === name)
    this.glanced.set(oid, true)
    const wanted = Buffer.from(name, 'utf8')
    const data = this.readAs(oid, 'tree')
    let found: RawEntry | undefined
    for (let pos = 0; pos < data.length; ) {
      const space = data.indexOf(0x20, pos)
      const nul = space < 0 ? -1 : data.indexOf(0, space)
      if (nul < 0 || nul + 21 > data.length) throw new WharfError('IO', 'a tree object is malformed: an entry is cut short', corruptHint)
      if (!found && nul - space - 1 === wanted.length && data.compare(wanted, 0, wanted.length, space + 1, nul) === 0) {
        found = { mode: data.toString('latin1', pos, space).padStart(6, '0'), name, oid: data.toString('hex', nul + 1, nul + 21) }
      }
      pos = nul + 21
    }
    return found
  }

  /** The object, checked to be of `type`. */
  readAs(oid: string, type: ObjectType): Buffer {
    const object = this.read(oid)
    if (object.type !== type) throw new WharfError('IO', `object ${oid} is a ${object.type}, expected a ${type}`, corruptHint)
    return object.data
  }

  private findPacked(raw: Buffer): [Pack, number] | undefined {
    for (const pack of this.packs) {
      const offset = findInPack(pack, raw)
      if (offset >= 0) return [pack, offset]
    }
    return undefined
  }

  private readUncached(oid: string, raw: Buffer): GitObject {
    const packed = this.findPacked(raw)
    if (packed) return this.readPacked(packed[0], packed[1])
    let file: Buffer
    try {
      file = fs.readFileSync(this.loosePath(oid))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      // Not loose: perhaps in a pack written since this reader looked.
      const late = this.scanPacks() ? this.findPacked(raw) : undefined
      if (late) return this.readPacked(late[0], late[1])
      throw new WharfError('IO', `object ${oid} is missing from ${this.objectsDir}`, { hint: 'fetch the full history of the index (git fetch --unshallow), or run git fsck' })
    }
    // The header (`<type> <size>\0`) says how big the object is; then it inflates like a packed one.
    const what = `loose object ${oid}`
    const head = this.inflater.head(file, LOOSE_HEADER_MAX, what)
    const space = head.indexOf(0x20)
    const nul = space < 0 ? -1 : head.indexOf(0, space)
    const type = space < 0 ? '' : head.toString('latin1', 0, space)
    const length = nul < 0 ? '' : head.toString('latin1', space + 1, nul)
    const size = Number(length)
    if (!Object.values(TYPES).includes(type as ObjectType) || !/^(?:0|[1-9]\d*)$/.test(length) || size > inflatable(file.length)) {
      throw new WharfError('IO', `${what} has a malformed header`, corruptHint)
    }
    const bytes = this.inflater.inflate(file, nul + 1 + size, what)
    return { type: type as ObjectType, data: bytes.subarray(nul + 1), framed: bytes }
  }

  /** The object at `offset` of `pack`; `asBase`: another object's delta is applied to it, so it is kept even when it is a whole blob. */
  private readPacked(pack: Pack, offset: number, asBase = false): GitObject {
    const base = pack.bases.get(offset)
    if (base) return base
    const what = `the object at ${offset} in ${pack.file}`
    if (offset < 12 || offset >= pack.size - 20) throw new WharfError('IO', `${what} lies outside the pack`, corruptHint)
    // The header says how big the object is inflated; deflate never grows data by more than a small margin, so that bounds the read.
    let chunk = pack.bytes ? pack.bytes.subarray(offset, Math.min(offset + 64, pack.size)) : readAt(pack.fd, offset, Math.min(64, pack.size - offset))
    let pos = 0
    let byte = chunk[pos++]!
    const kind = (byte >> 4) & 7
    let size = byte & 0x0f
    let shift = 4
    while (byte & 0x80) {
      byte = chunk[pos++]!
      size += (byte & 0x7f) * 2 ** shift
      shift += 7
    }
    if (size > inflatable(pack.size - 20 - offset)) throw new WharfError('IO', `${what} says it is ${size} bytes, more than the rest of the pack could hold`, corruptHint)
    const bound = Math.min(pack.size - 20 - offset, pos + 20 + 9 + size + Math.ceil(size / 1000) + 64)
    chunk = pack.bytes ? pack.bytes.subarray(offset, offset + bound) : readAt(pack.fd, offset, bound)
    let object: GitObject
    if (kind === OFS_DELTA) {
      byte = chunk[pos++]!
      let distance = byte & 0x7f
      while (byte & 0x80) {
        byte = chunk[pos++]!
        distance = (distance + 1) * 128 + (byte & 0x7f)
      }
      if (distance <= 0 || distance > offset) throw new WharfError('IO', `${what} names a delta base outside the pack`, corruptHint)
      const baseObject = this.readPacked(pack, offset - distance, true)
      object = { type: baseObject.type, ...applyDelta(baseObject.data, this.inflater.inflate(chunk.subarray(pos), size, what), what, baseObject.type) }
    } else if (kind === REF_DELTA) {
      const baseObject = this.read(chunk.toString('hex', pos, pos + 20))
      object = { type: baseObject.type, ...applyDelta(baseObject.data, this.inflater.inflate(chunk.subarray(pos + 20), size, what), what, baseObject.type) }
    } else {
      const type = TYPES[kind]
      if (!type) throw new WharfError('IO', `${what} is of unknown type ${kind}`, corruptHint)
      object = { type, ...this.inflater.inflateFramed(chunk.subarray(pos), size, what, headerOf(type, size)) }
    }
    // Delta chains share their bases: keep what was read as one, and what was rebuilt from one (the next link's base), so a chain is inflated once.
    if (asBase || kind === OFS_DELTA || kind === REF_DELTA) pack.bases.set(offset, object)
    return object
  }
}

export interface CommitData {
  oid: string
  tree: string
  parents: string[]
  /** Committer time, unix seconds: when the change landed. */
  time: number
}

export interface CommitDetails extends CommitData {
  author: { name: string; timestamp: number }
  /** Everything after the headers, as git stores it. */
  message: string
}

const PERSON = /^(.*) <(.*)> (\d+) [+-]\d{4}$/

/** The headers and message of a commit object (continuation lines of a header, as in a signature, are skipped). */
export function parseCommit(oid: string, data: Buffer): CommitDetails {
  const end = data.indexOf('\n\n')
  const text = data.toString('utf8', 0, end < 0 ? data.length : end)
  let tree = ''
  const parents: string[] = []
  let time = 0
  let author = { name: '', timestamp: 0 }
  for (const line of text.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5)
    else if (line.startsWith('parent ')) parents.push(line.slice(7))
    else if (line.startsWith('committer ')) time = Number(PERSON.exec(line.slice(10))?.[3] ?? 0)
    else if (line.startsWith('author ')) {
      const match = PERSON.exec(line.slice(7))
      author = { name: match?.[1] ?? '', timestamp: Number(match?.[3] ?? 0) }
    }
  }
  if (!FULL_OID.test(tree) || !parents.every((p) => FULL_OID.test(p))) throw new WharfError('IO', `commit ${oid} is malformed: it names no tree or a bad parent`, corruptHint)
  return { oid, tree, parents, time, author, message: end < 0 ? '' : data.toString('utf8', end + 2) }
}

/**
 * What a walk of the history needs of a commit (tree, parents, committer
 * time), as parseCommit reads them, without the author and message: the
 * header read line by line in place, up to its blank line.
 */
export function parseCommitData(oid: string, data: Buffer): CommitData {
  const end = data.indexOf('\n\n')
  const stop = end < 0 ? data.length : end
  let tree = ''
  const parents: string[] = []
  let time = 0
  for (let at = 0; at < stop; ) {
    let eol = data.indexOf(10, at)
    if (eol < 0 || eol > stop) eol = stop
    const first = data[at]
    if (first === 0x74 /* t */ && data.toString('latin1', at, at + 5) === 'tree ') tree = data.toString('utf8', at + 5, eol)
    else if (first === 0x70 /* p */ && data.toString('latin1', at, at + 7) === 'parent ') parents.push(data.toString('utf8', at + 7, eol))
    else if (first === 0x63 /* c */ && data.toString('latin1', at, at + 10) === 'committer ') time = Number(PERSON.exec(data.toString('utf8', at + 10, eol))?.[3] ?? 0)
    at = eol + 1
  }
  if (!FULL_OID.test(tree) || !parents.every((p) => FULL_OID.test(p))) throw new WharfError('IO', `commit ${oid} is malformed: it names no tree or a bad parent`, corruptHint)
  return { oid, tree, parents, time }
}

export interface RawEntry {
  name: string
  /** Six octal digits, as git prints them (`040000` for a tree). */
  mode: string
  oid: string
}

/** Every entry of a tree object, in the order it stores them; a malformed tree keeps what it holds, duplicate names too. */
export function parseTree(data: Buffer): RawEntry[] {
  const out: RawEntry[] = []
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    const nul = space < 0 ? -1 : data.indexOf(0, space)
    if (nul < 0 || nul + 21 > data.length) throw new WharfError('IO', 'a tree object is malformed: an entry is cut short', corruptHint)
    out.push({ mode: data.toString('latin1', pos, space).padStart(6, '0'), name: data.toString('utf8', space + 1, nul), oid: data.toString('hex', nul + 1, nul + 21) })
    pos = nul + 21
  }
  return out
}

export const isTreeMode = (mode: string): boolean => mode === '040000'
