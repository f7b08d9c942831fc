/**
 * Objects whose bytes were altered in the object store: git itself serves
 * them without a word, wharf's reader refuses them, loose or packed, and a
 * delta over an altered base too; build-api publishes and signs none of it.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { deflateSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/index.js'
import { runCheck } from '../../src/check/index.js'
import { recordPath } from '../../src/core/layout.js'
import { MAIN, ObjectReader, resolveCommit } from '../../src/git/index.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

const sha1 = (...parts: (string | Buffer)[]) => {
  const hash = createHash('sha1')
  for (const p of parts) hash.update(p)
  return hash.digest()
}
const blobId = (data: Buffer) => sha1(`blob ${data.length}\0`, data)

/** Replaces a loose object's file with `content` under the same name, compressed as git would. */
function rewriteLoose(dir: string, oid: string, content: Buffer): void {
  const file = path.join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2))
  fs.chmodSync(file, 0o644)
  fs.writeFileSync(file, deflateSync(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content])))
}

/** A pack header for an object of `type` (3: blob, 6: offset delta) and inflated `size`. */
function objectHeader(type: number, size: number): Buffer {
  const bytes = [(type << 4) | (size & 0x0f)]
  let rest = Math.floor(size / 16)
  while (rest > 0) {
    bytes[bytes.length - 1]! |= 0x80
    bytes.push(rest & 0x7f)
    rest = Math.floor(rest / 128)
  }
  return Buffer.from(bytes)
}

