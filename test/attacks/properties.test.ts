/**
 * Property and fuzz tests over the parsers and formats a submitter reaches:
 * names, versions, canonical JSON, DSSE, the tree diff against git's own,
 * tree well-formedness against git fsck, the Cargo index line and the
 * strict record parser. Runs are bounded (numRuns) so the suite stays fast;
 * fast-check prints the seed and the shrunk counterexample on failure.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { cargoIndexLine } from '../../src/api/cargo.js'
import { canonicalJson, sortKeys, stableJson } from '../../src/core/canonical.js'
import { sha256Hex } from '../../src/core/hash.js'
import { PAYLOAD_TYPES, signDocument, verifyDocument } from '../../src/core/dsse.js'
import { parseStrictJson } from '../../src/core/json.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { checkName, checkNamespace, crateToPackageName } from '../../src/core/names.js'
import type { VersionRecord } from '../../src/core/types.js'
import { checkVersion, compareVersions, parseVersion, sameVersion, versionKey } from '../../src/core/versions.js'
import { changedTreeProblems, diffCommits, initRepo, type Repo, treeProblems, compareEntries, isDotGit, writeCommitWith, type RawTreeEntry, type TreeProblemKind } from '../../src/git/index.js'
import { tempDir } from '../helpers/index-repo.js'

/** Any UTF-16 string, lone surrogates included. */
const utf16 = (maxLength = 12) => fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength })
const LONE = /\p{Cs}/u

describe('names and versions', () => {
  it('a valid name is lower-case ASCII and stays valid as a segment; anything with other characters is refused', () => {
    fc.assert(
      fc.property(utf16(20), (name) => {
        const problem = checkName(name)
        if (problem === undefined) expect(name).toMatch(/^[a-z][a-z0-9-]*(\/[a-z][a-z0-9-]*)*$/)
        if (/[^a-z0-9/-]/.test(name)) expect(problem).toBeDefined()
        expect(typeof (checkNamespace(name) ?? '')).toBe('string')
      }),
      { numRuns: 500 },
    )
  })

  it('a crate name maps to one package name whatever its case or "-"/"_"', () => {
    const crate = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,20}$/)
    fc.assert(
      fc.property(crate, (name) => {
        const flipped = [...name].map((c) => (c === '_' ? '-' : c === '-' ? '_' : c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')
        expect(crateToPackageName(flipped)).toBe(crateToPackageName(name))
      }),
      { numRuns: 300 },
    )
  })

  it('versions: parse accepts what check accepts; the key ignores build metadata and pre-release case, and agrees with sameVersion', () => {
    const ident = fc.stringMatching(/^[0-9A-Za-z-]{1,6}$/)
    const version = fc
      .tuple(fc.nat(30), fc.nat(30), fc.nat(30), fc.option(fc.array(ident, { minLength: 1, maxLength: 3 })), fc.option(fc.array(ident, { minLength: 1, maxLength: 2 })))
      .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build.join('.')}` : ''}`)
    fc.assert(
      fc.property(version, utf16(), (v, junk) => {
        if (checkVersion(v) === undefined) {
          expect(parseVersion(v)).toBe(v)
          expect(sameVersion(v, v.toUpperCase())).toBe(true)
          expect(versionKey(v)).not.toContain('+')
          expect(compareVersions(v, v)).toBe(0)
        }
        const problem = checkVersion(junk)
        if (problem === undefined) expect(() => parseVersion(junk)).not.toThrow()
        else expect(() => parseVersion(junk)).toThrow()
      }),
      { numRuns: 500 },
    )
  })
})

