/**
 * The Run 2.0 client's requests, byte for byte as its registry client sends
 * them (URL-encoded names, multipart fields, bearer token), against a real
 * server: every status code of DESIGN §7 and the type of every field.
 */
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { component } from '../helpers/wasm.js'
import { publish, serveTemp, sha256, type TestServer } from './helpers.js'

/** Field types the Run client parses; an integer must be a JSON integer. */
export function expectPackageShape(p: Record<string, unknown>): void {
  expect(typeof p.name).toBe('string')
  expect(typeof p.version).toBe('string')
  expect(typeof p.description).toBe('string')
  expect(Number.isInteger(p.size)).toBe(true)
  expect(p.sha256).toMatch(/^[0-9a-f]{64}$/)
  expect(typeof p.download_url).toBe('string')
  expect(Number.isInteger(p.published_at)).toBe(true)
  expect(Array.isArray(p.targets) && (p.targets as unknown[]).every((t) => typeof t === 'string')).toBe(true)
  expect(Array.isArray(p.dependencies)).toBe(true)
  for (const d of p.dependencies as Record<string, unknown>[]) {
    expect(typeof d.name).toBe('string')
    expect(typeof d.version).toBe('string')
    expect(typeof d.optional).toBe('boolean')
  }
  for (const optional of ['license', 'wit_url', 'repository']) if (p[optional] !== undefined) expect(typeof p[optional]).toBe('string')
}

