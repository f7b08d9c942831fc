/**
 * What a large registry does to the documents that are cut by size, reached
 * on a small index by shrinking the sizes: a search shard that outgrows its
 * size splits in sixteen (and again below), the package list fills page
 * after page, and the snapshot's tree grows a level when its leaves fill up. Incremental builds across each of these
 * write the bytes a full build writes, the snapshot verifies, and every
 * shard and tree node has its schema.
 */
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi, leafDigitsOf, leafOf, leafPath, nodePath, type BuildApiOptions, type Snapshot, verifySnapshot } from '../../src/api/index.js'
import { createSnapshotIndex } from '../../src/client/index.js'
import { locateShard, planShards, shardItem } from '../../src/api/search.js'
import { sha256Hex } from '../../src/core/hash.js'
import { schemaErrors } from '../../src/core/schemas.js'
import { MAIN, resolveCommit } from '../../src/git/index.js'
import { appendSynthetic, createSyntheticIndex } from '../fixtures/api/synthetic.js'
import { readJson, readTree, treeDifferences } from '../fixtures/api/tree.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'
import fc from 'fast-check'

const NOW = new Date('2026-05-01T00:00:00Z')
const BASE = 'http://127.0.0.1:9'

/** Package names whose ids' sha256 share the first hex digit, the first `pairs` of them the second one too. */
function collidingNames(count: number): string[] {
  const byDigits = new Map<string, string[]>()
  for (let i = 0; ; i++) {
    const name = `acme:p${i}`
    const hash = sha256Hex(name)
    const key = hash.slice(0, 2)
    byDigits.set(key, [...(byDigits.get(key) ?? []), name])
    const two = byDigits.get(key)!
    if (two.length >= 2) {
      const rest = [...byDigits].filter(([k]) => k[0] === key[0] && k !== key).flatMap(([, names]) => names)
      if (rest.length >= count - 2) return [...two.slice(0, 2), ...rest.slice(0, count - 2)]
    }
  }
}

describe('search shards', () => {
  it('planned at once equal shards grown one package at a time', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (names, max) => {
        // Each package comes in its own commit, in order; the incremental way keeps only what the output holds.
        const shards = new Map<string, { ids: string[]; commit: number }>()
        names.forEach((id, commit) => {
          const item = shardItem(id, commit, commit)
          const shard = locateShard(item.hash, new Set(shards.keys()))
          const previous = shards.get(shard)
          const items = [...(previous?.ids ?? []).map((old) => shardItem(old, -1, -1)), item]
          const plan = planShards(shard, items, -1, max)
          shards.delete(shard)
          for (const [name, { items: members, commit: at }] of plan) shards.set(name, { ids: members.map((m) => m.id).sort(), commit: at })
        })
        const full = planShards('', names.map((id, commit) => shardItem(id, commit, commit)), -1, max)
        expect(new Map([...full].map(([name, { items, commit }]) => [name, { ids: items.map((i) => i.id).sort(), commit }]))).toEqual(shards)
        for (const { items } of full.values()) expect(items.length).toBeLessThanOrEqual(max)
      }),
      { numRuns: 300 },
    )
  })
})