describe('stable JSON (documents people read)', () => {
  /** The plain definition: every object copied with its keys sorted, then stringified. */
  const copySorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(copySorted)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, copySorted((value as Record<string, unknown>)[k])]))
        : value
  const key = fc.oneof(utf16(6), fc.constantFrom('__proto__', 'constructor', '0', '7', '10', '07', '4294967294', '4294967295', '-1', 'a', 'B'))
  const value = fc.letrec((tie) => ({
    any: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), tie('object'), fc.array(tie('any'), { maxLength: 4 })),
    object: fc.array(fc.tuple(key, tie('any')), { maxLength: 6 }).map((entries) => {
      const object: Record<string, unknown> = {}
      for (const [k, v] of entries) Object.defineProperty(object, k, { value: v, enumerable: true, writable: true, configurable: true })
      return object
    }),
  })).any

  it('is the sorted copy stringified, whatever the insertion order, and leaves its input and prototypes alone', () => {
    fc.assert(
      fc.property(value, (v) => {
        const before = JSON.stringify(v)
        const text = stableJson(v)
        expect(text).toBe(`${JSON.stringify(copySorted(v), null, 2)}\n`)
        expect(JSON.stringify(v)).toBe(before)
        const sorted = sortKeys(v)
        expect(stableJson(sorted)).toBe(text)
        let indices = false
        const walk = (x: unknown): void => {
          if (x === null || typeof x !== 'object') return
          if (!Array.isArray(x)) {
            expect(Object.getPrototypeOf(x)).toBe(Object.prototype)
            indices ||= Object.keys(x).some((k) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1)
          }
          for (const child of Object.values(x)) walk(child)
        }
        walk(sorted)
        // In order already: the same value back, nothing copied (an object holding array indices keeps them first, so it is never in order).
        if (!indices) expect(sortKeys(sorted)).toBe(sorted)
      }),
      { numRuns: 500 },
    )
  })
})

describe('canonical JSON (RFC 8785)', () => {
  it('round-trips, sorts keys by UTF-16 code units, and refuses lone surrogates with a typed error', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), utf16(), (value, text) => {
        const once = canonicalJson(value)
        expect(canonicalJson(JSON.parse(once))).toBe(once)
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          // key order in, no matter: one canonical text
          expect(canonicalJson(Object.fromEntries(Object.entries(value).reverse()))).toBe(once)
        }
        if (LONE.test(text)) expect(() => canonicalJson({ text })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
        else expect(JSON.parse(canonicalJson({ text })).text).toBe(text)
      }),
      { numRuns: 300 },
    )
  })

  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3, '1': 4, '\u00f6': 5, '\ufb33': 6 })).toBe('{"\\r":2,"1":4,"\u00f6":5,"\u20ac":1,"\ud83d\ude00":3,"\ufb33":6}')
  })

  it('numbers are written as ECMAScript writes them, -0 as 0', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(canonicalJson(n)).toBe(Object.is(n, -0) ? '0' : String(n))
      }),
      { numRuns: 300 },
    )
    expect(() => canonicalJson(Number.NaN)).toThrow()
  })
})

describe('DSSE', () => {
  const key = generateKey()
  const keys = [{ id: key.id, algorithm: 'ed25519' as const, public_key: key.publicKey, added: '2026-01-01T00:00:00Z' }]
  const document = fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()), { maxKeys: 5 })

  it('a signed document verifies; any single changed byte of its canonical form does not', () => {
    fc.assert(
      fc.property(document, fc.nat(), fc.integer({ min: 1, max: 255 }), (doc, at, flip) => {
        const signed = signDocument(doc, PAYLOAD_TYPES.record, parsePrivateKey(key.privatePem))
        expect(verifyDocument(signed, PAYLOAD_TYPES.record, keys)).toEqual({ ok: true, keyid: key.id })
        const { signature, ...rest } = signed
        const bytes = Buffer.from(canonicalJson(rest))
        const i = at % bytes.length
        bytes[i] = bytes[i]! ^ flip
        const parsed = parseStrictJson(bytes.toString('utf8'))
        if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return
        const tampered = { ...(parsed.value as object), signature }
        // A flip can also make a number overflow to Infinity (1600000309 -> 16e0000309): no canonical form, so nothing verifies.
        const canonical = (() => {
          try {
            return canonicalJson(parsed.value)
          } catch {
            return undefined
          }
        })()
        if (canonical === canonicalJson(rest)) return
        expect(verifyDocument(tampered, PAYLOAD_TYPES.record, keys).ok).toBe(false)
      }),
      { numRuns: 60, examples: [[{ aaa: -1600000309 }, 2147221492, 115]] },
    )
  })
})