const varint = (n: number) => {
  const bytes: number[] = []
  do {
    bytes.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  return Buffer.from(bytes)
}

/**
 * A version-2 pack and index in `dir`'s object store holding `entries`,
 * each listed in the index under `oid` whatever its bytes hash to. An entry
 * with `deltaOf` is an offset delta against an earlier entry; one with
 * `claims` says in its header it inflates to that many bytes.
 */
function writePack(dir: string, entries: { oid: Buffer; data: Buffer; deltaOf?: number; claims?: number }[]): void {
  const parts: Buffer[] = [Buffer.from('PACK'), Buffer.from([0, 0, 0, 2]), Buffer.alloc(4)]
  parts[2]!.writeUInt32BE(entries.length)
  const offsets: number[] = []
  let at = 12
  entries.forEach((entry, i) => {
    offsets.push(at)
    const body = deflateSync(entry.data)
    const size = entry.claims ?? entry.data.length
    const head = entry.deltaOf === undefined ? objectHeader(3, size) : Buffer.concat([objectHeader(6, size), varint(at - offsets[entry.deltaOf]!)])
    if (entry.deltaOf !== undefined && at - offsets[entry.deltaOf]! >= 0x80) throw new Error(`entry ${i}: keep deltas near their base`)
    parts.push(head, body)
    at += head.length + body.length
  })
  const pack = Buffer.concat(parts)
  const packSum = sha1(pack)
  const sorted = entries.map((e, i) => ({ oid: e.oid, offset: offsets[i]! })).sort((a, b) => Buffer.compare(a.oid, b.oid))
  const fanout = Buffer.alloc(256 * 4)
  for (let b = 0; b < 256; b++) fanout.writeUInt32BE(sorted.filter((e) => e.oid[0]! <= b).length, b * 4)
  const offsetTable = Buffer.alloc(4 * sorted.length)
  sorted.forEach((e, i) => offsetTable.writeUInt32BE(e.offset, i * 4))
  const idxBody = Buffer.concat([Buffer.from('ff744f6300000002', 'hex'), fanout, ...sorted.map((e) => e.oid), Buffer.alloc(4 * sorted.length), offsetTable, packSum])
  const name = packSum.toString('hex')
  const packDir = path.join(dir, '.git', 'objects', 'pack')
  fs.mkdirSync(packDir, { recursive: true })
  fs.writeFileSync(path.join(packDir, `pack-${name}.pack`), Buffer.concat([pack, packSum]))
  fs.writeFileSync(path.join(packDir, `pack-${name}.idx`), Buffer.concat([idxBody, sha1(idxBody)]))
}

/** A delta that makes `result` from `base`: a copy of their common start, then the rest as literal bytes. */
function delta(base: Buffer, result: Buffer): Buffer {
  let same = 0
  while (same < Math.min(base.length, result.length, 0xffff) && base[same] === result[same]) same++
  const tail = result.subarray(same)
  if (tail.length > 127 || same === 0) throw new Error('keep the change small and not at the start')
  return Buffer.concat([varint(base.length), varint(result.length), Buffer.from([0x80 | 0x10 | 0x20, same & 0xff, same >> 8]), Buffer.from([tail.length]), tail])
}

describe('the object reader', () => {
  let dir: string
  beforeAll(async () => {
    dir = await tempDir('wharf-tamper-pack-')
    execFileSync('git', ['init', '-q', dir])
  })

  it('reads an honest hand-made pack, delta included', () => {
    const base = Buffer.from(`{"name":"acme:calc","version":"1.0.0","description":"${'a calculator '.repeat(8)}"}\n`)
    const result = Buffer.from(base.toString().replace('1.0.0', '1.0.1'))
    writePack(dir, [
      { oid: blobId(base), data: base },
      { oid: blobId(result), data: delta(base, result), deltaOf: 0 },
    ])
    const reader = new ObjectReader(dir)
    try {
      expect(reader.readAs(blobId(result).toString('hex'), 'blob').equals(result)).toBe(true)
      expect(execFileSync('git', ['-C', dir, 'cat-file', 'blob', blobId(result).toString('hex')]).equals(result)).toBe(true)
    } finally {
      reader.close()
    }
  })

  it('refuses a packed object whose bytes are not what its id names, as git does not', () => {
    const honest = Buffer.from('{"owners":["alice"]}\n')
    const forged = Buffer.from('{"owners":["mallet"]}\n')
    writePack(dir, [{ oid: blobId(honest), data: forged }])
    const oid = blobId(honest).toString('hex')
    // git trusts the pack index and serves the forged bytes under the honest id
    expect(execFileSync('git', ['-C', dir, 'cat-file', 'blob', oid]).toString()).toBe(forged.toString())
    const reader = new ObjectReader(dir)
    try {
      expect(() => reader.read(oid)).toThrow(/does not hash to its id/)
    } finally {
      reader.close()
    }
  })

  it('refuses a pack index held in memory whose ids are out of order, or that is shorter than it counts, with an error and no read past its end', async () => {
    const own = await tempDir('wharf-tamper-idx-')
    execFileSync('git', ['init', '-q', own])
    const blobs = ['first\n', 'second\n', 'third\n'].map((text) => Buffer.from(text))
    writePack(own, blobs.map((data) => ({ oid: blobId(data), data })))
    const packDir = path.join(own, '.git/objects/pack')
    const idxFile = path.join(packDir, fs.readdirSync(packDir).find((f) => f.endsWith('.idx'))!)
    const honest = fs.readFileSync(idxFile)
    const errorOf = (read: () => unknown): unknown => {
      try {
        read()
      } catch (e) {
        return e
      }
      return undefined
    }
    const idsStart = 8 + 256 * 4
    // The first and last ids swapped: a lookup goes astray and finds nothing, or an object that is not what it asked for.
    const swapped = Buffer.from(honest)
    honest.copy(swapped, idsStart, idsStart + 40, idsStart + 60)
    honest.copy(swapped, idsStart + 40, idsStart, idsStart + 20)
    fs.writeFileSync(idxFile, swapped)
    const reader = new ObjectReader(own, true)
    try {
      const errors = blobs.map((data) => errorOf(() => reader.read(blobId(data).toString('hex'))))
      expect(errors.filter(Boolean).length).toBeGreaterThan(0)
      for (const error of errors.filter(Boolean)) expect(error).toMatchObject({ code: 'IO', message: expect.stringMatching(/is missing|does not hash to its id/) })
    } finally {
      reader.close()
    }
    // Cut after the ids: the offsets every lookup reads are gone.
    fs.writeFileSync(idxFile, honest.subarray(0, idsStart + 60))
    expect(errorOf(() => new ObjectReader(own, true))).toMatchObject({ code: 'IO', message: expect.stringMatching(/is shorter than the 3 objects it counts need/) })
    await expect(ObjectReader.openBulk(own)).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/is shorter than the 3 objects it counts need/) })
  })

  it('refuses an object rebuilt from a delta whose base was altered', () => {
    const base = Buffer.from(`{"name":"acme:util","version":"2.0.0","description":"${'a utility '.repeat(8)}"}\n`)
    const result = Buffer.from(base.toString().replace('2.0.0', '2.0.1'))
    const alteredBase = Buffer.from(base.toString().replace('acme:util', 'evil:util'))
    // The base is listed under its honest id; the delta object itself is untouched.
    writePack(dir, [
      { oid: blobId(base), data: alteredBase },
      { oid: blobId(result), data: delta(base, result), deltaOf: 0 },
    ])
    const reader = new ObjectReader(dir)
    try {
      expect(() => reader.read(blobId(result).toString('hex'))).toThrow(/does not hash to its id/)
    } finally {
      reader.close()
    }
  })

  it('refuses a packed object or delta that claims more bytes than it could hold, before making room for them', () => {
    const base = Buffer.from('{"name":"acme:big"}\n')
    // A delta of one copy instruction that says it makes a terabyte.
    const boast = Buffer.concat([varint(base.length), varint(2 ** 40), Buffer.from([0x80 | 0x10, base.length])])
    writePack(dir, [
      { oid: sha1('claims a terabyte'), data: base, claims: 2 ** 40 },
      { oid: blobId(base), data: base },
      { oid: sha1('a boasting delta'), data: boast, deltaOf: 1 },
    ])
    const reader = new ObjectReader(dir)
    try {
      expect(() => reader.read(sha1('claims a terabyte').toString('hex'))).toThrow(/says it is 1099511627776 bytes, more than the rest of the pack could hold/)
      expect(() => reader.read(sha1('a boasting delta').toString('hex'))).toThrow(/a pack delta says it makes more than it could/)
      expect(reader.readAs(blobId(base).toString('hex'), 'blob').equals(base)).toBe(true)
    } finally {
      reader.close()
    }
  })

  it('reads honest loose objects of any size, and refuses one whose header lies or whose stream is cut', () => {
    const content = Buffer.from('{"name":"acme:calc"}\n'.repeat(300))
    const framed = (header: string, data = content) => Buffer.concat([Buffer.from(header, 'latin1'), data])
    const place = (oid: string, file: Buffer) => {
      const at = path.join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2))
      fs.mkdirSync(path.dirname(at), { recursive: true })
      fs.writeFileSync(at, file)
    }
    for (const data of [Buffer.alloc(0), Buffer.from('x'), content]) {
      const oid = blobId(data).toString('hex')
      place(oid, deflateSync(framed(`blob ${data.length}\0`, data)))
      const reader = new ObjectReader(dir)
      try {
        expect(reader.readAs(oid, 'blob').equals(data)).toBe(true)
      } finally {
        reader.close()
      }
    }
    const forged: [string, Buffer, RegExp][] = [
      ['size too small', deflateSync(framed(`blob ${content.length - 1}\0`)), /does not inflate/],
      ['size too large', deflateSync(framed(`blob ${content.length + 1}\0`)), /does not inflate/],
      ['size past what the stream can hold', deflateSync(framed(`blob ${2 ** 52}\0`)), /malformed header/],
      ['size zero-padded', deflateSync(framed(`blob 0${content.length}\0`)), /malformed header/],
      ['unknown type', deflateSync(framed(`blab ${content.length}\0`)), /malformed header/],
      ['no end to the header', deflateSync(Buffer.from(`blob ${'9'.repeat(40)}`)), /malformed header/],
      ['cut short', deflateSync(framed(`blob ${content.length}\0`)).subarray(0, 40), /does not inflate/],
      ['not deflated', Buffer.from('plain text, not deflated'), /does not inflate/],
    ]
    for (const [name, file, refused] of forged) {
      const oid = createHash('sha1').update(name).digest('hex')
      place(oid, file)
      const reader = new ObjectReader(dir)
      try {
        expect(() => reader.read(oid), name).toThrow(refused)
      } finally {
        reader.close()
      }
    }
  })
})

