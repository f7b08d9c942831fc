/**
 * The WasmRust registry's REST routes over the same pipeline: crates
 * submitted and listed, a delete that yanks, test runs queued and read back,
 * the registry descriptor read and changed, sync, and the admin token for
 * every write.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { crateArchive } from '../helpers/tar.js'
import { ADD_MODULE } from '../helpers/wasm.js'
import { publish, serveTemp, type TestServer } from './helpers.js'

interface Envelope<T> {
  status: 'success' | 'error'
  data: T
  error: string | null
  pagination: { page: number; page_size: number; total: number; total_pages: number } | null
}

/** Stands in for a `cargo package` output: a well-formed .crate of `name-version/`, but with no Cargo.toml to build. */
const crateBytes = (label: string, name = 'wasm_math', version = '0.1.0') => crateArchive([{ path: `${name}-${version}/README`, content: `crate ${label}\n` }])

describe('WasmRust REST routes', () => {
  let server: TestServer
  let admin: Record<string, string>

  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'crates', token: 'crates-only' }] })
    admin = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }
  })
  afterAll(async () => {
    await server.close()
  })

  const post = (route: string, body: unknown, headers = admin, method = 'POST') => fetch(`${server.url}${route}`, { method, headers, body: JSON.stringify(body) })

  it('submits crates with POST /crates and PUT /crates/{id}, admin token only', async () => {
    const created = await post('/crates', { name: 'wasm_math', version: '0.1.0', description: 'Maths for wasm', license: 'MIT', crate: crateBytes('a').toString('base64') })
    expect(created.status).toBe(201)
    const body = (await created.json()) as Envelope<{ id: string; name: string; version: string; versions: { version: string }[] }>
    expect(body.status).toBe('success')
    expect(body.data).toMatchObject({ id: 'crates:wasm-math', name: 'wasm_math', version: '0.1.0' })

    const next = await post('/crates/wasm_math', { version: '0.2.0', crate: crateBytes('b', 'wasm_math', '0.2.0').toString('base64') }, admin, 'PUT')
    expect(next.status).toBe(200)
    expect(((await next.json()) as Envelope<{ versions: unknown[] }>).data.versions).toHaveLength(2)

    const dup = await post('/crates', { name: 'wasm_math', version: '0.1.0', crate: crateBytes('c').toString('base64') })
    expect(dup.status).toBe(409)
    expect(await dup.json()).toMatchObject({ status: 'error', code: 'VERSION_EXISTS' })
    const notAdmin = await post('/crates', { name: 'other', version: '0.1.0', crate: crateBytes('d', 'other').toString('base64') }, { authorization: 'Bearer crates-only' })
    expect(notAdmin.status).toBe(403)
    const noToken = await post('/crates', { name: 'other', version: '0.1.0', crate: crateBytes('d', 'other').toString('base64') }, {})
    expect(noToken.status).toBe(401)
    const missing = await post('/crates', { name: 'other', version: '0.1.0' })
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ field: 'crate' })
    const notGzip = await post('/crates', { name: 'other', version: '0.1.0', crate: Buffer.from('plain').toString('base64') })
    expect(notGzip.status).toBe(400)
  })

  it('lists and reads crates with the WasmRust envelope and pagination', async () => {
    const list = (await (await fetch(`${server.url}/crates?page=1&page_size=10`)).json()) as Envelope<{ id: string }[]>
    expect(list.status).toBe('success')
    expect(list.data.map((c) => c.id)).toEqual(['crates:wasm-math'])
    expect(list.pagination).toMatchObject({ page: 1, page_size: 10, total: 1, total_pages: 1 })
    const one = (await (await fetch(`${server.url}/crates/wasm_math`)).json()) as Envelope<{ version: string; status: string }>
    expect(one.data).toMatchObject({ version: '0.2.0', status: 'published' })
    const byId = await fetch(`${server.url}/crates/${encodeURIComponent('crates:wasm-math')}`)
    expect(byId.status).toBe(200)
    const unknown = await fetch(`${server.url}/crates/nope`)
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ status: 'error' })
  })

  it('DELETE /crates/{id} yanks (versions are immutable) and leaves a signed notice', async () => {
    const one = await fetch(`${server.url}/crates/wasm_math?version=0.1.0`, { method: 'DELETE', headers: admin })
    expect(one.status).toBe(200)
    expect(((await one.json()) as Envelope<{ versions: { version: string; yanked: boolean }[] }>).data.versions).toEqual(
      expect.arrayContaining([expect.objectContaining({ version: '0.1.0', yanked: true }), expect.objectContaining({ version: '0.2.0', yanked: false })]),
    )
    const all = await fetch(`${server.url}/crates/wasm_math`, { method: 'DELETE', headers: admin })
    expect(((await all.json()) as Envelope<{ status: string }>).data.status).toBe('yanked')
    // Still downloadable for existing lockfiles, and still in the index.
    expect((await fetch(`${server.url}/api/v1/crates/wasm_math/0.1.0/download`)).status).toBe(200)
    const dir = path.join(server.registry.repo.dir, 'index/packages/crates/wasm-math')
    expect(fs.readdirSync(dir).sort()).toEqual(['0.1.0.json', '0.1.0.yank.json', '0.2.0.json', '0.2.0.yank.json'])
    expect((await auditIndex(server.registry.repo)).violations).toEqual([])
  })

  it('queues a test run with POST /tests/{id} and reports it with GET /tests/{id}', async () => {
    expect((await fetch(`${server.url}/tests/wasm_math`)).status).toBe(404)
    const queued = await fetch(`${server.url}/tests/wasm_math`, { method: 'POST', headers: admin })
    expect(queued.status).toBe(202)
    expect(((await queued.json()) as Envelope<{ status: string; version: string }>).data).toMatchObject({ status: 'queued', version: '0.2.0' })
    let job: { status: string; exit_code?: number; error?: string } = { status: 'queued' }
    for (let i = 0; i < 300 && (job.status === 'queued' || job.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100))
      job = ((await (await fetch(`${server.url}/tests/wasm_math`)).json()) as Envelope<typeof job>).data
    }
    // This stand-in .crate unpacks, but holds no Cargo.toml: the run ends as an error that says why, with its exit code.
    expect(job.status).toBe('error')
    expect(job.exit_code).toBe(2)
    expect(job.error).toMatch(/has no Cargo\.toml/)
  }, 60_000)

  it('reads the registry with GET /registry and changes it with PUT /registry as a maintainer commit', async () => {
    const before = (await (await fetch(`${server.url}/registry`)).json()) as Envelope<{ name: string; url: string; policy: { namespaces: { crates: string } } }>
    expect(before.data.url).toBe(server.url)
    expect(before.data.policy.namespaces.crates).toBe('crates')
    const changed = await post('/registry', { description: 'A local wharf' }, admin, 'PUT')
    expect(changed.status).toBe(200)
    const after = (await (await fetch(`${server.url}/registry`)).json()) as Envelope<{ description: string }>
    expect(after.data.description).toBe('A local wharf')
    expect((await post('/registry', { keys: [] }, admin, 'PUT')).status).toBe(400)
    expect((await post('/registry', { description: 'x' }, { authorization: 'Bearer crates-only' }, 'PUT')).status).toBe(403)
    expect((await auditIndex(server.registry.repo)).violations).toEqual([])
  })

  it('answers POST /registry/sync for the admin only, and says so when there is no peer to sync', async () => {
    expect((await fetch(`${server.url}/registry/sync`, { method: 'POST' })).status).toBe(401)
    const res = await fetch(`${server.url}/registry/sync`, { method: 'POST', headers: admin })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { status: string; error: string }
    expect(body.status).toBe('error')
    expect(body.error).toMatch(/no peers/)
  })

  it('runs a test job in a process of its own and keeps its report', async () => {
    expect((await publish(server.url, server.adminToken, { name: 'acme:add', version: '1.0.0', bytes: ADD_MODULE })).status).toBe(201)
    const queued = await fetch(`${server.url}/tests/acme:add`, { method: 'POST', headers: admin })
    expect(queued.status).toBe(202)
    let job: { status: string; exit_code?: number; report?: { schema: string; subject: { kind: string; sha256: string } } } = { status: 'queued' }
    for (let i = 0; i < 600 && (job.status === 'queued' || job.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100))
      job = ((await (await fetch(`${server.url}/tests/acme:add`)).json()) as Envelope<typeof job>).data
    }
    expect(job).toMatchObject({ status: 'passed', exit_code: 0, report: { schema: 'wharf:report/v1', subject: { kind: 'artifact' } } })
  }, 90_000)

  it('answers what no route takes in the envelope of the API that owns the path', async () => {
    // A method the path does not answer: 405, with the methods it does answer.
    const patch = await fetch(`${server.url}/crates/wasm_math`, { method: 'PATCH', headers: admin })
    expect(patch.status).toBe(405)
    expect(patch.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE')
    expect(await patch.json()).toMatchObject({ status: 'error', data: null, code: 'METHOD_NOT_ALLOWED' })
    const getSync = await fetch(`${server.url}/registry/sync`)
    expect(getSync.status).toBe(405)
    expect(getSync.headers.get('allow')).toBe('POST')
    // Cargo's own routes answer in Cargo's shape.
    const postNew = await fetch(`${server.url}/api/v1/crates/new`, { method: 'POST', headers: admin })
    expect(postNew.status).toBe(405)
    expect(await postNew.json()).toMatchObject({ errors: [{ detail: expect.stringMatching(/POST \/api\/v1\/crates\/new is not a route/) }] })
    // No route at all under a WasmRust prefix, and one elsewhere.
    const deep = await fetch(`${server.url}/crates/wasm_math/versions/x`)
    expect(deep.status).toBe(404)
    expect(await deep.json()).toMatchObject({ status: 'error', code: 'NOT_FOUND' })
    const elsewhere = await fetch(`${server.url}/nowhere`)
    expect(elsewhere.status).toBe(404)
    expect(await elsewhere.json()).toEqual({ error: 'nothing at /nowhere', code: 'NOT_FOUND', hint: 'unknown package or version' })
    // A path that does not percent-decode is the client's error, named as such.
    const bad = await fetch(`${server.url}/crates/%E0%A4%A`)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ code: 'INVALID_INPUT', field: 'path' })
  })
})
