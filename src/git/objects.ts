/**
 * A read-only reader of a git object database (loose objects and version-2
 * pack indexes), with native zlib and a small cache.
 *
 * build-api reads every commit of main and every record of the index on a
 * full build. isomorphic-git spends ~250 µs per object on a packed repo (it
 * probes for a loose file and lists the pack directory before every read);
 * this reader keeps the pack indexes in memory and takes ~10 µs, which is
 * the difference between seconds and minutes at 100,000 versions. It only
 * reads, so isomorphic-git stays the one writer.
 */
import fs from 'node:fs'
import path from 'node:path'
import { inflateSync } from 'node:zlib'
import { WharfError } from '../core/errors.js'

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag'

export interface GitObject {
  type: ObjectType
  data: Buffer
}

const TYPES: Record<number, ObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' }
// One read of a pack beats a system call per object; beyond this size, read object by object.
const MAX_PACK_IN_MEMORY = 512 * 1024 * 1024
const OFS_DELTA = 6
const REF_DELTA = 7

/**
 * A pack and its index. In bulk mode both are read into memory once; otherwise
 * each lookup reads one fanout bucket of the index and each object only its
 * own bytes, so the cost of a read does not grow with the size of the repo.
 */
interface Pack {
  file: string
  fd: number
  idxFd: number
  size: number
  count: number
  fanout: Uint32Array
  /** The whole index and pack, in bulk mode. */
  idx?: Buffer
  bytes?: Buffer
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  const read = fs.readSync(fd, buf, 0, length, position)
  return read === length ? buf : buf.subarray(0, read)
}

function openPack(idxFile: string, bulk: boolean): Pack {
  const idxFd = fs.openSync(idxFile, 'r')
  const head = readAt(idxFd, 0, 8 + 256 * 4)
  if (head.readUInt32BE(0) !== 0xff744f63 || head.readUInt32BE(4) !== 2) {
    fs.closeSync(idxFd)
    throw new WharfError('IO', `${idxFile} is not a version-2 pack index`, { hint: 'repack the repo with a current git (git repack -a -d)' })
  }
  const fanout = new Uint32Array(256)
  for (let i = 0; i < 256; i++) fanout[i] = head.readUInt32BE(8 + i * 4)
  const file = idxFile.replace(/\.idx$/, '.pack')
  const fd = fs.openSync(file, 'r')
  const size = fs.fstatSync(fd).size
  const inMemory = bulk && size <= MAX_PACK_IN_MEMORY
  return { file, fd, idxFd, size, count: fanout[255]!, fanout, ...(inMemory ? { idx: fs.readFileSync(idxFile), bytes: fs.readFileSync(file) } : {}) }
}

const OID_START = 8 + 256 * 4

/** Pack offset of `oid` (20 raw bytes), or -1. */
function findInPack(pack: Pack, oid: Buffer): number {
  const first = oid[0]!
  const lo = first === 0 ? 0 : pack.fanout[first - 1]!
  const hi = pack.fanout[first]!
  if (lo === hi) return -1
  const bucket = pack.idx ? pack.idx.subarray(OID_START + lo * 20, OID_START + hi * 20) : readAt(pack.idxFd, OID_START + lo * 20, (hi - lo) * 20)
  let a = 0
  let b = hi - lo - 1
  let found = -1
  while (a <= b) {
    const mid = (a + b) >>> 1
    const c = bucket.compare(oid, 0, 20, mid * 20, mid * 20 + 20)
    if (c === 0) {
      found = lo + mid
      break
    }
    if (c > 0) b = mid - 1
    else a = mid + 1
  }
  if (found < 0) return -1
  const offStart = OID_START + pack.count * 24
  const word = pack.idx ? pack.idx.readUInt32BE(offStart + found * 4) : readAt(pack.idxFd, offStart + found * 4, 4).readUInt32BE(0)
  if (!(word & 0x80000000)) return word
  const at = offStart + pack.count * 4 + (word & 0x7fffffff) * 8
  const large = pack.idx ? pack.idx.subarray(at, at + 8) : readAt(pack.idxFd, at, 8)
  return large.readUInt32BE(0) * 2 ** 32 + large.readUInt32BE(4)
}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0
  const varint = (): number => {
    let result = 0
    let shift = 0
    for (;;) {
      const byte = delta[pos++]!
      result += (byte & 0x7f) * 2 ** shift
      shift += 7
      if (!(byte & 0x80)) return result
    }
  }
  const baseSize = varint()
  if (baseSize !== base.length) throw new WharfError('IO', 'a pack delta does not match its base object', { hint: 'the repo may be corrupt: run git fsck' })
  const out = Buffer.allocUnsafe(varint())
  let written = 0
  while (pos < delta.length) {
    const op = delta[pos++]!
    if (op & 0x80) {
      let offset = 0
      let size = 0
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += delta[pos++]! * 2 ** (8 * i)
      for (let i = 0; i < 3; i++) if (op & (1 << (4 + i))) size += delta[pos++]! * 2 ** (8 * i)
      if (size === 0) size = 0x10000
      written += base.copy(out, written, offset, offset + size)
    } else if (op > 0) {
      written += delta.copy(out, written, pos, pos + op)
      pos += op
    } else {
      throw new WharfError('IO', 'a pack delta holds a reserved instruction', { hint: 'the repo may be corrupt: run git fsck' })
    }
  }
  return out
}

