/**
 * The signed snapshot: a fresh build verifies file by file; an altered,
 * missing or added file, an altered part, a foreign signature, an expired
 * snapshot and a rolled-back copy are each caught.
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi, leafOf, leafPath, nodePath, partPath, verifySnapshot, type VerifySnapshotOptions } from '../../src/api/index.js'
import { childLength, nodeLengths, renderLeaf, renderPart, renderSnapshot, renderSubtree, replaceDigests } from '../../src/api/snapshot.js'
import { createSnapshotIndex } from '../../src/client/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { sha256Hex } from '../../src/core/hash.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { REGISTRY_KEY_PATH } from '../../src/core/layout.js'
import { schemaErrors } from '../../src/core/schemas.js'
import { MAIN, resolveCommit } from '../../src/git/index.js'
import { readTree } from '../fixtures/api/tree.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

const NOW = new Date('2026-04-01T00:00:00Z')
let idx: TestIndex
let work: string
let old: string
let out: string
let keys: VerifySnapshotOptions['keys']

/** A private copy of a built tree to tamper with. */
async function copyOf(tree: string): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(work, 'copy-'))
  await fs.promises.cp(fs.realpathSync(tree), dir, { recursive: true })
  return dir
}

function fromDisk(root: string, extra: Partial<VerifySnapshotOptions> = {}): VerifySnapshotOptions {
  return {
    read: async (p) => fs.promises.readFile(path.join(root, p)).catch(() => undefined),
    list: async () => [...readTree(root).keys()],
    keys,
    now: NOW,
    ...extra,
  }
}

beforeAll(async () => {
  work = await tempDir('wharf-api-snapshot-')
  idx = await createTestIndex()
  await idx.release({ version: '1.0.0' })
  old = path.join(work, 'old')
  await buildApi({ repo: idx.repo, out: old, baseUrl: 'https://r.example', now: NOW })
  await idx.release({ version: '1.1.0' })
  out = path.join(work, 'public')
  await buildApi({ repo: idx.repo, out, baseUrl: 'https://r.example', now: NOW })
  keys = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).keys
})

