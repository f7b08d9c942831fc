/**
 * The built API behind nginx (`try_files $uri`, nothing else), read the way
 * the Run 2.0 client reads a registry: percent-encoded names, JSON integers,
 * the download hashing to its sha256; plus the signed snapshot checked over
 * HTTP, a tampered file caught, and the incremental build seen by readers.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi, verifySnapshot } from '../../src/api/index.js'
import { MAIN, resolveCommit } from '../../src/git/index.js'
import { mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import { componentWith } from '../fixtures/api/component.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

let idx: TestIndex
let nginx: Nginx
let out: string
let built: string
const calculator = componentWith(['wasi:cli/environment@0.2.0', 'wasi:io/streams@0.2.0'], ['run:calc/calculate@0.1.0'])

const get = (p: string) => fetch(`${nginx.url}${p}`)
async function json(p: string): Promise<Record<string, unknown>> {
  const res = await get(p)
  expect(res.status, `${p}: ${nginx.errors()}`).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

/** What the Run 2.0 client requires of a package answer: names, strings, and integers that are JSON integers. */
function expectRunPackage(p: Record<string, unknown>): void {
  for (const field of ['name', 'version', 'description', 'sha256', 'download_url']) expect(typeof p[field], field).toBe('string')
  expect(Number.isInteger(p.size)).toBe(true)
  expect(Number.isInteger(p.published_at)).toBe(true)
  expect(p.sha256).toMatch(/^[0-9a-f]{64}$/)
  expect((p.targets as unknown[]).every((t) => typeof t === 'string')).toBe(true)
  for (const d of p.dependencies as Record<string, unknown>[]) {
    expect(typeof d.name).toBe('string')
    expect(typeof d.version).toBe('string')
    expect(typeof d.optional).toBe('boolean')
  }
  for (const optional of ['license', 'wit_url', 'repository']) if (p[optional] !== undefined) expect(typeof p[optional]).toBe('string')
}

beforeAll(async () => {
  idx = await createTestIndex()
  const claim = await proposeNamespace(idx.repo, { namespace: 'run', owners: [{ login: 'alice' }], publicKey: idx.key.publicPem, author: 'alice' })
  expect((await mergeProposal(idx.repo, { branch: claim.branch, author: { login: 'alice' } })).merged).toBe(true)
  await idx.release({ name: 'acme:calc', version: '1.0.0' })
  await idx.release({
    name: 'run:calc/calculator',
    version: '0.1.0',
    bytes: calculator,
    description: 'A calculator',
    repository: 'https://example.com/calc',
    dependencies: [{ name: 'acme:calc', req: '^1.0.0', optional: false }],
  })
  out = path.join(await tempDir('wharf-api-host-'), 'public')
  nginx = await startNginx(out)
  await buildApi({ repo: idx.repo, out, baseUrl: nginx.url })
  built = await resolveCommit(idx.repo, MAIN)
})

afterAll(async () => {
  await nginx?.stop()
})

describe('the Run 2.0 client against the static output', () => {
  it('gets 2xx from /health', async () => {
    expect((await get('/health')).status).toBe(200)
  })

  it('lists versions for a percent-encoded name', async () => {
    const res = await get('/api/v1/packages/run%3Acalc%2Fcalculator/versions')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toMatchObject({ name: 'run:calc/calculator', versions: ['0.1.0'] })
  })

  it('reads metadata whose integers are JSON integers, and the download hashes to sha256', async () => {
    const res = await get('/api/v1/packages/run%3Acalc%2Fcalculator/0.1.0')
    const text = await res.text()
    expect(text).toMatch(/"size": \d+,/)
    expect(text).toMatch(/"published_at": \d+,/)
    const meta = JSON.parse(text) as Record<string, unknown>
    expectRunPackage(meta)
    expect(meta).toMatchObject({
      name: 'run:calc/calculator',
      version: '0.1.0',
      description: 'A calculator',
      license: 'MIT',
      size: calculator.length,
      repository: 'https://example.com/calc',
      dependencies: [{ name: 'acme:calc', version: '^1.0.0', optional: false }],
      targets: ['wasm32-wasip2'],
      wit: { imports: ['wasi:cli/environment@0.2.0', 'wasi:io/streams@0.2.0'], exports: ['run:calc/calculate@0.1.0'] },
    })
    expect(meta.download_url).toMatch(new RegExp(`^${nginx.url}/`))
    const download = await fetch(meta.download_url as string)
    expect(download.status).toBe(200)
    const bytes = Buffer.from(await download.arrayBuffer())
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(meta.sha256)
  })

  it('reads stats with integer counts', async () => {
    const stats = await json('/api/v1/stats')
    expect(stats).toMatchObject({ package_count: 2, version_count: 2, download_count: 0, uptime_percent: 100 })
    for (const field of ['package_count', 'version_count', 'download_count']) expect(Number.isInteger(stats[field])).toBe(true)
    expect(typeof stats.uptime_percent).toBe('number')
  })

  it('gets 404 for an unknown package or version', async () => {
    expect((await get('/api/v1/packages/run%3Anope/versions')).status).toBe(404)
    expect((await get('/api/v1/packages/run%3Acalc%2Fcalculator/9.9.9')).status).toBe(404)
  })
})

