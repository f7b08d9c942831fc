/**
 * Federation in `wharf serve`: B is a server (named by REGISTRY_NAME) that
 * delegates A's namespace acme to A (A's build-api output behind nginx),
 * imports it with POST /registry/sync and then serves the imported versions
 * to the Run 2.0 client from its own API and store; REGISTRY_SYNC_INTERVAL
 * brings A's next version by itself, and PUBLIC_KEY keeps the server from
 * starting under another key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { isWharfError } from '../../src/core/errors.js'
import { generateKey } from '../../src/core/keys.js'
import { recordPath } from '../../src/core/layout.js'
import type { RegistryFile, VersionRecord } from '../../src/core/types.js'
import { MAIN, readJsonAt } from '../../src/git/index.js'
import { serveTemp, sha256, type TestServer } from '../serve/helpers.js'
import { orphans, startPeer, type Peer } from './helpers.js'

let a: Peer
let b: TestServer
let admin: Record<string, string>

beforeAll(async () => {
  ;[a, b] = await Promise.all([startPeer(), serveTemp({ name: 'b' })])
  admin = { authorization: `Bearer ${b.adminToken}`, 'content-type': 'application/json' }
}, 120_000)

afterAll(async () => {
  await b?.close()
  await a?.stop()
})

const json = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T
const syncNow = () => fetch(`${b.url}/registry/sync`, { method: 'POST', headers: admin, body: '{}' })

/** What the Run 2.0 client does to install `name@version`: metadata, then the download, checked against its sha256. */
async function runInstall(url: string, name: string, version: string): Promise<{ sha256: string; download_url: string }> {
  const versions = await fetch(`${url}/api/v1/packages/${encodeURIComponent(name)}/versions`)
  expect(versions.status, `${name} versions`).toBe(200)
  expect(((await versions.json()) as { versions: string[] }).versions).toContain(version)
  const meta = await json<Record<string, unknown>>(fetch(`${url}/api/v1/packages/${encodeURIComponent(name)}/${version}`))
  expect(meta).toMatchObject({ name, version, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), download_url: expect.stringMatching(/^http:\/\//) })
  expect(Number.isInteger(meta.size) && Number.isInteger(meta.published_at)).toBe(true)
  const download = await fetch(String(meta.download_url))
  expect(download.status, String(meta.download_url)).toBe(200)
  const bytes = Buffer.from(await download.arrayBuffer())
  expect(sha256(bytes)).toBe(meta.sha256)
  return { sha256: meta.sha256 as string, download_url: String(meta.download_url) }
}

describe('wharf serve as a federation peer', () => {
  /** The sha256 of the primary artifact A published for `name@version`. */
  const publishedAtA = async (name: string, version: string) => (await readJsonAt<VersionRecord>(a.idx.repo, MAIN, recordPath(name, version)))!.artifacts[0]!.sha256

  it('names a new registry from REGISTRY_NAME, shown in config.json', async () => {
    const config = await json<{ name: string; peers: unknown[] }>(fetch(`${b.url}/config.json`))
    expect(config.name).toBe('b')
    expect(config.peers).toEqual([])
  })

  it('imports the delegated namespace on POST /registry/sync (admin only) and serves it to the Run 2.0 client', async () => {
    const [key] = (await json<{ keys: RegistryFile['keys'] }>(fetch(`${a.url}/config.json`))).keys
    const peer = { name: 'a', url: a.url, namespaces: ['acme'], key: { id: key!.id, public_key: key!.public_key } }
    const put = await fetch(`${b.url}/registry`, { method: 'PUT', headers: admin, body: JSON.stringify({ peers: [peer] }) })
    expect(put.status, await put.clone().text()).toBe(200)

    expect((await fetch(`${b.url}/registry/sync`, { method: 'POST' })).status).toBe(401)
    const res = await syncNow()
    const body = await json<{ status: string; data: { added: { name: string; version: string }[]; ignored: number; peers: { commit?: string }[] } }>(res)
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body.status).toBe('success')
    expect(body.data.added.map((e) => `${e.name}@${e.version}`)).toEqual(['acme:calc@1.0.0', 'acme:app@1.0.0'])
    expect(body.data.ignored).toBe(2)
    expect(body.data.peers[0]!.commit).toMatch(/^[0-9a-f]{40}$/)

    for (const name of ['acme:calc', 'acme:app']) {
      const got = await runInstall(b.url, name, '1.0.0')
      expect(got.sha256).toBe(await publishedAtA(name, '1.0.0'))
      expect(got.download_url.startsWith(b.url), got.download_url).toBe(true)
    }
    // Other namespaces of A were not taken.
    expect((await fetch(`${b.url}/api/v1/packages/${encodeURIComponent('other:lib')}/versions`)).status).toBe(404)
    expect((await auditIndex(b.registry.repo)).violations).toEqual([])
    expect(await orphans(b.registry.repo)).toEqual([])
  })

  it('syncs by itself every REGISTRY_SYNC_INTERVAL, and refuses to start when PUBLIC_KEY is not its key', async () => {
    const dataDir = b.dataDir
    const config = await json<{ keys: { id: string; public_key: string }[] }>(fetch(`${b.url}/config.json`))
    await b.close()
    const other = generateKey()
    const refused = await serveTemp({ dataDir, publicKey: other.publicKey }).then(
      (s) => s.close().then(() => undefined),
      (e: unknown) => e,
    )
    expect(isWharfError(refused) && refused.code).toBe('BAD_KEY')
    expect((refused as Error).message).toMatch(new RegExp(`is ${config.keys[0]!.id} .*not the PUBLIC_KEY ${other.id}`))

    b = await serveTemp({ dataDir, publicKey: config.keys[0]!.public_key, syncIntervalMs: 500 })
    admin = { authorization: `Bearer ${b.adminToken}`, 'content-type': 'application/json' }
    await a.release('acme:calc', '1.1.0')
    // The timer's run logs one line per peer once its import is merged and built.
    const synced = () => b.logs.some((l) => /^sync a feed 4\.\.5: 1 added, 0 skipped, 0 conflicts, \d+ ignored, commit [0-9a-f]{12}$/.test(l))
    const deadline = Date.now() + 30_000
    while (!synced() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(synced(), b.logs.join('\n')).toBe(true)
    // A timer that finds nothing new stays quiet.
    expect(b.logs.filter((l) => l.startsWith('sync a ')), b.logs.join('\n')).toHaveLength(1)
    expect((await runInstall(b.url, 'acme:calc', '1.1.0')).sha256).toBe(await publishedAtA('acme:calc', '1.1.0'))
  })

  it('keeps serving the mirror from its own store when A is gone, and answers a sync with a clear error that changes nothing', async () => {
    await a.nginx.stop()
    for (const [name, version] of [['acme:calc', '1.0.0'], ['acme:calc', '1.1.0'], ['acme:app', '1.0.0']] as const) {
      expect((await runInstall(b.url, name, version)).sha256).toBe(await publishedAtA(name, version))
    }
    const count = async () => (await json<{ data: { version_count: number } }>(fetch(`${b.url}/registry`))).data.version_count
    const before = await count()
    const res = await syncNow()
    const body = await json<{ status: string; error: string; data: { added: unknown[]; failed: { peer: string; code: string }[] } }>(res)
    expect(res.status, JSON.stringify(body)).toBe(502)
    expect(body.status).toBe('error')
    expect(body.error).toMatch(/peer "a" \(http:\/\/127\.0\.0\.1:\d+\): cannot reach/)
    // The whole report comes with it: what other peers imported, and each failure.
    expect(body.data).toMatchObject({ added: [], failed: [{ peer: 'a', code: 'UNREACHABLE' }] })
    expect(await count()).toBe(before)
    expect((await auditIndex(b.registry.repo)).violations).toEqual([])
    expect(await orphans(b.registry.repo)).toEqual([])
  })
})