describe('verifySnapshot', () => {
  it('accepts a fresh build, listing every file', async () => {
    const verdict = await verifySnapshot(fromDisk(out))
    expect(verdict.problems).toEqual([])
    expect(verdict).toMatchObject({ ok: true, commit: await resolveCommit(idx.repo, MAIN), expires: '2026-04-08T00:00:00Z' })
    const snapshot = JSON.parse(fs.readFileSync(path.join(out, 'snapshot.json'), 'utf8'))
    expect(schemaErrors('snapshot', snapshot)).toEqual([])
    expect(verdict.files).toBe(snapshot.file_count)
    // every file but the snapshot itself and the build state is listed
    expect(verdict.files).toBe([...readTree(out).keys()].filter((f) => f !== 'snapshot.json' && !f.startsWith('snapshot/') && !f.startsWith('.wharf/')).length)
  })

  it('catches an altered, a missing and an added file', async () => {
    const copy = await copyOf(out)
    fs.appendFileSync(path.join(copy, 'api/v1/packages/acme:calc/versions'), ' ')
    fs.rmSync(path.join(copy, 'index/packages/acme/calc/1.0.0.json'))
    fs.writeFileSync(path.join(copy, 'api/v1/packages/acme:calc/9.9.9'), '{}')
    const verdict = await verifySnapshot(fromDisk(copy))
    expect(verdict.ok).toBe(false)
    expect(verdict.problems.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: 'api/v1/packages/acme:calc/9.9.9', message: 'the file is not in the snapshot' },
      { path: 'api/v1/packages/acme:calc/versions', message: 'the file does not match its digest in the snapshot' },
      { path: 'index/packages/acme/calc/1.0.0.json', message: 'the file is missing' },
    ])
  })

  it('catches a leaf rewritten to match an altered file, and a part rewritten to match that leaf', async () => {
    const copy = await copyOf(out)
    const target = 'api/v1/packages/acme:calc/1.0.0'
    const leaf = leafOf(target)
    fs.appendFileSync(path.join(copy, target), ' ')
    const leafFile = path.join(copy, leafPath(leaf))
    const doc = JSON.parse(fs.readFileSync(leafFile, 'utf8'))
    doc.files[target] = sha256Hex(fs.readFileSync(path.join(copy, target)))
    fs.writeFileSync(leafFile, stableJson(doc))
    const first = await verifySnapshot(fromDisk(copy))
    expect(first.ok).toBe(false)
    expect(first.problems).toContainEqual({ path: leafPath(leaf), message: 'the leaf does not match its digest in its part' })
    // the leaf is not trusted, so the files it lists count as unlisted
    expect(first.problems).toContainEqual({ path: target, message: 'the file is not in the snapshot' })
    const partFile = path.join(copy, partPath(leaf.slice(0, 2)))
    const part = JSON.parse(fs.readFileSync(partFile, 'utf8'))
    part.leaves[leaf.slice(2)] = sha256Hex(fs.readFileSync(leafFile))
    fs.writeFileSync(partFile, stableJson(part))
    const second = await verifySnapshot(fromDisk(copy))
    expect(second.problems).toContainEqual({ path: partPath(leaf.slice(0, 2)), message: 'the part does not match its digest in snapshot.json' })
  })

  it('names what every build rewrites in snapshot.json and in no leaf, and catches one of them altered or listed twice', async () => {
    const snapshot = JSON.parse(fs.readFileSync(path.join(out, 'snapshot.json'), 'utf8'))
    expect(Object.keys(snapshot.files)).toEqual([
      '.well-known/wasm-pkg/registry.json',
      'api/v1/feed/0.json',
      'api/v1/feed/head.json',
      'api/v1/package-list/0.json',
      'api/v1/packages.json',
      'api/v1/search-index/index.json',
      'api/v1/stats',
      'cargo/config.json',
      'config.json',
      'health',
    ])
    for (const [file, sha] of Object.entries(snapshot.files)) {
      expect(sha256Hex(fs.readFileSync(path.join(out, file))), file).toBe(sha)
      const leaf = path.join(out, leafPath(leafOf(file)))
      if (fs.existsSync(leaf)) expect(Object.keys(JSON.parse(fs.readFileSync(leaf, 'utf8')).files), file).not.toContain(file)
    }

    const altered = await copyOf(out)
    fs.writeFileSync(path.join(altered, 'api/v1/stats'), '{}')
    expect((await verifySnapshot(fromDisk(altered))).problems).toEqual([{ path: 'api/v1/stats', message: 'the file does not match its digest in the snapshot' }])

    // Signed with the registry's own key, a file named twice: the leaves and snapshot.json would each have a say.
    const twice = await copyOf(out)
    const key = parsePrivateKey(fs.readFileSync(path.join(idx.dir, REGISTRY_KEY_PATH), 'utf8'))
    const record = 'index/registry.json'
    const files = { ...snapshot.files, [record]: sha256Hex(fs.readFileSync(path.join(out, record))) }
    fs.writeFileSync(path.join(twice, 'snapshot.json'), stableJson(signDocument({ ...snapshot, signature: undefined, files }, PAYLOAD_TYPES.snapshot, key)))
    expect((await verifySnapshot(fromDisk(twice))).problems).toEqual([{ path: record, message: `snapshot.json names it, and so does leaf ${leafOf(record)}: a file is listed in one place only` }])
  })

  it('refuses a snapshot signed by a key that is not the registry key, or not signed', async () => {
    const copy = await copyOf(out)
    const snapshot = JSON.parse(fs.readFileSync(path.join(copy, 'snapshot.json'), 'utf8'))
    const forged = signDocument({ ...snapshot, signature: undefined, expires: '2099-01-01T00:00:00Z' }, PAYLOAD_TYPES.snapshot, parsePrivateKey(generateKey().privatePem))
    fs.writeFileSync(path.join(copy, 'snapshot.json'), stableJson(forged))
    const verdict = await verifySnapshot(fromDisk(copy))
    expect(verdict.ok).toBe(false)
    expect(verdict.problems[0]!.message).toMatch(/^the signature does not verify: key [0-9a-f]{16} is not one of the trusted keys/)
    const { signature: _dropped, ...unsigned } = snapshot
    fs.writeFileSync(path.join(copy, 'snapshot.json'), stableJson(unsigned))
    expect((await verifySnapshot(fromDisk(copy))).problems[0]!.message).toBe('the signature does not verify: the document is not signed')
  })

  it('refuses an expired snapshot, and an older one a reader has moved past', async () => {
    const late = await verifySnapshot(fromDisk(out, { now: new Date('2026-04-09T00:00:00Z') }))
    expect(late.problems).toEqual([{ path: 'snapshot.json', message: 'the snapshot expired at 2026-04-08T00:00:00Z' }])
    const head = await resolveCommit(idx.repo, MAIN)
    // The older build is a correctly signed snapshot of an older commit: only a reader that remembers the newer commit can tell.
    const stale = await verifySnapshot(fromDisk(old, { accept: (commit) => commit === head }))
    expect(stale.ok).toBe(false)
    expect(stale.problems).toEqual([{ path: 'snapshot.json', message: expect.stringMatching(/which the reader does not accept \(rolled back\?\)$/) }])
  })
})

