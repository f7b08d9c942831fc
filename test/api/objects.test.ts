/**
 * build-api's own object reader and tree diff, checked against the git CLI:
 * every object of a repo with loose objects and packs (offset and ref
 * deltas) reads back byte for byte, and the per-commit changes under index/
 * are exactly what `git diff --raw` reports, on random histories.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { deflateSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { firstParentChain, indexChanges } from '../../src/api/history.js'
import { differingEntries, ObjectReader, parseCommit, parseCommitData, parseTree } from '../../src/git/index.js'
import { tempDir } from '../helpers/index-repo.js'

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' }
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 })

const PATHS = ['index/a.json', 'index/p/q/r.json', 'index/p/s.json', 'index/p', 'index/deep/er/f.json', 'index/x.json', 'outside.txt']

/** A random history, committed with the git CLI; returns the repo dir. */
async function randomHistory(steps: { path: string; content: string | null; exec: boolean }[][]): Promise<string> {
  const dir = await tempDir('wharf-objects-')
  git(dir, 'init', '-q', '-b', 'main')
  fs.writeFileSync(path.join(dir, 'seed'), 'seed\n')
  git(dir, 'add', '-A')
  git(dir, 'commit', '-qm', 'seed')
  for (const step of steps) {
    for (const { path: file, content, exec } of step) {
      const full = path.join(dir, file)
      // a file where a directory is (or the reverse) replaces it, as in a real tree
      for (let p = path.dirname(full); p.startsWith(dir) && p !== dir; p = path.dirname(p)) if (fs.existsSync(p) && !fs.statSync(p).isDirectory()) fs.rmSync(p)
      if (content === null || (fs.existsSync(full) && fs.statSync(full).isDirectory())) fs.rmSync(full, { recursive: true, force: true })
      if (content !== null) {
        fs.mkdirSync(path.dirname(full), { recursive: true })
        fs.writeFileSync(full, `${content}\n${'padding that makes deltas worth it '.repeat(20)}\n`)
        fs.chmodSync(full, exec ? 0o755 : 0o644)
      }
    }
    git(dir, 'add', '-A')
    git(dir, 'commit', '-qm', 'step', '--allow-empty')
  }
  return dir
}

function gitChanges(dir: string, base: string, head: string): string[] {
  const out = git(dir, 'diff', '--raw', '--no-renames', '-z', '--no-abbrev', base, head, '--', 'index').toString()
  const fields = out.split('\0').filter(Boolean)
  const rows: string[] = []
  for (let i = 0; i < fields.length; i += 2) {
    const [, , , newOid, status] = fields[i]!.slice(1).split(' ')
    const kind = status === 'A' ? 'added' : status === 'D' ? 'deleted' : 'modified'
    rows.push(`${kind} ${fields[i + 1]} ${kind === 'deleted' ? '' : newOid}`)
  }
  return rows.sort()
}

function expectSameChanges(dir: string): void {
  const head = git(dir, 'rev-parse', 'main').toString().trim()
  const reader = new ObjectReader(dir)
  try {
    const chain = firstParentChain(reader, head)!
    const ours = new Map(indexChanges(reader, chain, undefined).map((c) => [c.commit.oid, c.changes.map((x) => `${x.status} ${x.path} ${x.oid ?? ''}`).sort()]))
    for (let i = 1; i < chain.length; i++) expect(ours.get(chain[i]!.oid) ?? [], `commit ${i}`).toEqual(gitChanges(dir, chain[i - 1]!.oid, chain[i]!.oid))
  } finally {
    reader.close()
  }
}

const step = fc.array(fc.record({ path: fc.constantFrom(...PATHS), content: fc.option(fc.constantFrom('one', 'two', 'three'), { nil: null, freq: 4 }), exec: fc.boolean() }), { minLength: 1, maxLength: 4 })