describe('beyond the Run routes', () => {
  it('describes the registry, for wkg-style discovery too', async () => {
    const config = await json('/config.json')
    expect(config).toMatchObject({ schema: 'wharf:config/v1', base_url: nginx.url, api: `${nginx.url}/api/v1`, cargo: `sparse+${nginx.url}/cargo/`, commit: built })
    expect((config.keys as unknown[]).length).toBe(1)
    expect(await json('/.well-known/wasm-pkg/registry.json')).toMatchObject({ preferredProtocol: 'wharf', wharf: { api: `${nginx.url}/api/v1` } })
    expect(await json('/cargo/config.json')).toEqual({ dl: `${nginx.url}/artifacts/sha256/{sha256-checksum}`, api: nginx.url })
  })

  it('serves namespace documents with keys, the signed records, and the search index with interface names', async () => {
    const ns = await json('/api/v1/namespaces/run')
    expect(ns).toMatchObject({ namespace: 'run', packages: ['run:calc/calculator'], keys: [{ public_key: idx.key.publicKey }] })
    const record = await json('/index/packages/run/calc/calculator/0.1.0.json')
    expect(record).toMatchObject({ schema: 'wharf:record/v1', name: 'run:calc/calculator', signature: { payloadType: 'application/vnd.wharf.record.v1+json' } })
    const top = await json('/api/v1/search-index/index.json')
    const shards = await Promise.all((top.shards as { url: string }[]).map(async (s) => (await (await fetch(s.url)).json()) as { packages: Record<string, unknown>[] }))
    const entries = shards.flatMap((s) => s.packages)
    expect(entries.map((e) => e.name).sort()).toEqual(['acme:calc', 'run:calc/calculator'])
    expect(entries.find((e) => e.name === 'run:calc/calculator')).toMatchObject({ latest: '0.1.0', exports: ['run:calc/calculate@0.1.0'], imports: ['wasi:cli/environment@0.2.0', 'wasi:io/streams@0.2.0'] })
  })

  it('verifies the snapshot over HTTP, and catches a tampered file', async () => {
    const keys = (await json('/config.json')).keys as { id: string; public_key: string }[]
    const read = async (p: string) => {
      const res = await get(`/${p}`)
      return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : undefined
    }
    const good = await verifySnapshot({ read, keys })
    expect(good.problems).toEqual([])
    expect(good).toMatchObject({ ok: true, commit: built })
    expect(good.files).toBeGreaterThan(20)

    const file = path.join(out, 'api/v1/packages/acme:calc/1.0.0')
    const original = fs.readFileSync(file)
    fs.writeFileSync(file, original.toString().replace('"size": ', '"size": 1'))
    try {
      const bad = await verifySnapshot({ read, keys })
      expect(bad.ok).toBe(false)
      expect(bad.problems).toEqual([{ path: 'api/v1/packages/acme:calc/1.0.0', message: 'the file does not match its digest in the snapshot' }])
    } finally {
      fs.writeFileSync(file, original)
    }
  })

  it('shows readers the new version after an incremental build, with the feed advanced', async () => {
    await idx.release({ name: 'run:calc/calculator', version: '0.2.0', bytes: componentWith([], ['run:calc/calculate@0.2.0']) })
    const result = await buildApi({ repo: idx.repo, out, baseUrl: nginx.url, since: built })
    expect(result).toMatchObject({ mode: 'incremental', events: 1, seq: 3 })
    expect(await json('/api/v1/packages/run%3Acalc%2Fcalculator/versions')).toMatchObject({ versions: ['0.1.0', '0.2.0'], latest: '0.2.0' })
    const head = await json('/api/v1/feed/head.json')
    expect(head).toMatchObject({ seq: 3, pages: 1 })
    const page = await json('/api/v1/feed/0.json')
    expect((page.entries as { seq: number; name: string; version: string }[]).map((e) => `${e.seq}:${e.name}@${e.version}`)).toEqual(['1:acme:calc@1.0.0', '2:run:calc/calculator@0.1.0', '3:run:calc/calculator@0.2.0'])
    const keys = (await json('/config.json')).keys as { id: string; public_key: string }[]
    const verdict = await verifySnapshot({ read: async (p) => { const r = await get(`/${p}`); return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : undefined }, keys })
    expect(verdict).toMatchObject({ ok: true, commit: await resolveCommit(idx.repo, MAIN) })
  })
})