describe('concurrent builds of one output', () => {
  it('take turns and leave a tree that verifies', async () => {
    const target = path.join(work, 'concurrent')
    const results = await Promise.all([0, 1, 2].map(() => buildApi({ repo: idx.repo, out: target, baseUrl: 'https://r.example', now: NOW })))
    expect(results.map((r) => r.mode)).toEqual(['full', 'full', 'full'])
    expect((await verifySnapshot(fromDisk(target))).problems).toEqual([])
    expect(fs.readdirSync(path.join(work, '.concurrent.builds')).filter((e) => e !== '.wharf')).toHaveLength(1)
  })
})

describe('the snapshot tree at every depth', () => {
  it('names nodes by nodeLengths, each part at most 256 children, and verifies and resolves every file, for leaves of 3 to 7 digits', async () => {
    expect([3, 4, 5, 6, 7].map(nodeLengths)).toEqual([[2, 3], [2, 4], [2, 3, 5], [2, 4, 6], [2, 3, 5, 7]])
    const key = parsePrivateKey(generateKey().privatePem)
    const trusted = [{ id: key.id, public_key: key.publicKey }]
    const files = new Map(Array.from({ length: 600 }, (_, i): [string, Buffer] => [`api/v1/file-${i}`, Buffer.from(`content ${i}`)]))
    for (const digits of [3, 4, 5, 6, 7]) {
      const tree = new Map<string, Buffer>(files)
      // As a full build groups them for its threads: by the first three hex digits of the path's sha256.
      const groups = new Map<string, string>()
      for (const [file, bytes] of files) {
        const hash = sha256Hex(file)
        groups.set(hash.slice(0, 3), `${groups.get(hash.slice(0, 3)) ?? ''}${hash.slice(0, 8)}\t${file}\t${sha256Hex(bytes)}\n`)
      }
      const write = (file: string, text: string) => {
        tree.set(file, Buffer.from(text))
        return sha256Hex(text)
      }
      const byPart = new Map<string, Map<string, string>>()
      for (const [prefix, lines] of groups) {
        for (const [name, digest] of renderSubtree(prefix, lines, digits, write).digests) byPart.set(name.slice(0, 2), (byPart.get(name.slice(0, 2)) ?? new Map()).set(name.slice(2), digest))
      }
      const parts = Object.fromEntries([...byPart].map(([part, children]) => [part, write(partPath(part), renderPart(part, children))]))
      tree.set('snapshot.json', Buffer.from(renderSnapshot({ registry: 'r', commit: 'c'.repeat(40), now: NOW, ttlSeconds: 3600, parts, fileCount: files.size, leafDigits: digits, key })))
      for (const [file, bytes] of tree) {
        if (!file.startsWith('snapshot/')) continue
        const node = JSON.parse(bytes.toString('utf8')) as { leaf?: string; part?: string; leaves?: Record<string, string> }
        const name = node.leaf ?? node.part!
        expect(nodeLengths(digits), `${digits} digits: ${file}`).toContain(name.length)
        expect(nodePath(name)).toBe(file)
        for (const child of Object.keys(node.leaves ?? {})) expect(name.length + child.length).toBe(childLength(name.length, digits))
        expect(Object.keys(node.leaves ?? {}).length).toBeLessThanOrEqual(256)
      }
      const verdict = await verifySnapshot({ read: async (p) => tree.get(p), list: async () => [...tree.keys()], keys: trusted, now: NOW })
      expect(verdict.problems, `${digits} digits`).toEqual([])
      const index = createSnapshotIndex(JSON.parse(tree.get('snapshot.json')!.toString('utf8')), async (p) => tree.get(p)!)
      for (const [file, bytes] of files) expect(await index.digestOf(file)).toBe(sha256Hex(bytes))
      // A part, signed for, that names a child by the wrong number of digits: the walk goes no further down it.
      const [part, children] = [...byPart][0]!
      const [child, digest] = [...children][0]!
      const odd = new Map([...children].filter(([name]) => name !== child)).set(`${child}0`, digest)
      const signed = { ...parts, [part]: write(partPath(part), renderPart(part, odd)) }
      tree.set('snapshot.json', Buffer.from(renderSnapshot({ registry: 'r', commit: 'c'.repeat(40), now: NOW, ttlSeconds: 3600, parts: signed, fileCount: files.size, leafDigits: digits, key })))
      const refused = await verifySnapshot({ read: async (p) => tree.get(p), keys: trusted, now: NOW })
      expect(refused.problems[0], `${digits} digits`).toEqual({ path: partPath(part), message: `the part names a child "${child}0", not ${child.length} hex digits` })
    }
  })
})