describe('ObjectReader', () => {
  it.each([
    ['loose objects', [] as string[][]],
    ['a pack with offset deltas and loose objects after it', [['repack', '-adf', '--depth=50', '--window=50']]],
    ['a pack with ref deltas', [['-c', 'pack.useDeltaBaseOffset=false', 'repack', '-adf', '--depth=50', '--window=50']]],
  ])('reads every object as git does: %s', async (_name, repack) => {
    const dir = await randomHistory(fc.sample(step, { numRuns: 12, seed: 7 }))
    for (const args of repack) git(dir, ...args)
    if (repack.length) {
      fs.writeFileSync(path.join(dir, 'index/late.json'), 'loose after the pack\n')
      git(dir, 'add', '-A')
      git(dir, 'commit', '-qm', 'late')
      const verify = git(dir, 'verify-pack', '-v', ...fs.readdirSync(path.join(dir, '.git/objects/pack')).filter((f) => f.endsWith('.idx')).map((f) => `.git/objects/pack/${f}`)).toString()
      expect(verify).toMatch(/chain length = [1-9]/)
    }
    const objects = git(dir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)').toString().trim().split('\n')
    const expected = new Map(objects.map((line) => line.split(' ') as [string, string]).map(([oid, type]) => [oid, { type, data: git(dir, 'cat-file', type, oid) }]))
    // bulk (whole packs in memory, as a full build reads) and by position (as an incremental build reads)
    for (const bulk of [false, true]) {
      const reader = new ObjectReader(dir, bulk)
      try {
        for (const [oid, want] of expected) {
          const object = reader.read(oid)
          expect(object.type).toBe(want.type)
          expect(object.data.equals(want.data), `${want.type} ${oid} (bulk: ${bulk})`).toBe(true)
        }
      } finally {
        reader.close()
      }
    }
  })
})

describe('ObjectReader over large pack indexes', () => {
  /** `count` small blobs in one new pack (fast-import writes one per run), numbered from `from`. */
  function importBlobs(dir: string, from: number, count: number): void {
    const commands: string[] = []
    for (let i = from; i < from + count; i++) {
      const body = `blob number ${i}\n`
      commands.push(`blob\ndata ${Buffer.byteLength(body)}\n${body}\n`)
    }
    // glibc handing memory back to the kernel after every object makes fast-import many times slower.
    const env = { ...GIT_ENV, MALLOC_TOP_PAD_: String(256 << 20), MALLOC_TRIM_THRESHOLD_: String(2 ** 32 - 1), MALLOC_MMAP_THRESHOLD_: String(2 ** 32 - 1) }
    execFileSync('git', ['-C', dir, 'fast-import', '--quiet', '--done'], { input: `${commands.join('')}done\n`, env })
  }

  it('finds every object of two packs, and objects written after the reader was made, as git does', async () => {
    const dir = await tempDir('wharf-objects-large-')
    git(dir, 'init', '-q', '-b', 'main')
    // Two packs of 30,000: a fanout bucket holds ~117 ids of each.
    importBlobs(dir, 0, 30_000)
    importBlobs(dir, 30_000, 30_000)
    expect(fs.readdirSync(path.join(dir, '.git/objects/pack')).filter((f) => f.endsWith('.idx'))).toHaveLength(2)
    const listed = git(dir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)').toString().trim().split('\n')
    expect(listed).toHaveLength(60_000)
    // The default window holds a whole bucket of these packs; a window of 8 ids takes several guesses, then halvings, to narrow a bucket down;
    // with the packs in memory (bulk, read whole or in pieces of 4 KiB several at once), and in a reader adopting them as a worker thread
    // does, ids are found through the table of prefixes.
    const bulk = new ObjectReader(dir, true)
    const readers = [new ObjectReader(dir), new ObjectReader(dir, false, undefined, 8), bulk, await ObjectReader.openBulk(dir, 4096), ObjectReader.fromShared(bulk.share())]
    try {
      for (const reader of readers) {
        // Every id, in an order that jumps between buckets and packs; and ids one bit off a real one at either end are in none.
        const missing: string[] = []
        let found = 0
        for (const [i, oid] of [...listed].reverse().entries()) {
          if (reader.has(oid)) found++
          if (i % 50 === 0) {
            for (const at of [19, 1]) {
              const near = Buffer.from(oid, 'hex')
              near[at]! ^= 1
              if (reader.has(near.toString('hex'))) missing.push(near.toString('hex'))
            }
          }
        }
        expect(found).toBe(60_000)
        expect(missing).toEqual([])
        for (const oid of listed.filter((_, i) => i % 3000 === 0)) {
          expect(reader.read(oid).data.equals(git(dir, 'cat-file', 'blob', oid))).toBe(true)
          expect(reader.expand(oid.slice(0, 12), 10)).toEqual([oid])
        }
      }
      // A loose object and a third pack written after the readers were made are found.
      const loose = execFileSync('git', ['-C', dir, 'hash-object', '-w', '--stdin'], { input: 'written after the reader\n' }).toString().trim()
      importBlobs(dir, 60_000, 1000)
      const before = new Set(listed)
      const late = git(dir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)').toString().trim().split('\n').filter((oid) => !before.has(oid) && oid !== loose)
      expect(late).toHaveLength(1000)
      for (const reader of readers) {
        expect(reader.read(loose).data.toString()).toBe('written after the reader\n')
        for (const oid of late.slice(0, 20)) expect(reader.read(oid).data.toString()).toMatch(/^blob number 60\d{3}\n$/)
      }
    } finally {
      for (const reader of readers) reader.close()
    }
  })
})