/** A reader over `<dir>/.git/objects`. Make a new one per build: packs written later are not seen. */
export class ObjectReader {
  private readonly objectsDir: string
  private readonly packs: Pack[]
  private readonly cache = new Map<string, GitObject>()
  private readonly baseCache = new Map<string, GitObject>()
  private readonly shallow: Set<string>

  /**
   * @param dir the work tree of the repo
   * @param bulk read whole packs into memory: for reading most of a repo (a full build)
   */
  constructor(dir: string, bulk = false) {
    const gitdir = path.join(dir, '.git')
    this.objectsDir = path.join(gitdir, 'objects')
    const packDir = path.join(this.objectsDir, 'pack')
    const idxFiles = fs.existsSync(packDir) ? fs.readdirSync(packDir).filter((f) => f.endsWith('.idx')).sort() : []
    this.packs = idxFiles.map((f) => openPack(path.join(packDir, f), bulk))
    const shallowFile = path.join(gitdir, 'shallow')
    this.shallow = new Set(fs.existsSync(shallowFile) ? fs.readFileSync(shallowFile, 'utf8').split('\n').filter(Boolean) : [])
  }

  /** Commits whose parents a shallow clone left out. */
  isShallow(oid: string): boolean {
    return this.shallow.has(oid)
  }

  close(): void {
    for (const pack of this.packs.splice(0)) {
      fs.closeSync(pack.fd)
      fs.closeSync(pack.idxFd)
    }
  }

  has(oid: string): boolean {
    const raw = Buffer.from(oid, 'hex')
    if (this.packs.some((p) => findInPack(p, raw) >= 0)) return true
    return fs.existsSync(path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2)))
  }

  read(oid: string): GitObject {
    const cached = this.cache.get(oid)
    if (cached) return cached
    const object = this.readUncached(oid)
    // Trees and commits are read again by the next commit's diff; blobs are read once.
    if (object.type !== 'blob') {
      if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value!)
      this.cache.set(oid, object)
    }
    return object
  }

  /** The object, checked to be of `type`. */
  readAs(oid: string, type: ObjectType): Buffer {
    const object = this.read(oid)
    if (object.type !== type) throw new WharfError('IO', `object ${oid} is a ${object.type}, expected a ${type}`, { hint: 'the repo may be corrupt: run git fsck' })
    return object.data
  }

  private readUncached(oid: string): GitObject {
    const raw = Buffer.from(oid, 'hex')
    for (const pack of this.packs) {
      const offset = findInPack(pack, raw)
      if (offset >= 0) return this.readPacked(pack, offset)
    }
    let bytes: Buffer
    try {
      bytes = inflateSync(fs.readFileSync(path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2))))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new WharfError('IO', `object ${oid} is missing from ${this.objectsDir}`, { hint: 'fetch the full history of the index (git fetch --unshallow), or run git fsck' })
      }
      throw e
    }
    const space = bytes.indexOf(0x20)
    const nul = bytes.indexOf(0, space)
    const type = bytes.subarray(0, space).toString('latin1') as ObjectType
    return { type, data: bytes.subarray(nul + 1) }
  }

  private readPacked(pack: Pack, offset: number): GitObject {
    const key = `${pack.file}:${offset}`
    const base = this.baseCache.get(key)
    if (base) return base
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
      const baseObject = this.readPacked(pack, offset - distance)
      object = { type: baseObject.type, data: applyDelta(baseObject.data, inflateSync(chunk.subarray(pos))) }
    } else if (kind === REF_DELTA) {
      const baseObject = this.read(chunk.subarray(pos, pos + 20).toString('hex'))
      object = { type: baseObject.type, data: applyDelta(baseObject.data, inflateSync(chunk.subarray(pos + 20))) }
    } else {
      const type = TYPES[kind]
      if (!type) throw new WharfError('IO', `${pack.file} holds an object of unknown type ${kind} at ${offset}`, { hint: 'the repo may be corrupt: run git fsck' })
      object = { type, data: inflateSync(chunk.subarray(pos)) }
    }
    // Delta chains share their bases; keep recent ones so a chain is inflated once.
    if (object.type !== 'blob' || kind === OFS_DELTA || kind === REF_DELTA) {
      if (this.baseCache.size >= 2048) this.baseCache.delete(this.baseCache.keys().next().value!)
      this.baseCache.set(key, object)
    }
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

export function parseCommit(oid: string, data: Buffer): CommitData {
  const text = data.toString('utf8', 0, Math.min(data.length, data.indexOf('\n\n') < 0 ? data.length : data.indexOf('\n\n')))
  let tree = ''
  const parents: string[] = []
  let time = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5)
    else if (line.startsWith('parent ')) parents.push(line.slice(7))
    else if (line.startsWith('committer ')) time = Number(/ (\d+) [+-]\d{4}$/.exec(line)?.[1] ?? 0)
  }
  return { oid, tree, parents, time }
}

export interface RawEntry {
  name: string
  mode: string
  oid: string
}

/** Every entry of a tree object. */
export function parseTree(data: Buffer): RawEntry[] {
  const out: RawEntry[] = []
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    const nul = data.indexOf(0, space)
    out.push({ mode: data.toString('latin1', pos, space).padStart(6, '0'), name: data.toString('utf8', space + 1, nul), oid: data.toString('hex', nul + 1, nul + 21) })
    pos = nul + 21
  }
  return out
}

export const isTreeMode = (mode: string): boolean => mode === '040000'