describe('a loose record altered after it was merged', () => {
  let idx: TestIndex
  let work: string
  let recordOid: string

  beforeAll(async () => {
    work = await tempDir('wharf-tamper-')
    idx = await createTestIndex()
    await idx.release({ version: '1.0.0', description: 'A calculator' })
    recordOid = idx.git('rev-parse', `${MAIN}:${recordPath('acme:calc', '1.0.0')}`).trim()
    const honest = Buffer.from(idx.git('cat-file', 'blob', recordOid))
    rewriteLoose(idx.dir, recordOid, Buffer.from(honest.toString().replace('A calculator', 'A keylogger!')))
  })

  it('is served by git as if nothing happened', () => {
    expect(idx.git('cat-file', 'blob', recordOid)).toContain('A keylogger!')
  })

  it('stops build-api before anything is published or signed', async () => {
    const out = path.join(work, 'public')
    await expect(buildApi({ repo: idx.repo, out })).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(new RegExp(`object ${recordOid} .*does not hash to its id`)) })
    expect(fs.existsSync(out)).toBe(false)
    const builds = path.join(work, '.public.builds')
    expect(fs.existsSync(builds) ? fs.readdirSync(builds).filter((e) => e !== '.wharf') : []).toEqual([])
  })

  it('stops check on a submission that brings it back', async () => {
    const head = await resolveCommit(idx.repo, MAIN)
    await expect(runCheck({ repo: idx.repo, base: `${MAIN}~1`, head, author: { login: 'alice' } })).rejects.toMatchObject({ code: 'IO' })
  })
})