describe('the tree diff against git diff-tree', () => {
  let repo: Repo
  beforeAll(async () => {
    repo = await initRepo(await tempDir('wharf-prop-diff-'))
  })
  // Directory names and file names never collide, and sort in git's tricky order ("a" as "a/" after "a-b" and "a.b").
  const file = fc.tuple(fc.array(fc.constantFrom('a', 'a-b', 'a0', 'z'), { maxLength: 3 }), fc.constantFrom('a.b', 'a-b.json', 'a.json', 'b', 'b0')).map(([dirs, name]) => [...dirs, name].join('/'))
  const files = fc.dictionary(file, fc.constantFrom('1', '2', '3'), { maxKeys: 12 })

  it('reports the same paths and statuses as git', async () => {
    await fc.assert(
      fc.asyncProperty(files, files, async (left, right) => {
        const write = (set: Record<string, string>) =>
          writeCommitWith(repo, { parents: [], files: Object.entries(set).map(([path, content]) => ({ path, content })), message: 'x', author: { login: 'alice' } })
        const [a, b] = [await write(left), await write(right)]
        const ours = (await diffCommits(repo, a, b)).map((c) => `${c.status[0]!.toUpperCase()} ${c.path}`)
        const raw = execFileSync('git', ['-C', repo.dir, 'diff-tree', '-r', '--no-renames', '--name-status', a, b], { encoding: 'utf8' })
        const theirs = raw.split('\n').filter(Boolean).map((l) => l.replace('\t', ' '))
        expect(ours).toEqual(theirs)
      }),
      { numRuns: 25 },
    )
  })
})

