/** The pure parts of the server, table by table: rate limits, tokens, path resolution, Cargo framing, content types. */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAuthenticator, loginForNamespace } from '../../src/serve/auth.js'
import { createRateLimiter } from '../../src/serve/rate-limit.js'
import { parseCargoPublish } from '../../src/serve/requests.js'
import { contentTypeFor, resolveUnder } from '../../src/serve/static.js'
import { isWharfError } from '../../src/core/errors.js'

describe('rate limiter', () => {
  it('gives each client a quarter of the global budget and refills over a minute', () => {
    const limiter = createRateLimiter({ globalPerMin: 8, clientPerMin: 2 })
    const t = Date.now()
    expect([limiter.take('a', t), limiter.take('a', t)]).toEqual([0, 0])
    const wait = limiter.take('a', t)
    expect(wait).toBe(30) // one token per 30 s at 2 a minute
    expect(limiter.take('b', t)).toBe(0)
    expect(limiter.take('a', t + 30_000)).toBe(0)
  })

  it('stops everyone once the global budget is spent', () => {
    const limiter = createRateLimiter({ globalPerMin: 3, clientPerMin: 3 })
    const t = Date.now()
    expect(['a', 'b', 'c'].map((c) => limiter.take(c, t))).toEqual([0, 0, 0])
    expect(limiter.take('d', t)).toBeGreaterThanOrEqual(1)
  })
})

describe('tokens', () => {
  const auth = createAuthenticator({ token: 'root-token', login: 'admin' }, [
    { namespace: 'acme', token: 'acme-token' },
    { namespace: 'a'.repeat(50), token: 'long-token' },
  ])

  it.each([
    ['Bearer root-token', { namespace: '*', login: 'admin' }],
    ['bearer acme-token', { namespace: 'acme', login: 'acme' }],
    ['acme-token', { namespace: 'acme', login: 'acme' }],
    ['Bearer acme-token-2', undefined],
    ['Bearer ', undefined],
    [undefined, undefined],
  ])('identifies %s', (header, who) => {
    expect(auth.identify(header)).toEqual(who)
  })

  it('authorizes the admin everywhere and a namespace token in its namespace only', () => {
    expect(() => auth.authorize({ namespace: '*', login: 'admin' }, 'anything')).not.toThrow()
    expect(() => auth.authorize({ namespace: 'acme', login: 'acme' }, 'acme')).not.toThrow()
    try {
      auth.authorize({ namespace: 'acme', login: 'acme' }, 'other')
      expect.unreachable()
    } catch (e) {
      expect(isWharfError(e) && e.code).toBe('FORBIDDEN')
    }
    expect(() => auth.require('Bearer wrong')).toThrow(/not valid/)
  })

  it('makes a GitHub-shaped login for a long namespace', () => {
    const login = loginForNamespace('a'.repeat(50))
    expect(login.length).toBeLessThanOrEqual(39)
    expect(login).toMatch(/^[A-Za-z0-9](?:-?[A-Za-z0-9])*$/)
    expect(auth.identify('long-token')?.login).toBe(login)
  })
})

describe('static paths', () => {
  const root = path.resolve('/srv/public')
  it.each([
    ['/api/v1/packages/run%3Acalc%2Fcalculator/versions', `${root}/api/v1/packages/run:calc/calculator/versions`],
    ['/api/v1/packages/run:calc/calculator/0.1.0', `${root}/api/v1/packages/run:calc/calculator/0.1.0`],
    ['/.well-known/wasm-pkg/registry.json', `${root}/.well-known/wasm-pkg/registry.json`],
    ['/', undefined],
    ['/..%2f..%2fetc/passwd', undefined],
    ['/a/%2e%2e/b', undefined],
    ['/.wharf/build.json', undefined],
    ['/a%5c..%5cb', undefined],
    ['/a%00', undefined],
    ['/%E0%A4%A', undefined],
    ['//double', undefined],
  ])('%s resolves to %s', (url, file) => {
    expect(resolveUnder(root, url)).toBe(file)
  })

  it.each([
    ['api/v1/packages/run:calc/calculator/versions', 'application/json; charset=utf-8'],
    ['api/v1/packages/run:calc/calculator/0.1.0', 'application/json; charset=utf-8'],
    ['cargo/gr/ee/greet_lib', 'text/plain; charset=utf-8'],
    ['index.html', 'text/html; charset=utf-8'],
    ['artifacts/x.wasm', 'application/wasm'],
  ])('%s is served as %s', (file, type) => {
    expect(contentTypeFor(file)).toBe(type)
  })
})

describe('Cargo publish framing', () => {
  const frame = (json: Buffer, crate: Buffer, declaredCrate = crate.length) => {
    const body = Buffer.alloc(8 + json.length + crate.length)
    body.writeUInt32LE(json.length, 0)
    json.copy(body, 4)
    body.writeUInt32LE(declaredCrate, 4 + json.length)
    crate.copy(body, 8 + json.length)
    return body
  }

  it('splits metadata and crate', () => {
    const parsed = parseCargoPublish(frame(Buffer.from('{"name":"foo","vers":"1.0.0"}'), Buffer.from([0x1f, 0x8b, 1])))
    expect(parsed.metadata).toMatchObject({ name: 'foo', vers: '1.0.0' })
    expect([...parsed.crate]).toEqual([0x1f, 0x8b, 1])
  })

  it.each([
    ['a short body', Buffer.from([1, 2, 3])],
    ['a JSON length past the end', (() => { const b = Buffer.alloc(10); b.writeUInt32LE(100, 0); return b })()],
    ['metadata that is not JSON', frame(Buffer.from('{nope'), Buffer.from([1]))],
    ['a crate length that lies', frame(Buffer.from('{}'), Buffer.from([1, 2]), 5)],
    ['metadata that is not an object', frame(Buffer.from('null'), Buffer.from([1]))],
  ])('refuses %s', (_label, body) => {
    expect(() => parseCargoPublish(body)).toThrow(/not a cargo publish body/)
  })
})
