/**
 * Signatures before fetches, and public addresses only (issue 9, class 6,
 * check's half): a record names any URL it likes, so check must not become
 * a port scanner for the machine it runs on.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressProblem, fetchLimited, guardedFetch, runCheck, urlProblem, type Fetch } from '../../src/check/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { sha256Hex } from '../../src/core/hash.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { recordPath } from '../../src/core/layout.js'
import type { VersionRecord } from '../../src/core/types.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'

describe('addresses check may connect to', () => {
  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.8.9.10', /loopback/],
    ['::1', /loopback/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['::ffff:10.0.0.1', /private/],
    ['::ffff:192.168.0.1', /private/],
    ['64:ff9b::a00:1', /private/],
    ['2002:c0a8:101::1', /private/],
    ['169.254.169.254', /link-local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fc00::1', /unique-local/],
    ['fd12:3456::1', /unique-local/],
    ['100.64.0.1', /shared/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
  ]
  for (const [address, why] of refused) {
    it(`refuses ${address}`, () => {
      expect(addressProblem(address, false)).toMatch(why)
    })
  }

  it('allows loopback only when the policy allows it, and public addresses always', () => {
    for (const loopback of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(addressProblem(loopback, true)).toBeUndefined()
    for (const still of ['10.0.0.1', '169.254.169.254', 'fd00::1']) expect(addressProblem(still, true)).toBeDefined()
    for (const open of ['93.184.216.34', '172.32.0.1', '2606:4700::1111', '::ffff:93.184.216.34']) expect(addressProblem(open, false)).toBeUndefined()
  })

  it('judges a URL whose host is an address, in any of its spellings', () => {
    expect(urlProblem('https://169.254.169.254/latest/meta-data/', false)).toMatch(/link-local/)
    expect(urlProblem('https://[::ffff:a00:1]/x', false)).toMatch(/private/)
    expect(urlProblem('https://0x7f.1/x', false)).toMatch(/loopback/)
    expect(urlProblem('https://2130706433/x', false)).toMatch(/loopback/)
    expect(urlProblem('http://localhost:8080/x', false)).toMatch(/localhost/)
    expect(urlProblem('http://127.0.0.1:8080/x', true)).toBeUndefined()
    expect(urlProblem('https://example.com/x.wasm', false)).toBeUndefined()
  })
})

describe('the guarded fetch', () => {
  let server: Server
  let port = 0
  let hits = 0
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++
      if (req.url === '/redirect') {
        res.statusCode = 302
        res.setHeader('location', 'https://10.0.0.1/calc.wasm')
        return res.end()
      }
      res.end('bytes')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const limits = (allowHttpLoopback: boolean) => ({ maxBytes: 1000, timeoutMs: 5000, allowHttpLoopback })

  it('refuses a name that resolves to loopback before connecting, unless the policy allows loopback', async () => {
    hits = 0
    await expect(guardedFetch(false)(`http://localhost:${port}/`)).rejects.toMatchObject({ code: 'FETCH_REFUSED', message: expect.stringMatching(/resolves to .*loopback/) })
    expect(hits).toBe(0)
    const bytes = await fetchLimited(undefined, `http://localhost:${port}/`, limits(true))
    expect(Buffer.from(bytes).toString()).toBe('bytes')
    expect(hits).toBe(1)
  })

  it('holds a redirect to a private address to the same rule', async () => {
    hits = 0
    await expect(fetchLimited(undefined, `http://127.0.0.1:${port}/redirect`, limits(true))).rejects.toMatchObject({ code: 'FETCH_REFUSED', message: expect.stringMatching(/10\.0\.0\.1.*private/) })
    expect(hits).toBe(1)
  })
})

describe('signatures before fetches', () => {
  let idx: TestIndex
  let published: VersionRecord
  beforeAll(async () => {
    idx = await createTestIndex()
    published = await idx.release({ version: '1.0.0' })
  })

  async function submitRemote(version: string, key = parsePrivateKey(idx.key.privatePem)): Promise<string> {
    const bytes = component(`remote-${version}`)
    const { signature: _s, ...unsigned } = structuredClone(published)
    const record = signDocument(
      { ...unsigned, version, artifacts: [{ name: 'calc.wasm', target: 'wasm32-wasip2', url: 'https://artifacts.example/calc.wasm', sha256: sha256Hex(bytes), size: bytes.length }] },
      PAYLOAD_TYPES.record,
      key,
    )
    return idx.submit([{ path: recordPath('acme:calc', version), content: stableJson(record) }])
  }

  it('never fetches the artifact of a record whose signature does not verify', async () => {
    const urls: string[] = []
    const fetch = (async (url: string) => {
      urls.push(url)
      return new Response(new Uint8Array(component('remote-2.0.0')))
    }) as Fetch
    const forged = await runCheck({ repo: idx.repo, base: 'main', head: await submitRemote('2.0.0', parsePrivateKey(generateKey().privatePem)), author: { login: 'alice' }, fetch })
    expect(forged.findings.map((f) => f.rule)).toEqual(['record/signature'])
    expect(urls).toEqual([])
    const honest = await runCheck({ repo: idx.repo, base: 'main', head: await submitRemote('2.0.0'), author: { login: 'alice' }, fetch })
    expect(honest.findings).toEqual([])
    expect(urls).toEqual(['https://artifacts.example/calc.wasm'])
  })

  it('never fetches for a submitter who does not own the namespace', async () => {
    const urls: string[] = []
    const fetch = (async (url: string) => {
      urls.push(url)
      return new Response('')
    }) as Fetch
    const result = await runCheck({ repo: idx.repo, base: 'main', head: await submitRemote('2.0.1'), author: { login: 'mallory' }, fetch })
    expect(result.findings.map((f) => f.rule)).toEqual(['namespace/not-owner'])
    expect(urls).toEqual([])
  })
})