describe('a registry that outgrows its shard and leaf sizes', () => {
  let idx: TestIndex
  let work: string
  let out: string
  let built: string
  let sizes: BuildApiOptions['sizes']

  beforeAll(async () => {
    work = await tempDir('wharf-api-growth-')
    idx = await createTestIndex()
    await idx.release({ name: 'acme:calc', version: '1.0.0' })
    // A leaf size at which this index has three-digit leaves, and a few more files make four.
    const probe = path.join(work, 'probe')
    await buildApi({ repo: idx.repo, out: probe, baseUrl: BASE, now: NOW })
    const files = readJson<{ file_count: number }>(probe, 'snapshot.json').file_count
    sizes = { searchShard: 1, snapshotLeaf: (files + 4) / 4096, packageListPage: 2 }
    out = path.join(work, 'public')
    const first = await buildApi({ repo: idx.repo, out, baseUrl: BASE, now: NOW, sizes })
    expect(first.mode).toBe('full')
    expect(readJson(out, 'snapshot.json').leaf_digits).toBeUndefined()
    built = await resolveCommit(idx.repo, MAIN)
  })

  async function step(name: string): Promise<Map<string, Buffer>> {
    await idx.release({ name, version: '1.0.0' })
    const inc = await buildApi({ repo: idx.repo, out, baseUrl: BASE, now: NOW, since: built, sizes })
    expect(inc.mode, inc.reason).toBe('incremental')
    const full = path.join(work, `full-${name.replace(':', '-')}`)
    await buildApi({ repo: idx.repo, out: full, baseUrl: BASE, now: NOW, sizes })
    expect(treeDifferences(readTree(out), readTree(full))).toEqual([])
    built = await resolveCommit(idx.repo, MAIN)
    const keys = readJson<{ keys: { id: string; public_key: string }[] }>(out, 'config.json').keys
    const verdict = await verifySnapshot({ read: async (p) => fs.promises.readFile(path.join(out, p)).catch(() => undefined), list: async () => [...readTree(out).keys()], keys, now: NOW })
    expect(verdict.problems).toEqual([])
    const tree = readTree(out)
    const problems: string[] = []
    for (const [file, bytes] of tree) {
      const schema = file.startsWith('api/v1/search-index/')
        ? file.endsWith('index.json')
          ? 'api-search-index'
          : 'api-search-shard'
        : file === 'snapshot.json'
          ? 'snapshot'
          : file === 'api/v1/packages.json'
            ? 'api-packages'
            : file.startsWith('api/v1/package-list/')
              ? 'api-package-list-page'
              : undefined
      const node = file.startsWith('snapshot/') ? JSON.parse(bytes.toString('utf8')) : undefined
      const name = schema ?? (node?.schema === 'wharf:snapshot-leaf/v1' ? 'snapshot-leaf' : node ? 'snapshot-part' : undefined)
      if (name) problems.push(...schemaErrors(name as never, JSON.parse(bytes.toString('utf8'))).map((p) => `${file}: ${p}`))
    }
    expect(problems).toEqual([])
    return tree
  }

  it('splits a search shard in sixteen, and again below, as packages come', async () => {
    const names = collidingNames(4)
    for (const name of names) await step(name)
    const top = readJson<{ shards: { shard: string; packages: number }[] }>(out, 'api/v1/search-index/index.json')
    const digit = sha256Hex(names[0]!)[0]!
    const deep = top.shards.filter((s) => s.shard.startsWith(digit))
    // The region of the shared digit was split, and the two that share two digits split again.
    expect(deep.every((s) => s.shard.length >= 2)).toBe(true)
    expect(deep.some((s) => s.shard.length >= 3)).toBe(true)
    expect(top.shards.every((s) => s.packages === 1)).toBe(true)
    for (const name of names) {
      const shard = top.shards.find((s) => sha256Hex(name).startsWith(s.shard))!
      expect(readJson<{ packages: { name: string }[] }>(out, `api/v1/search-index/${shard.shard}.json`).packages.map((p) => p.name)).toEqual([name])
    }
    expect(fs.existsSync(path.join(out, `api/v1/search-index/${digit}.json`))).toBe(false)
  })

  it('pages the package list in the order packages came, each new one going on the end', () => {
    const head = readJson<{ total: number; pages: number; page_size: number }>(out, 'api/v1/packages.json')
    // acme:calc, then the four colliding names, one commit each
    expect(head).toMatchObject({ total: 5, pages: 3, page_size: 2 })
    const pages = [0, 1, 2].map((page) => readJson<{ first: number; packages: string[] }>(out, `api/v1/package-list/${page}.json`))
    expect(pages.map((p) => p.first)).toEqual([0, 2, 4])
    expect(pages.flatMap((p) => p.packages)).toEqual(['acme:calc', ...collidingNames(4)])
    expect(fs.existsSync(path.join(out, 'api/v1/package-list/3.json'))).toBe(false)
  })

  it('deepens the snapshot\'s leaves when they fill up, a part naming its 256 leaves, which a client walks down to every file', async () => {
    const snapshot = readJson<Snapshot>(out, 'snapshot.json')
    expect(snapshot.leaf_digits).toBe(4)
    const part = Object.keys(snapshot.parts)[0]!
    const node = readJson<{ schema: string; leaves: Record<string, string> }>(out, `snapshot/${part}.json`)
    const child = Object.keys(node.leaves)[0]!
    expect(child).toMatch(/^[0-9a-f]{2}$/)
    expect(readJson<{ schema: string }>(out, nodePath(`${part}${child}`)).schema).toBe('wharf:snapshot-leaf/v1')
    const read = async (file: string, sha256: string) => {
      const bytes = fs.readFileSync(path.join(out, file))
      expect(sha256Hex(bytes), file).toBe(sha256)
      return bytes
    }
    const index = createSnapshotIndex(snapshot, read)
    const files = [...readTree(out)].filter(([f]) => !f.startsWith('snapshot') && !f.startsWith('.wharf/'))
    expect(files.length).toBe(snapshot.file_count)
    for (const [file, bytes] of files) expect(await index.digestOf(file), file).toBe(sha256Hex(bytes))
    expect(await index.digestOf('api/v1/packages/acme:nothing/versions')).toBeUndefined()
  })
})

