/**
 * Hostile and broken requests get a clear 4xx and never a 500 or a crash:
 * truncated multipart, missing fields, a 2 GB Content-Length, uploads over
 * the limit, path traversal, non-wasm bytes, a wrong sha256.
 */
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { component } from '../helpers/wasm.js'
import { publish, serveTemp, sha256, type TestServer } from './helpers.js'

const TOKEN = 'bad-input-token'

/** Sends raw bytes and reads whatever answer comes back until the server closes the connection. */
function raw(port: number, request: string | Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let data = ''
    socket.on('data', (d) => (data += d.toString('latin1')))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data)
      if (!m) return reject(new Error(`no HTTP answer to ${String(request).slice(0, 60)}: ${JSON.stringify(data)}`))
      resolve({ status: Number(m[1]), text: data })
    })
    // No half-close: like a real client, it waits for the answer with its side open.
    socket.write(request)
    setTimeout(() => socket.destroy(), 10_000).unref()
  })
}

function multipartBody(boundary: string, parts: { name: string; value: string | Buffer; filename?: string }[]): Buffer {
  const chunks: Buffer[] = []
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: ${disposition}\r\n${p.filename ? 'content-type: application/wasm\r\n' : ''}\r\n`))
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(chunks)
}

describe('bad input', () => {
  let server: TestServer
  const wasm = component('valid')
  const boundary = 'XwharfBoundaryX'
  const fullBody = multipartBody(boundary, [
    { name: 'name', value: 'acme:calc' },
    { name: 'version', value: '1.0.0' },
    { name: 'sha256', value: sha256(wasm) },
    { name: 'component', value: wasm, filename: 'calc.wasm' },
  ])
  const head = (length: number | string, extra = '') =>
    `POST /api/v1/packages HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${length}\r\nconnection: close\r\n${extra}\r\n`

  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'acme', token: TOKEN }], maxUploadBytes: 1024 * 1024 })
  })
  afterAll(async () => {
    await server.close()
  })

  it('refuses a truncated multipart body with 400', async () => {
    const cut = fullBody.subarray(0, fullBody.length - 40)
    // The declared length is the cut one: the form itself ends early.
    const res = await raw(server.port, Buffer.concat([Buffer.from(head(cut.length)), cut]))
    expect(res.status).toBe(400)
    expect(res.text).toContain('"field":"body"')
  })

  it('refuses a body that stops before its Content-Length with 400, or just closes', async () => {
    const cut = fullBody.subarray(0, 100)
    const socket = net.connect(server.port, '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    socket.write(Buffer.concat([Buffer.from(head(fullBody.length)), cut]))
    await new Promise((r) => setTimeout(r, 100))
    socket.destroy()
    await new Promise((r) => setTimeout(r, 100))
    // The server is still there and nothing was published.
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    expect((await fetch(`${server.url}/packages/acme%3Acalc/1.0.0/artifact.wasm`)).status).toBe(404)
  })

  it('names the missing field', async () => {
    for (const missing of ['name', 'version', 'sha256', 'component']) {
      const parts = [
        { name: 'name', value: 'acme:calc' },
        { name: 'version', value: '1.0.0' },
        { name: 'sha256', value: sha256(wasm) },
        { name: 'component', value: wasm, filename: 'calc.wasm' },
      ].filter((p) => p.name !== missing)
      const body = multipartBody(boundary, parts)
      const res = await raw(server.port, Buffer.concat([Buffer.from(head(body.length)), body]))
      expect(res.status, missing).toBe(400)
      expect(res.text, missing).toContain(`"field":"${missing}"`)
    }
  })

  it('refuses a 2 GB Content-Length with 413 before reading the body', async () => {
    const res = await raw(server.port, head(2 * 1024 * 1024 * 1024) + '--XwharfBoundaryX\r\n')
    expect(res.status).toBe(413)
    expect(res.text).toContain('TOO_LARGE')
    // The limit named is the registry's (1 MB here), not the byte cap that leaves room for the form's other fields.
    expect(res.text).toContain("larger than this registry's 1 MB limit")
  })

  it('refuses an upload over the limit while it streams (no Content-Length) with 413', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 1)
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${server.url}/api/v1/packages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' },
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode!)
      })
      req.on('error', reject)
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="component"; filename="x.wasm"\r\n\r\n`)
      // Written in pieces: the server must stop it part way.
      let sent = 0
      const pump = () => {
        while (sent < big.length) {
          const piece = big.subarray(sent, sent + 64 * 1024)
          sent += piece.length
          if (!req.write(piece)) return void req.once('drain', pump)
        }
        req.end(`\r\n--${boundary}--\r\n`)
      }
      pump()
    })
    expect(status).toBe(413)
  })

  it('refuses a Content-Length that is not a number, and a body that is not multipart', async () => {
    const nan = await raw(server.port, head('lots'))
    expect(nan.status).toBe(400)
    const res = await fetch(`${server.url}/api/v1/packages`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ field: 'content-type' })
  })

  it('refuses non-wasm bytes and a wrong sha256', async () => {
    const notWasm = await publish(server.url, TOKEN, { name: 'acme:calc', version: '1.0.0', bytes: Buffer.from('#!/bin/sh\necho hi\n') })
    expect(notWasm.status).toBe(400)
    expect(await notWasm.json()).toMatchObject({ field: 'component', code: 'INVALID_ARTIFACT' })
    const wrong = await publish(server.url, TOKEN, { name: 'acme:calc', version: '1.0.0', sha256: sha256(Buffer.from('other')) })
    expect(wrong.status).toBe(400)
    expect(await wrong.json()).toMatchObject({ field: 'sha256', code: 'DIGEST_MISMATCH' })
    // A truncated wasm (a section running past the end) is not wasm either.
    const cut = Buffer.concat([wasm.subarray(0, 8), Buffer.from([0x00, 0x7f, 0x01])])
    expect((await publish(server.url, TOKEN, { name: 'acme:calc', version: '1.0.0', bytes: cut })).status).toBe(400)
  })

  it('keeps every request inside the data dir', async () => {
    fs.writeFileSync(path.join(server.dataDir, 'secret.txt'), 'TOP-SECRET-CONTENT')
    const targets = [
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fstate%2fadmin-token',
      '/api/v1/packages/..%2F..%2F..%2Fstate%2Fadmin-token',
      '/api/v1/packages/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt/versions',
      '/api/v1/packages/a%00b/versions',
      '/api/v1/packages/..%5c..%5csecret.txt',
      '/packages/..%2F..%2Fsecret.txt/1.0.0/artifact.wasm',
      '/api/v1/crates/..%2F..%2Fsecret/1.0.0/download',
      '/tests/..%2F..%2Fadmin-token',
      '/crates/..%2F..%2Fsecret',
      '/%',
    ]
    for (const target of targets) {
      const res = await raw(server.port, `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`)
      expect(res.status, target).toBeGreaterThanOrEqual(400)
      expect(res.status, target).toBeLessThan(500)
      expect(res.text, target).not.toContain('TOP-SECRET-CONTENT')
      expect(res.text, target).not.toContain(server.adminToken)
    }
    for (const name of ['../../state/x', 'acme:../../x', 'acme:calc/../../x', 'acme:calc%2F..']) {
      const res = await publish(server.url, TOKEN, { name, version: '1.0.0' })
      expect(res.status, name).toBe(400)
      expect(await res.json()).toMatchObject({ field: 'name' })
    }
    const traversalVersion = await publish(server.url, TOKEN, { name: 'acme:calc', version: '../../1.0.0' })
    expect(traversalVersion.status).toBe(400)
  })

  it('never answered 500 and is still serving', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    await new Promise((r) => setTimeout(r, 120))
    expect(server.logs.filter((l) => / 5\d\d \d/.test(l) || l.startsWith('error '))).toEqual([])
  })
})