describe('ObjectReader.expand', () => {
  it('finds objects by a prefix of their id, packed and loose, as git rev-parse does', async () => {
    const dir = await randomHistory(fc.sample(step, { numRuns: 8, seed: 3 }))
    git(dir, 'repack', '-adq')
    fs.writeFileSync(path.join(dir, 'index/after.json'), 'loose\n')
    git(dir, 'add', '-A')
    git(dir, 'commit', '-qm', 'loose')
    const objects = git(dir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)').toString().trim().split('\n')
    const reader = new ObjectReader(dir)
    try {
      for (const oid of objects.filter((_, i) => i % 5 === 0)) {
        expect(reader.expand(oid)).toEqual([oid])
        const short = git(dir, 'rev-parse', '--short=4', oid).toString().trim()
        // git's shortest unambiguous prefix names one object for us too, and one digit less names it among others or alone
        expect(reader.expand(short, 10)).toEqual([oid])
        if (short.length > 4) expect(reader.expand(oid.slice(0, short.length - 1), 10)).toContain(oid)
      }
      expect(reader.expand('0'.repeat(40))).toEqual([])
      expect(reader.expand('xyz1')).toEqual([])
    } finally {
      reader.close()
    }
  })
})

describe('indexChanges', () => {
  it('agrees with git diff --raw on random histories, loose and packed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), fc.boolean(), async (steps, packed) => {
        const dir = await randomHistory(steps)
        if (packed) git(dir, 'repack', '-adq')
        expectSameChanges(dir)
        fs.rmSync(dir, { recursive: true, force: true })
      }),
      { numRuns: 10 },
    )
  })

  it('parses only the entries that differ, and finds them all', () => {
    const entry = (name: string, oid: string, mode = '100644') => Buffer.concat([Buffer.from(`${mode.replace(/^0/, '')} ${name}\0`), Buffer.from(oid, 'hex')])
    const tree = (entries: Map<string, string>) => Buffer.concat([...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([n, o]) => entry(n, o)))
    const oid = fc.constantFrom('00'.repeat(20), '20'.repeat(20), '0020'.repeat(10), 'ff'.repeat(20), 'ab'.repeat(20))
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z0-9.]{1,6}$/), oid, { maxKeys: 30 }), fc.dictionary(fc.stringMatching(/^[a-z0-9.]{1,6}$/), fc.option(oid, { nil: null }), { maxKeys: 5 }), (base, edits) => {
        const a = new Map(Object.entries(base))
        const b = new Map(a)
        for (const [name, value] of Object.entries(edits)) {
          if (value === null) b.delete(name)
          else b.set(name, value)
        }
        const [left, right] = differingEntries(tree(a), tree(b))
        const changed = (x: Map<string, string>, y: Map<string, string>) => [...x].filter(([n, o]) => y.get(n) !== o).map(([n]) => n).sort()
        const got = (l: typeof left, r: typeof right) => {
          const lm = new Map(l.map((e) => [e.name, e.oid]))
          const rm = new Map(r.map((e) => [e.name, e.oid]))
          return [changed(lm, rm), changed(rm, lm)]
        }
        expect(got(left, right)).toEqual([changed(a, b), changed(b, a)])
        // whatever it returns is a real, whole entry of its side
        for (const e of left) expect(a.get(e.name)).toBe(e.oid)
        for (const e of right) expect(b.get(e.name)).toBe(e.oid)
        expect(left.length + right.length).toBeLessThanOrEqual(parseTree(tree(a)).length + parseTree(tree(b)).length)
      }),
      { numRuns: 500 },
    )
  })
})

