/**
 * What a browser is told about each answer. A version named like a page
 * (`1.0.0-a.html`) is still a JSON document, from the server's slow path and
 * its cached fast path, and from nginx with the README's configuration; every
 * answer says nosniff; pages carry a restrictive policy and are never framed;
 * artifacts are downloads.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { artifactType, attachment } from '../../src/serve/artifacts.js'
import { PAGE_POLICY } from '../../src/serve/http.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { publish, serveTemp, type TestServer } from './helpers.js'

const TRICKY = '/api/v1/packages/acme%3Apage/1.0.0-a.html'

describe('content types and security headers', () => {
  let server: TestServer
  let nginx: Nginx

  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'acme', token: 'acme-token' }] })
    expect((await publish(server.url, 'acme-token', { name: 'acme:page', version: '1.0.0-a.html', description: '<script>alert(1)</script>' })).status).toBe(201)
    nginx = await startNginx(server.registry.layout.public)
  })
  afterAll(async () => {
    await nginx?.stop()
    await server?.close()
  })

  const expectData = (res: Response, type: RegExp) => {
    expect(res.headers.get('content-type')).toMatch(type)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none';.*frame-ancestors 'none'/)
  }

  it('serves an API document whose version ends in .html as JSON, on the slow path and the fast path', async () => {
    for (const pass of ['slow', 'fast', 'fast, zipped']) {
      const res = await fetch(`${server.url}${TRICKY}`, { headers: pass.endsWith('zipped') ? { 'accept-encoding': 'gzip' } : { 'accept-encoding': 'identity' } })
      expect(res.status, pass).toBe(200)
      expectData(res, /^application\/json/)
      expect(((await res.json()) as { version: string }).version).toBe('1.0.0-a.html')
    }
    // A host that types files by their extension (GitHub Pages) serves this one as HTML: it holds no markup to run.
    const bytes = fs.readFileSync(path.join(server.registry.layout.public, 'api/v1/packages/acme:page/1.0.0-a.html'), 'utf8')
    expect(bytes).not.toMatch(/[<>&]/)
    expect(bytes).toContain('"description": "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"')
    expect((JSON.parse(bytes) as { description: string }).description).toBe('<script>alert(1)</script>')
    const head = await fetch(`${server.url}${TRICKY}`, { method: 'HEAD' })
    expectData(head, /^application\/json/)
    const notModified = await fetch(`${server.url}${TRICKY}`, { headers: { 'if-none-match': head.headers.get('etag')! } })
    expect(notModified.status).toBe(304)
    expect(notModified.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('says nosniff on every kind of answer: errors, server routes, the starting page', async () => {
    for (const [method, path, status] of [
      ['GET', '/api/v1/packages/acme%3Apage/9.9.9.html', 404],
      ['GET', '/api/v1/search?q=page', 200],
      ['GET', '/health', 200],
      ['POST', '/api/v1/packages', 401],
      ['PATCH', '/crates/x', 405],
      ['GET', '/crates/%E0%A4%A', 400],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method })
      expect(res.status, path).toBe(status)
      expectData(res, /^application\/json/)
    }
  })

  it('names the methods a 405 allows, at a route and at a static file alike', async () => {
    for (const [method, path, allow] of [
      ['POST', '/api/v1/packages/acme%3Apage/versions', 'GET, HEAD'],
      ['DELETE', '/api/v1/stats', 'GET, HEAD'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method })
      expect(res.status, path).toBe(405)
      expect(res.headers.get('allow'), path).toBe(allow)
    }
  })

  it('gives pages a policy that runs no inline script and forbids framing', async () => {
    const home = await fetch(`${server.url}/`)
    expect(home.headers.get('content-type')).toMatch(/^text\/html/)
    expect(home.headers.get('x-content-type-options')).toBe('nosniff')
    const policy = home.headers.get('content-security-policy')!
    expect(policy).toContain("frame-ancestors 'none'")
    expect(policy).toMatch(/^default-src 'self';/)
    expect(policy).toContain("object-src 'none'")
    expect(/script-src [^;]*'unsafe-inline'/.test(policy)).toBe(false)
    expect(policy).toContain("base-uri 'none'")
    expect(policy).not.toContain("'unsafe-inline'")
  })

  it('serves artifacts as downloads of their own type', async () => {
    const res = await fetch(`${server.url}/packages/acme%3Apage/1.0.0-a.html/artifact.wasm`)
    expect(res.status).toBe(200)
    expectData(res, /^application\/wasm$/)
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="acme-page.wasm"')
    const meta = (await (await fetch(`${server.url}${TRICKY}`)).json()) as { sha256: string }
    const byDigest = await fetch(`${server.url}/artifacts/sha256/${meta.sha256}`)
    expectData(byDigest, /^application\/wasm$/)
    expect(byDigest.headers.get('content-disposition')).toMatch(/^attachment; filename="/)
    // The name comes from the publisher: nothing of it can end the header or climb directories.
    expect(attachment('../x"\r\nset-cookie: a=b.wasm')).toBe('attachment; filename="x___set-cookie__a_b.wasm"')
    expect(attachment('...')).toBe('attachment; filename="artifact"')
    expect([artifactType('x.crate'), artifactType('x.wasm'), artifactType('x.html')]).toEqual(['application/gzip', 'application/wasm', 'application/octet-stream'])
  })

  it('is served as JSON by nginx with the README configuration too', async () => {
    const res = await fetch(`${nginx.url}/api/v1/packages/acme:page/1.0.0-a.html`)
    expect(res.status, nginx.errors()).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(((await res.json()) as { version: string }).version).toBe('1.0.0-a.html')
    expect(res.headers.get('content-security-policy')).toBe(PAGE_POLICY)
    // The fixture's configuration is the README's: the policy a reader copies is the one tested here.
    expect(fs.readFileSync('README.md', 'utf8')).toContain(`add_header Content-Security-Policy "${PAGE_POLICY}" always;`)
  })
  it('answers a byte range as nginx does, so a feed page read before costs only what it grew by', async () => {
    const path = '/api/v1/feed/0.json'
    const whole = Buffer.from(await (await fetch(`${server.url}${path}`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer())
    expect(whole.length).toBeGreaterThan(20)
    const etag = (await fetch(`${server.url}${path}`, { method: 'HEAD' })).headers.get('etag')!
    for (const host of [server.url, nginx.url]) {
      // Twice from the server: its slow path, then its cached fast path.
      for (const pass of host === server.url ? ['slow', 'fast'] : ['nginx']) {
        const tail = await fetch(`${host}${path}`, { headers: { range: 'bytes=10-' } })
        expect(tail.status, pass).toBe(206)
        expect(tail.headers.get('content-range'), pass).toBe(`bytes 10-${whole.length - 1}/${whole.length}`)
        expect(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(10)), pass).toBe(true)
      }
      const middle = await fetch(`${host}${path}`, { headers: { range: 'bytes=2-5' } })
      expect(middle.status).toBe(206)
      expect(Buffer.from(await middle.arrayBuffer()).equals(whole.subarray(2, 6))).toBe(true)
      const suffix = await fetch(`${host}${path}`, { headers: { range: 'bytes=-4' } })
      expect(Buffer.from(await suffix.arrayBuffer()).equals(whole.subarray(-4))).toBe(true)
      const beyond = await fetch(`${host}${path}`, { headers: { range: `bytes=${whole.length}-` } })
      expect(beyond.status).toBe(416)
      expect(beyond.headers.get('content-range')).toBe(`bytes */${whole.length}`)
      await beyond.arrayBuffer()
    }
    // A range that is not one span of bytes, or an If-Range that no longer holds, gets the whole file.
    for (const headers of [{ range: 'bytes=0-1,4-5' }, { range: 'items=0-1' }, { range: 'bytes=2-', 'if-range': '"stale"' }] as Record<string, string>[]) {
      const res = await fetch(`${server.url}${path}`, { headers: { ...headers, 'accept-encoding': 'identity' } })
      expect(res.status, JSON.stringify(headers)).toBe(200)
      expect(Buffer.from(await res.arrayBuffer()).equals(whole)).toBe(true)
    }
    const current = await fetch(`${server.url}${path}`, { headers: { range: 'bytes=2-', 'if-range': etag } })
    expect(current.status).toBe(206)
    await current.arrayBuffer()
  })
})