describe('an incremental build that fills a feed page and starts the next', () => {
  it('moves the full page from snapshot.json to its leaf, and writes the bytes a full build writes', async () => {
    const work = await tempDir('wharf-api-feed-page-')
    // 975 versions and 10 yanks: 985 events, then 1,000 (the page full, still the last), then 1,005: page 0 is not
    // written by the build that starts page 1, only moved from snapshot.json to its leaf.
    const index = await createSyntheticIndex(975, work)
    const out = path.join(work, 'public')
    await buildApi({ repo: index.repo, out, baseUrl: BASE, now: NOW })
    const seqs: number[] = []
    for (const [from, to] of [
      [975, 990],
      [990, 995],
    ] as const) {
      const since = await resolveCommit(index.repo, MAIN)
      await appendSynthetic(index.dir, from, to)
      const inc = await buildApi({ repo: index.repo, out, baseUrl: BASE, now: NOW, since })
      expect(inc.mode, inc.reason).toBe('incremental')
      seqs.push(inc.seq)
    }
    expect(seqs).toEqual([1000, 1005])
    // The full build renders the feed as its tasks finish (two here: the packages come in groups of 64), on this
    // thread in order and on two threads in any order: an event waits for the task that reads its package.
    for (const threads of [0, 2]) {
      const full = path.join(work, `full-${threads}`)
      await buildApi({ repo: index.repo, out: full, baseUrl: BASE, now: NOW, threads })
      expect(treeDifferences(readTree(out), readTree(full))).toEqual([])
    }

    const snapshot = readJson<Snapshot>(out, 'snapshot.json')
    expect(Object.keys(snapshot.files!)).toContain('api/v1/feed/1.json')
    expect(Object.keys(snapshot.files!)).not.toContain('api/v1/feed/0.json')
    const leaf = readJson<{ files: Record<string, string> }>(out, leafPath(leafOf('api/v1/feed/0.json', leafDigitsOf(snapshot)))).files
    expect(leaf['api/v1/feed/0.json']).toBe(sha256Hex(fs.readFileSync(path.join(out, 'api/v1/feed/0.json'))))
    const keys = readJson<{ keys: { id: string; public_key: string }[] }>(out, 'config.json').keys
    const verdict = await verifySnapshot({ read: async (p) => fs.promises.readFile(path.join(out, p)).catch(() => undefined), list: async () => [...readTree(out).keys()], keys, now: NOW })
    expect(verdict.problems).toEqual([])
  })
})

describe('deep snapshot trees', () => {
  it('with leaves of five digits (a level of one below the parts, then one of two) and of six, an incremental build writes what a full build writes', async () => {
    const work = await tempDir('wharf-api-deep-')
    const idx = await createTestIndex()
    await idx.release({ name: 'acme:calc', version: '1.0.0' })
    const probe = path.join(work, 'probe')
    await buildApi({ repo: idx.repo, out: probe, baseUrl: BASE, now: NOW })
    const files = readJson<{ file_count: number }>(probe, 'snapshot.json').file_count
    for (const digits of [5, 6]) {
      // Leaves that hold this index at `digits` digits, and the next version too.
      const sizes = { snapshotLeaf: files / 16 ** (digits - 1) / 1.5 }
      const out = path.join(work, `public-${digits}`)
      await buildApi({ repo: idx.repo, out, baseUrl: BASE, now: NOW, sizes })
      const since = await resolveCommit(idx.repo, MAIN)
      await idx.release({ name: `acme:deep${digits}`, version: '1.0.0' })
      const inc = await buildApi({ repo: idx.repo, out, baseUrl: BASE, now: NOW, since, sizes })
      expect(inc.mode, inc.reason).toBe('incremental')
      const full = path.join(work, `full-${digits}`)
      await buildApi({ repo: idx.repo, out: full, baseUrl: BASE, now: NOW, sizes })
      expect(readJson<Snapshot>(out, 'snapshot.json').leaf_digits).toBe(digits)
      expect(treeDifferences(readTree(out), readTree(full))).toEqual([])
      const keys = readJson<{ keys: { id: string; public_key: string }[] }>(out, 'config.json').keys
      const verdict = await verifySnapshot({ read: async (p) => fs.promises.readFile(path.join(out, p)).catch(() => undefined), list: async () => [...readTree(out).keys()], keys, now: NOW })
      expect(verdict.problems).toEqual([])
    }
  })
})