describe('entryOf', () => {
  it('finds the entry readTree(...).find finds, the first look and the next, whatever the names', async () => {
    const dir = await tempDir('wharf-entry-of-')
    git(dir, 'init', '-q')
    // Names as bytes: ASCII, UTF-8, bytes that are not UTF-8, and repeats (a malformed tree still reads the same way).
    const name = fc.oneof(fc.stringMatching(/^[a-z.]{1,4}$/).map((n) => Buffer.from(n)), fc.constantFrom(Buffer.from('é'), Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from('\uFFFD')))
    const oid = fc.constantFrom('00'.repeat(20), '20'.repeat(20), 'ab'.repeat(20))
    const entries = fc.array(fc.tuple(fc.constantFrom('100644', '40000', '100755'), name, oid), { maxLength: 12 })
    fc.assert(
      fc.property(entries, fc.array(fc.oneof(name, fc.constant(Buffer.from('absent'))), { maxLength: 6 }), (list, extra) => {
        const data = Buffer.concat(list.map(([mode, n, o]) => Buffer.concat([Buffer.from(`${mode} `), n, Buffer.from([0]), Buffer.from(o, 'hex')])))
        const object = Buffer.concat([Buffer.from(`tree ${data.length}\0`), data])
        const id = createHash('sha1').update(object).digest('hex')
        const file = path.join(dir, '.git/objects', id.slice(0, 2), id.slice(2))
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.writeFileSync(file, deflateSync(object))
        const reader = new ObjectReader(dir)
        const names = [...list.map(([, n]) => n), ...extra].map((n) => n.toString('utf8'))
        try {
          for (const wanted of names) {
            const parsed = parseTree(data).find((e) => e.name === wanted)
            expect(reader.entryOf(id, wanted)).toEqual(parsed)
            expect(reader.entryOf(id, wanted)).toEqual(parsed)
          }
        } finally {
          reader.close()
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('parseCommitData', () => {
  it('reads tree, parents and committer time as parseCommit does, whatever the headers around them', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{40}$/)
    const person = fc.tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom('+0000', '-0130', 'x'))
    const header = fc.oneof(
      hex.map((h) => `tree ${h}`),
      hex.map((h) => `parent ${h}`),
      fc.constant('parent not-an-id'),
      person.map(([name, time, zone]) => `committer ${name} <${name}@x> ${time} ${zone}`),
      person.map(([name, time, zone]) => `author ${name} <${name}@x> ${time} ${zone}`),
      fc.string({ maxLength: 12 }).map((text) => `gpgsig -----BEGIN-----\n ${text.replace(/\n/g, ' ')}\n -----END-----`),
      fc.string({ maxLength: 12 }).filter((text) => !text.includes('\n')),
    )
    fc.assert(
      fc.property(fc.array(header, { maxLength: 8 }), fc.string({ maxLength: 20 }), fc.boolean(), (headers, message, withMessage) => {
        const data = Buffer.from(`${headers.join('\n')}${withMessage ? `\n\n${message}` : ''}`)
        let expected: unknown
        try {
          const { tree, parents, time } = parseCommit('c'.repeat(40), data)
          expected = { oid: 'c'.repeat(40), tree, parents, time }
        } catch (e) {
          expected = (e as Error).message
        }
        let got: unknown
        try {
          got = parseCommitData('c'.repeat(40), data)
        } catch (e) {
          got = (e as Error).message
        }
        expect(got).toEqual(expected)
      }),
      { numRuns: 2000 },
    )
  })
})