describe('Run 2.0 client against wharf serve', () => {
  let server: TestServer
  const runToken = 'run-token-1'
  const acmeToken = 'acme-token-2'
  const bytes = component('calculator')

  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'run', token: runToken }, { namespace: 'acme', token: acmeToken }] })
  })
  afterAll(async () => {
    await server.close()
  })

  it('answers /health with 2xx', async () => {
    const res = await fetch(`${server.url}/health`)
    expect(res.status).toBe(200)
  })

  it('serves /health and /cargo/config.json as generated, the bytes the signed snapshot lists', async () => {
    for (const file of ['health', 'cargo/config.json']) {
      const served = Buffer.from(await (await fetch(`${server.url}/${file}`)).arrayBuffer())
      expect(served.equals(fs.readFileSync(path.join(server.registry.layout.public, file))), file).toBe(true)
    }
    expect(await (await fetch(`${server.url}/health`)).json()).toMatchObject({ status: 'ok', commit: expect.stringMatching(/^[0-9a-f]{40}$/) })
  })

  it('publishes with 201 and answers with the package', async () => {
    const res = await publish(server.url, runToken, {
      name: 'run:calc/calculator',
      version: '0.1.0',
      description: 'A calculator',
      bytes,
      extra: {
        license: 'MIT',
        repository: 'https://example.com/calc',
        wit_url: 'https://example.com/calc.wit',
        targets: '["wasm32-wasip2"]',
        dependencies: '[]',
      },
    })
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, unknown>
    expectPackageShape(body)
    expect(body).toMatchObject({ name: 'run:calc/calculator', version: '0.1.0', sha256: sha256(bytes), size: bytes.length, license: 'MIT', wit_url: 'https://example.com/calc.wit' })
  })

  it('lists versions and serves metadata for URL-encoded names, 404 for unknown ones', async () => {
    const versions = await fetch(`${server.url}/api/v1/packages/run%3Acalc%2Fcalculator/versions`)
    expect(versions.status).toBe(200)
    expect(versions.headers.get('content-type')).toMatch(/^application\/json/)
    const list = (await versions.json()) as { name: unknown; versions: unknown }
    expect(list.name).toBe('run:calc/calculator')
    expect(list.versions).toEqual(['0.1.0'])
    const meta = await fetch(`${server.url}/api/v1/packages/run%3Acalc%2Fcalculator/0.1.0`)
    expect(meta.status).toBe(200)
    const body = (await meta.json()) as Record<string, unknown>
    expectPackageShape(body)
    expect(body).toMatchObject({ name: 'run:calc/calculator', version: '0.1.0', sha256: sha256(bytes), size: bytes.length, description: 'A calculator' })
    // The download URL the metadata names serves the same bytes.
    const download = await fetch(String(body.download_url))
    expect(download.status).toBe(200)
    expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(body.sha256)
    expect((await fetch(`${server.url}/api/v1/packages/run%3Anope/versions`)).status).toBe(404)
    expect((await fetch(`${server.url}/api/v1/packages/run%3Acalc%2Fcalculator/9.9.9`)).status).toBe(404)
  })

  it('serves the generated files with ETag, If-None-Match and gzip', async () => {
    const target = `${server.url}/api/v1/packages/run%3Acalc%2Fcalculator/0.1.0`
    const first = await fetch(target, { headers: { 'accept-encoding': 'gzip' } })
    const etag = first.headers.get('etag')
    expect(etag).toMatch(/^"[^"]+"$/)
    expect(first.headers.get('content-encoding')).toBe('gzip')
    expect(first.headers.get('vary')).toBe('Accept-Encoding')
    await first.arrayBuffer()
    const again = await fetch(target, { headers: { 'if-none-match': etag! } })
    expect(again.status).toBe(304)
    const plain = await new Promise<{ encoding: string | undefined; length: string | undefined }>((resolve, reject) => {
      http.get(target, (res) => {
        res.resume()
        resolve({ encoding: res.headers['content-encoding'], length: res.headers['content-length'] })
      }).on('error', reject)
    })
    expect(plain.encoding).toBeUndefined()
    expect(Number(plain.length)).toBeGreaterThan(0)
  })

  it('accepts the file as "artifact" too, and dependencies on published packages', async () => {
    const res = await publish(server.url, runToken, {
      name: 'run:calc/ui',
      version: '1.0.0',
      fileField: 'artifact',
      extra: { dependencies: JSON.stringify([{ name: 'run:calc/calculator', version: '^0.1.0', optional: false }]) },
    })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { dependencies: unknown }
    expect(body.dependencies).toEqual([{ name: 'run:calc/calculator', version: '^0.1.0', optional: false }])
  })

  it('refuses a republish of the same version with 409', async () => {
    const res = await publish(server.url, runToken, { name: 'run:calc/calculator', version: '0.1.0', bytes: component('other') })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ code: 'VERSION_EXISTS', field: 'version' })
  })

  it('refuses a missing or wrong token with 401 and another namespace with 403', async () => {
    const none = await publish(server.url, undefined, { name: 'run:calc/x', version: '0.1.0' })
    expect(none.status).toBe(401)
    const wrong = await publish(server.url, 'not-a-token', { name: 'run:calc/x', version: '0.1.0' })
    expect(wrong.status).toBe(401)
    const other = await publish(server.url, acmeToken, { name: 'run:calc/x', version: '0.1.0' })
    expect(other.status).toBe(403)
    expect(await other.json()).toMatchObject({ code: 'FORBIDDEN' })
  })

  it('lets the admin token publish in any namespace, creating it', async () => {
    const res = await publish(server.url, server.adminToken, { name: 'tools:fmt', version: '2.0.0' })
    expect(res.status).toBe(201)
  })

  it('refuses bad fields with 400 naming the field', async () => {
    const cases: [Parameters<typeof publish>[2], string][] = [
      [{ name: 'Run:Calc', version: '0.1.0' }, 'name'],
      [{ name: 'run:calc/y', version: 'latest' }, 'version'],
      [{ name: 'run:calc/y', version: '0.1.0', sha256: '0'.repeat(64) }, 'sha256'],
      [{ name: 'run:calc/y', version: '0.1.0', bytes: Buffer.from('not wasm at all') }, 'component'],
      [{ name: 'run:calc/y', version: '0.1.0', extra: { targets: '"wasm32"' } }, 'targets'],
      [{ name: 'run:calc/y', version: '0.1.0', extra: { dependencies: '[{"name":"run:nope","version":"^1"}]' } }, 'dependencies'],
      [{ name: 'run:calc/y', version: '0.1.0', extra: { repository: 'ftp://x' } }, 'repository'],
    ]
    for (const [fields, field] of cases) {
      const res = await publish(server.url, runToken, fields)
      expect(res.status, `${field}: ${JSON.stringify(fields)}`).toBe(400)
      const body = (await res.json()) as { error: string; field: string }
      expect(body.field).toBe(field)
      expect(typeof body.error).toBe('string')
    }
  })

  it('downloads an artifact that hashes to its sha256, and counts it in stats', async () => {
    const before = (await (await fetch(`${server.url}/api/v1/stats`)).json()) as { download_count: number }
    const res = await fetch(`${server.url}/packages/run%3Acalc%2Fcalculator/0.1.0/artifact.wasm`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/wasm')
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(bytes))
    const decoded = await fetch(`${server.url}/packages/run:calc/calculator/0.1.0/artifact.wasm`)
    expect(decoded.status).toBe(200)
    await decoded.arrayBuffer()
    const stats = (await (await fetch(`${server.url}/api/v1/stats`)).json()) as Record<string, unknown>
    expect(stats.download_count).toBe(before.download_count + 2)
    expect(Number.isInteger(stats.package_count) && Number.isInteger(stats.version_count)).toBe(true)
    expect(stats.package_count).toBe(3)
    expect(typeof stats.uptime_percent).toBe('number')
    expect((await fetch(`${server.url}/packages/run%3Acalc%2Fcalculator/9.9.9/artifact.wasm`)).status).toBe(404)
  })

  it('searches with q, limit and offset', async () => {
    const res = await fetch(`${server.url}/api/v1/search?q=calc`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { packages: Record<string, unknown>[]; total: unknown }
    expect(Number.isInteger(body.total)).toBe(true)
    expect(body.total).toBe(2)
    for (const p of body.packages) expectPackageShape(p)
    expect(body.packages.map((p) => p.name).sort()).toEqual(['run:calc/calculator', 'run:calc/ui'])
    const page = (await (await fetch(`${server.url}/api/v1/search?q=calc&limit=1&offset=1`)).json()) as { packages: unknown[]; total: number }
    expect(page.total).toBe(2)
    expect(page.packages).toHaveLength(1)
    const bad = await fetch(`${server.url}/api/v1/search?q=calc&limit=-1`)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ field: 'limit' })
  })

  it('serves / and /browse as HTML listing packages', async () => {
    const home = await fetch(`${server.url}/`)
    expect(home.headers.get('content-type')).toMatch(/text\/html/)
    expect(await home.text()).toContain('3 packages')
    const browse = await (await fetch(`${server.url}/browse?q=calc`)).text()
    expect(browse).toContain('run:calc/calculator')
    expect(browse).not.toContain('tools:fmt')
  })

  it('searches to the version a resolver picks: a release before a newer prerelease, as the versions document says', async () => {
    for (const version of ['1.0.0', '1.1.0-rc.1']) {
      expect((await publish(server.url, acmeToken, { name: 'acme:pick', version, description: 'pick me', bytes: component(`pick ${version}`) })).status).toBe(201)
    }
    const found = (await (await fetch(`${server.url}/api/v1/search?q=pick`)).json()) as { packages: Record<string, unknown>[] }
    expect(found.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['acme:pick@1.0.0'])
    expect(await (await fetch(`${server.url}/api/v1/packages/acme:pick/versions`)).json()).toMatchObject({ latest: '1.0.0' })
  })

  it('logs one line per request with method, path, status and time, and one per publish step', async () => {
    await fetch(`${server.url}/health`)
    await new Promise((r) => setTimeout(r, 120))
    expect(server.logs.some((l) => /^GET \/health 200 \d+(\.\d+)?ms$/.test(l))).toBe(true)
    for (const step of ['journal', 'store', 'propose', 'check', 'merge', 'sync', 'build']) {
      expect(server.logs.some((l) => l.startsWith('publish run:calc/calculator@0.1.0 ') && l.includes(` ${step} `)), step).toBe(true)
    }
  })
})