describe('tree well-formedness against git fsck', () => {
  const oid = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
  const entry = fc.record({ mode: fc.constantFrom('100644', '100755', '120000', '40000'), name: fc.stringMatching(/^[a-z0-9._-]{1,6}$/) }).filter((e) => !['.', '..'].includes(e.name) && !isDotGit(Buffer.from(e.name)))
  const entries = fc.uniqueArray(entry, { selector: (e) => e.name, minLength: 1, maxLength: 8 }).map((list) =>
    list.map((e): RawTreeEntry => ({ mode: e.mode, name: Buffer.from(e.name), oid })).sort(compareEntries),
  )
  const bytes = (list: RawTreeEntry[]) => Buffer.concat(list.flatMap((e) => [Buffer.from(`${e.mode} `), e.name, Buffer.from([0]), Buffer.from(e.oid, 'hex')]))
  const corruptions: [TreeProblemKind, (list: RawTreeEntry[]) => RawTreeEntry[]][] = [
    ['duplicate', (l) => [...l, l[l.length - 1]!]],
    ['dotgit', (l) => [{ mode: '100644', name: Buffer.from('.GiT'), oid }, ...l]],
    ['dotgit', (l) => [{ mode: '100644', name: Buffer.from('.git. '), oid }, ...l]],
    ['dotdot', (l) => [{ mode: '100644', name: Buffer.from('..'), oid }, ...l]],
    ['bad-mode', (l) => l.map((e, i) => (i === 0 ? { ...e, mode: '100600' } : e))],
    ['zero-padded-mode', (l) => l.map((e, i) => (i === 0 ? { ...e, mode: `0${e.mode}` } : e))],
    ['empty-name', (l) => [{ mode: '100644', name: Buffer.alloc(0), oid }, ...l]],
  ]

  it('sorted, valid trees pass, in the order git mktree writes; each corruption is its kind of problem', () => {
    fc.assert(
      fc.property(entries, fc.constantFrom(...corruptions), (list, [kind, corrupt]) => {
        expect(treeProblems(bytes(list))).toEqual([])
        expect(treeProblems(bytes(corrupt(list))).map((p) => p.kind)).toContain(kind)
        if (list.length > 1) expect(treeProblems(bytes([...list].reverse())).map((p) => p.kind)).toContain('unsorted')
      }),
      { numRuns: 300 },
    )
  })

  it('agrees with git mktree on order and with git fsck --strict on every kind, for a sample', async () => {
    const dir = await tempDir('wharf-prop-fsck-')
    execFileSync('git', ['init', '-q', dir])
    const git = (args: string[], input?: string | Buffer) => execFileSync('git', ['-C', dir, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })
    fs.writeFileSync(path.join(dir, 'empty'), '')
    expect(git(['hash-object', '-w', 'empty']).trim()).toBe(oid)
    let lastFsck = ''
    // Whether fsck names the tree: as an error, or (a bad file mode, which git only warns of, even with --strict) a warning.
    const fsckRefuses = (tree: string) => {
      lastFsck = spawnSync('git', ['-C', dir, 'fsck', '--strict', '--no-dangling', '--no-progress', tree], { encoding: 'utf8' }).stderr
      return lastFsck.includes(tree)
    }
    fc.assert(
      fc.property(entries, fc.constantFrom(...corruptions), (list, [, corrupt]) => {
        const plain = list.filter((e) => e.mode !== '40000')
        if (plain.length === 0) return
        const made = git(['mktree'], plain.map((e) => `${e.mode} blob ${e.oid}\t${e.name}`).join('\n') + '\n').trim()
        expect(execFileSync('git', ['-C', dir, 'cat-file', 'tree', made]).equals(bytes(plain))).toBe(true)
        const bad = git(['hash-object', '-t', 'tree', '-w', '--literally', '--stdin'], bytes(corrupt(plain))).trim()
        expect(treeProblems(bytes(corrupt(plain))).length).toBeGreaterThan(0)
        expect(fsckRefuses(bad)).toBe(true)
        expect(fsckRefuses(made), `${made} ${lastFsck}`).toBe(false)
      }),
      { numRuns: 12 },
    )
  })

  // A check or an audit reads only the entries a new version of a large directory changed: it must find what reading it whole finds.
  const hexOid = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex')).filter((h) => h !== '0'.repeat(40))
  const wellFormed = fc
    .uniqueArray(fc.record({ mode: fc.constantFrom('100644', '40000'), name: fc.stringMatching(/^[a-c.-]{1,3}$/), oid: hexOid }), { selector: (e) => e.name, maxLength: 12 })
    .map((list) => list.filter((e) => !['.', '..'].includes(e.name)).map((e): RawTreeEntry => ({ ...e, name: Buffer.from(e.name) })).sort(compareEntries))
  // Names and modes a hostile submitter may write: empty, `.`, a space, a name a neighbour has with the other mode, modes git never writes.
  const anyEntry = fc.record({ mode: fc.constantFrom('100644', '40000', '0100644', '100600'), name: fc.stringMatching(/^[a-c. -]{0,3}$/), oid: fc.oneof(hexOid, fc.constant('0'.repeat(40))) }).map((e): RawTreeEntry => ({ ...e, name: Buffer.from(e.name) }))
  type Edit = { op: 'insert'; entry: RawTreeEntry; at: number; sorted: boolean } | { op: 'delete' | 'swap' | 'twice'; at: number } | { op: 'modify'; at: number; oid: string }
  const edit: fc.Arbitrary<Edit> = fc.oneof(
    fc.record({ op: fc.constant('insert' as const), entry: anyEntry, at: fc.nat(), sorted: fc.boolean() }),
    fc.record({ op: fc.constantFrom('delete' as const, 'swap' as const, 'twice' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('modify' as const), at: fc.nat(), oid: hexOid }),
  )
  // `twice`: the entry again with the other mode (a file and a directory of one name, which git's order need not make neighbours).
  const applyEdit = (list: RawTreeEntry[], e: Edit): RawTreeEntry[] => {
    const out = [...list]
    const i = out.length ? e.at % out.length : 0
    if (e.op === 'insert') {
      const where = e.sorted ? out.filter((x) => compareEntries(x, e.entry) < 0).length : e.at % (out.length + 1)
      out.splice(where, 0, e.entry)
    } else if (!out.length) return out
    else if (e.op === 'delete') out.splice(i, 1)
    else if (e.op === 'modify') out[i] = { ...out[i]!, oid: e.oid }
    else if (e.op === 'swap' && i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!]
    else if (e.op === 'twice') out.splice(i, 0, { ...out[i]!, mode: out[i]!.mode === '40000' ? '100644' : '40000' })
    return out
  }

  it('a new version of a well-formed tree has the problems its whole bytes have, found from the entries it changed', () => {
    fc.assert(
      fc.property(wellFormed, fc.array(edit, { minLength: 1, maxLength: 3 }), (base, edits) => {
        expect(treeProblems(bytes(base))).toEqual([])
        const head = edits.reduce(applyEdit, base)
        expect(changedTreeProblems(bytes(head), bytes(base))).toEqual(treeProblems(bytes(head)))
      }),
      { numRuns: 2000 },
    )
  })

  it('a new version that changes many entries of a large tree has the problems its whole bytes have', () => {
    const at = (name: string, mode = '100644'): RawTreeEntry => ({ mode, name: Buffer.from(name), oid: sha256Hex(name).slice(0, 40) })
    const base = Array.from({ length: 400 }, (_, i) => at(`p${String(i).padStart(4, '0')}`))
    const added = Array.from({ length: 40 }, (_, i) => at(`q${String(i).padStart(4, '0')}`))
    expect(changedTreeProblems(bytes([...base, ...added]), bytes(base))).toEqual([])
    const twice = [...base, ...added, at('q0039', '40000')]
    expect(changedTreeProblems(bytes(twice), bytes(base))).toEqual(treeProblems(bytes(twice)))
    expect(treeProblems(bytes(twice)).map((p) => p.kind)).toEqual(['duplicate'])
  })

  it('what the base already held is not the new version\'s problem; what the new version adds beside it is', () => {
    const at = (name: string, mode = '100644', oid = 'ab'.repeat(20)): RawTreeEntry => ({ mode, name: Buffer.from(name), oid })
    const base = [at('.GIT'), at('a'), at('b')]
    expect(treeProblems(bytes(base)).map((p) => p.kind)).toEqual(['dotgit'])
    expect(changedTreeProblems(bytes([at('.GIT'), at('a'), at('b', '100644', 'cd'.repeat(20))]), bytes(base))).toEqual([])
    // A directory `a` after `a-b` and `a.c`: the file `a` is no neighbour of it, yet it is the same name.
    const apart = [at('a'), at('a-b'), at('a.c')]
    expect(changedTreeProblems(bytes([...apart, at('a', '40000')]), bytes(apart)).map((p) => p.kind)).toEqual(['duplicate'])
  })
})

describe('the Cargo index line', () => {
  it('round-trips what cargo reads: name, vers, cksum, deps, features split into features2 only for dep:/?/ forms', () => {
    const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
    const features = fc.dictionary(ident, fc.array(fc.oneof(ident, ident.map((d) => `dep:${d}`), ident.map((d) => `${d}?/std`)), { maxLength: 3 }), { maxKeys: 4 })
    const crate = fc.record({ name: ident, cksum: fc.stringMatching(/^[0-9a-f]{64}$/), features, deps: fc.array(fc.record({ name: ident, req: fc.constantFrom('^1', '~0.2', '*'), optional: fc.boolean() }), { maxLength: 3 }) })
    fc.assert(
      fc.property(crate, fc.boolean(), (info, yanked) => {
        const record = { name: 'acme:x', version: '1.2.3', crate: info } as unknown as VersionRecord
        const line = cargoIndexLine(record, yanked)
        expect(line).not.toContain('\n')
        const read = JSON.parse(line) as Record<string, unknown>
        expect(read).toMatchObject({ name: info.name, vers: '1.2.3', cksum: info.cksum, yanked })
        expect((read.deps as { name: string; req: string; optional: boolean }[]).map((d) => [d.name, d.req, d.optional])).toEqual(info.deps.map((d) => [d.name, d.req, d.optional]))
        expect({ ...(read.features as object), ...((read.features2 as object) ?? {}) }).toEqual(info.features)
        expect(read.v).toBe(read.features2 ? 2 : 1)
      }),
      { numRuns: 200 },
    )
  })
})

describe('the strict record parser', () => {
  it('any text is a value or a typed problem, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(utf16(200), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        const result = parseStrictJson(text)
        if (result.ok) expect(JSON.parse(text)).toEqual(result.value)
        else expect(['syntax', 'too-deep', 'duplicate-key', 'reserved-key', 'lone-surrogate']).toContain(result.kind)
      }),
      { numRuns: 1000 },
    )
  })

  it('valid JSON with a key doubled anywhere is a duplicate-key problem', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 5 }), fc.jsonValue({ maxDepth: 2 }), (object, extra) => {
        const key = Object.keys(object)[0]!
        const text = `{"wrap":[${JSON.stringify(object).slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(extra)}}]}`
        expect(parseStrictJson(text)).toMatchObject({ ok: false, kind: 'duplicate-key' })
      }),
      { numRuns: 200 },
    )
  })

  it('huge and deeply nested input ends quickly with a typed problem', () => {
    for (const text of ['['.repeat(100_000) + ']'.repeat(100_000), '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000), '['.repeat(1_000_000)]) {
      const result = parseStrictJson(text)
      expect(result.ok).toBe(false)
      if (!result.ok) expect(['too-deep', 'syntax']).toContain(result.kind)
    }
    const wide = `[${'"x",'.repeat(500_000)}"x"]`
    expect(parseStrictJson(wide).ok).toBe(true)
  })
})