describe('leaves and parts written by hand', () => {
  // Keys a JSON object orders apart: array indices ("0", "7", "42", up to 2^32 - 2) before the rest, which sort as text
  // ("07", "4294967295" and "-1" are text), and paths with characters JSON escapes.
  const key = fc.oneof(
    fc.constantFrom('0', '7', '10', '42', '07', '4294967294', '4294967295', '-1', '1e3', 'api/v1/stats', 'a"b\\c', '\u0001\n', 'é/ß', '\u{1F600}'),
    fc.nat().map(String),
    fc.string({ unit: 'grapheme' }),
    fc.string(),
  )
  const record = fc.array(fc.tuple(key, fc.string()), { maxLength: 40 }).map((entries) => new Map(entries))

  it('lays out a leaf and a part byte for byte as stableJson does', () => {
    fc.assert(
      fc.property(fc.string(), record, (name, entries) => {
        const sorted = Object.fromEntries([...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
        expect(renderLeaf(name, entries)).toBe(stableJson({ schema: 'wharf:snapshot-leaf/v1', leaf: name, files: sorted }))
        expect(renderPart(name, entries)).toBe(stableJson({ schema: 'wharf:snapshot-part/v1', part: name, leaves: sorted }))
      }),
      { numRuns: 500 },
    )
  })
})

describe('replaceDigests', () => {
  const digest = (i: number) => sha256Hex(`child ${i}`)
  // Names a JSON object orders apart ("10".."99", integer-like, come first) as well as plain ones ("00", "0a", "ff").
  const names = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
  const node = new Map(names.map((name, i) => [name, digest(i)]))

  it('writes the bytes renderPart writes of the node with new digests for children it lists', () => {
    const changes = new Map([['00', digest(1000)], ['10', digest(1001)], ['0a', digest(1002)], ['ff', digest(1003)]])
    expect(replaceDigests(Buffer.from(renderPart('ab', node)), changes)).toEqual(Buffer.from(renderPart('ab', new Map([...node, ...changes]))))
  })

  it('leaves a child that comes or goes, or a node laid out otherwise, to be rendered afresh', () => {
    const some = new Map([...node].slice(0, 16))
    const part = Buffer.from(renderPart('ab', node))
    expect(replaceDigests(Buffer.from(renderPart('ab', some)), new Map([['ff', digest(1)]]))).toBeUndefined()
    expect(replaceDigests(part, new Map([['00', null]]))).toBeUndefined()
    expect(replaceDigests(part, new Map([['00', 'short']]))).toBeUndefined()
    expect(replaceDigests(part, new Map([['00', 'X'.repeat(64)]]))).toBeUndefined()
    expect(replaceDigests(Buffer.from(JSON.stringify({ leaves: Object.fromEntries(node) })), new Map([['00', digest(1)]]))).toBeUndefined()
    expect(part).toEqual(Buffer.from(renderPart('ab', node)))
  })
})