describe('rate limits', () => {
  it('answers 429 with Retry-After once a client spent its writes', async () => {
    // 4 a minute in all: one a minute for each client.
    const server = await serveTemp({ rateLimitPerMin: 4, tokens: [{ namespace: 'run', token: 't' }] })
    try {
      const first = await publish(server.url, 't', { name: 'run:a', version: '1.0.0' })
      expect(first.status).toBe(201)
      const second = await publish(server.url, 't', { name: 'run:a', version: '1.0.1' })
      expect(second.status).toBe(429)
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      // Reads are static files and are not metered.
      expect((await fetch(`${server.url}/api/v1/stats`)).status).toBe(200)
    } finally {
      await server.close()
    }
  })

  it("answers a 429 in the error shape of the route's API: Cargo's, WasmRust's", async () => {
    const server = await serveTemp({ rateLimitPerMin: 4 })
    try {
      // Without a valid token: the budget of one address, spent by the first request.
      const cargo = async () => fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', body: 'x' })
      const wasmrust = async () => fetch(`${server.url}/crates`, { method: 'POST', body: 'x' })
      let cargoLimited: Response | undefined
      for (let i = 0; i < 4 && cargoLimited?.status !== 429; i++) cargoLimited = await cargo()
      expect(cargoLimited!.status).toBe(429)
      expect(await cargoLimited!.json()).toMatchObject({ errors: [{ detail: expect.stringMatching(/too many requests without a valid token/) }] })
      const wasmLimited = await wasmrust()
      expect(wasmLimited.status).toBe(429)
      expect(await wasmLimited.json()).toMatchObject({ status: 'error', error: expect.anything() })
    } finally {
      await server.close()
    }
  })
})
