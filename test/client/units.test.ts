/**
 * The client's pure parts on tables (resolution, lockfile, config, snapshot
 * checks) and its HTTP layer against small servers on loopback (retries,
 * redirects, size caps, conditional requests).
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderSnapshot } from '../../src/api/snapshot.js'
import {
  checkSnapshot,
  choose,
  closeNames,
  createSnapshotIndex,
  createHttp,
  loadConfig,
  openCache,
  parseLockfile,
  readToken,
  renderLockfile,
  resolve,
  settingsFor,
  type Lockfile,
  type PackageIndex,
} from '../../src/client/index.js'
import { isWharfError } from '../../src/core/errors.js'
import { sha256Hex } from '../../src/core/hash.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { tempDir } from '../helpers/index-repo.js'

type Graph = Record<string, Record<string, string[]>>

/** An index over `{ name: { version: ["dep@range", ...] } }`; versions listed in `yanked` are yanked. */
function tableIndex(graph: Graph, yanked: string[] = []): PackageIndex & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    async versions(name) {
      asked.push(name)
      const versions = graph[name]
      return versions ? { versions: Object.keys(versions), yanked: yanked.filter((y) => y.startsWith(`${name}@`)).map((y) => y.slice(name.length + 1)) } : undefined
    },
    async dependencies(name, version) {
      return (graph[name]?.[version] ?? []).map((d) => {
        const optional = d.endsWith('?')
        const at = d.lastIndexOf('@')
        return { name: d.slice(0, at), req: d.slice(at + 1).replace(/\?$/, ''), optional }
      })
    },
    async names() {
      return Object.keys(graph)
    },
  }
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (e) {
    if (isWharfError(e)) return `${e.code}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`
    throw e
  }
  return 'resolved'
}

const picked = (r: Awaited<ReturnType<typeof resolve>>) => r.packages.map((p) => `${p.name}@${p.version}`)

describe('resolve', () => {
  const graph: Graph = {
    'a:app': { '1.0.0': ['a:lib@^1.0.0'], '1.1.0': ['a:lib@^1.2.0', 'a:opt@^1?'] },
    'a:lib': { '1.0.0': [], '1.2.0': ['a:base@~0.1.0'], '1.3.0': ['a:base@~0.1.0'], '2.0.0': [], '2.1.0-beta.1': [] },
    'a:base': { '0.1.0': [], '0.1.5': [], '0.2.0': [] },
    'a:other': { '1.0.0': ['a:lib@^2'] },
    'a:pinned': { '1.0.0': ['a:lib@=1.2.0'] },
  }

  it.each([
    ['the highest compatible version, transitively', [['a:app', '^1.0.0']], [], ['a:app@1.1.0', 'a:base@0.1.5', 'a:lib@1.3.0']],
    ['a range as given', [['a:app', '=1.0.0']], [], ['a:app@1.0.0', 'a:base@0.1.5', 'a:lib@1.3.0']],
    ['any release for *, never a pre-release', [['a:lib', '*']], [], ['a:lib@2.0.0']],
    ['a pre-release when the range names one', [['a:lib', '2.1.0-beta.1']], [], ['a:lib@2.1.0-beta.1']],
    ['one version shared by requirements that allow it', [['a:app', '1.1.0'], ['a:pinned', '*']], [], ['a:app@1.1.0', 'a:base@0.1.5', 'a:lib@1.2.0', 'a:pinned@1.0.0']],
    ['two majors side by side when nothing else fits', [['a:app', '1.1.0'], ['a:other', '*']], [], ['a:app@1.1.0', 'a:base@0.1.5', 'a:lib@1.3.0', 'a:lib@2.0.0', 'a:other@1.0.0']],
    ['a Cargo-style comma range', [['a:base', '>=0.1.0, <0.2.0']], [], ['a:base@0.1.5']],
  ])('picks %s', async (_what, roots, yanked, expected) => {
    const result = await resolve(tableIndex(graph, yanked), { roots: roots.map(([name, range]) => ({ name: name!, range: range! })) })
    expect(picked(result)).toEqual(expected)
  })

  it('skips yanked versions unless the lockfile pins them, and prefers what it pins', async () => {
    const index = tableIndex(graph, ['a:lib@1.3.0', 'a:base@0.1.5'])
    expect(picked(await resolve(index, { roots: [{ name: 'a:lib', range: '^1' }] }))).toEqual(['a:base@0.1.0', 'a:lib@1.2.0'])
    const locked = new Map([['a:lib', ['1.3.0']], ['a:base', ['0.1.0']]])
    expect(picked(await resolve(index, { roots: [{ name: 'a:lib', range: '^1' }], locked }))).toEqual(['a:base@0.1.0', 'a:lib@1.3.0'])
    // A pin that no longer satisfies a requirement gives way.
    expect(picked(await resolve(index, { roots: [{ name: 'a:lib', range: '^2' }], locked }))).toEqual(['a:lib@2.0.0'])
  })

  it('records which version each edge resolved to', async () => {
    const result = await resolve(tableIndex(graph), { roots: [{ name: 'a:app', range: '1.0.0' }] })
    expect(result.roots).toEqual([{ name: 'a:app', req: '1.0.0', version: '1.0.0' }])
    expect(result.packages.find((p) => p.name === 'a:app')!.dependencies).toEqual([{ name: 'a:lib', req: '^1.0.0', version: '1.3.0' }])
  })

  it.each([
    [[['a:ap', '*']], /^UNKNOWN_PACKAGE: a:ap is not in the registry \(did you mean a:app\?\)/],
    [[['a:lib', '^3']], /^NO_MATCHING_VERSION: no version of a:lib matches \^3 \(available: 1\.0\.0, 1\.2\.0, 1\.3\.0, 2\.0\.0, 2\.1\.0-beta\.1\)/],
    [[['a:pinned', '*'], ['a:app', '=1.0.0']], /^resolved$/],
    [[['A:bad', '*']], /^INVALID_NAME/],
    [[['a:lib', 'not a range']], /^USAGE: "not a range" is not a version requirement/],
  ])('%j: %s', async (roots, expected) => {
    expect(await code(resolve(tableIndex(graph), { roots: roots.map(([name, range]) => ({ name: name!, range: range! })) }))).toMatch(expected)
  })

  it('names who needs a missing dependency', async () => {
    const broken: Graph = { 'a:top': { '1.0.0': ['a:gone@^1'] } }
    expect(await code(resolve(tableIndex(broken), { roots: [{ name: 'a:top', range: '*' }] }))).toMatch(/^UNKNOWN_PACKAGE: a:gone \(needed by a:top@1.0.0\) is not in the registry/)
  })

  it('asks for each package once, however many need it', async () => {
    const index = tableIndex(graph)
    await resolve(index, { roots: [{ name: 'a:app', range: '*' }, { name: 'a:other', range: '*' }, { name: 'a:pinned', range: '*' }] })
    expect(index.asked.filter((n) => n === 'a:lib')).toHaveLength(1)
  })
})

describe('choose', () => {
  it.each([
    [['^1'], ['1.0.0', '1.5.0', '2.0.0'], [], [], ['1.5.0']],
    [['^1', '^2'], ['1.0.0', '1.5.0', '2.0.0'], [], [], ['1.5.0', '2.0.0']],
    [['>=1', '<1.5'], ['1.0.0', '1.4.0', '1.5.0'], [], [], ['1.4.0']],
    [['^1'], ['1.0.0', '1.5.0'], ['1.5.0'], [], ['1.0.0']],
    [['^1'], ['1.0.0', '1.5.0'], ['1.5.0'], ['1.5.0'], ['1.5.0']],
    [['^1'], ['1.0.0', '1.5.0'], [], ['1.0.0'], ['1.0.0']],
  ])('%j of %j (yanked %j, locked %j) -> %j', (ranges, versions, yanked, locked, expected) => {
    expect(choose(ranges.map((range) => ({ name: 'x:y', range })), { versions, yanked }, locked)).toEqual(expected)
  })

  it('suggests close names', () => {
    expect(closeNames('acme:calculater', ['acme:calculator', 'acme:app', 'other:calc'])).toEqual(['acme:calculator'])
    expect(closeNames('acme:ap', ['acme:app', 'acme:lib'])).toEqual(['acme:app'])
    expect(closeNames('zzz:qqq', ['acme:app'])).toEqual([])
  })
})

describe('wharf.lock', () => {
  const lock: Lockfile = {
    version: 1,
    registry: 'https://r.example',
    requires: ['b:b@^1.0.0', 'a:a@~2'],
    packages: [
      { name: 'b:b', version: '1.0.0', kind: 'component', file: 'b-b-1.0.0.wasm', size: 3, sha256: 'b'.repeat(64), record: `sha256:${'c'.repeat(64)}`, source: 'https://r.example/artifacts/sha256/b', dependencies: [] },
      { name: 'a:a', version: '2.0.1', kind: 'crate', file: 'a-a-2.0.1.crate', size: 9, sha256: 'a'.repeat(64), record: `sha256:${'d'.repeat(64)}`, source: 'https://x.example/a.crate', dependencies: ['b:b@1.0.0'] },
    ],
  }

  it('renders sorted and stable, and reads back what it wrote', () => {
    const text = renderLockfile(lock)
    expect(text.indexOf('name = "a:a"')).toBeLessThan(text.indexOf('name = "b:b"'))
    expect(text).toContain('requires = ["a:a@~2", "b:b@^1.0.0"]')
    const back = parseLockfile(text, 'wharf.lock')
    expect(renderLockfile(back)).toBe(text)
    expect(renderLockfile({ ...lock, packages: [...lock.packages].reverse() })).toBe(text)
  })

  it.each([
    ['version = 2\nregistry = "x"\n', /version is 2/],
    ['version = 1\n', /names no registry/],
    ['not toml [', /not a valid lockfile/],
    [renderLockfile(lock).replace('file = "a-a-2.0.1.crate"', 'file = "../escape.crate"'), /is not a plain, unique \.wasm or \.crate file name/],
    [renderLockfile(lock).replace('file = "a-a-2.0.1.crate"', 'file = "package.json"'), /file "package\.json" is not a plain, unique \.wasm or \.crate file name/],
    [renderLockfile(lock).replace('file = "b-b-1.0.0.wasm"', 'file = "b-b-1.0.0.wasm.sh"'), /file "b-b-1\.0\.0\.wasm\.sh"/],
    [renderLockfile(lock).replace('file = "b-b-1.0.0.wasm"', 'file = "a-a-2.0.1.crate"'), /file "a-a-2\.0\.1\.crate" is not a plain, unique/],
    [renderLockfile(lock).replace(`sha256 = "${'a'.repeat(64)}"`, 'sha256 = "abc"'), /sha256 is not 64 hex digits/],
    [renderLockfile(lock).replace('name = "a:a"', 'name = "A:A"'), /package 1 \(A:A\)/],
  ])('refuses a broken lockfile (%#)', (text, expected) => {
    expect(() => parseLockfile(text, 'wharf.lock')).toThrow(expected)
  })
})

describe('configuration', () => {
  it('takes the project file over the user file, and keeps pinned keys and mirrors with their registry', async () => {
    const cwd = await tempDir('wharf-project-')
    const config = await tempDir('wharf-config-')
    const key = generateKey()
    fs.mkdirSync(path.join(config, 'wharf'))
    fs.writeFileSync(path.join(config, 'wharf', 'config.toml'), `[registry]\nurl = "https://user.example/"\n\n[install]\ndir = "/opt/components"\n`)
    expect(loadConfig(cwd, { XDG_CONFIG_HOME: config }).registry?.url).toBe('https://user.example')
    fs.writeFileSync(path.join(cwd, 'wharf.toml'), `[registry]\nurl = "https://project.example"\nkey = "${key.publicKey}"\nmirrors = ["https://m1.example", "https://m2.example"]\n`)
    const loaded = loadConfig(cwd, { XDG_CONFIG_HOME: config })
    expect(loaded.registry?.url).toBe('https://project.example')
    expect(loaded.installDir).toBe('/opt/components')
    expect(settingsFor(loaded, 'https://PROJECT.example/')).toEqual({ mirrors: ['https://m1.example', 'https://m2.example'], keys: [{ id: key.id, public_key: key.publicKey }] })
    expect(settingsFor(loaded, 'https://elsewhere.example')).toEqual({ mirrors: [], keys: [] })
  })

  it.each([
    ['[registry]\nurl = 42\n', /\[registry\] needs url/],
    ['[registry]\nurl = "ftp://x"\n', /is not an http\(s\) URL/],
    ['[registry]\nurl = "https://x"\nkey = "nope"\n', /not an Ed25519 public key/],
    ['[registry\n', /is not valid TOML/],
  ])('refuses a broken wharf.toml (%#)', async (text, expected) => {
    const cwd = await tempDir('wharf-project-')
    fs.writeFileSync(path.join(cwd, 'wharf.toml'), text)
    expect(() => loadConfig(cwd, { XDG_CONFIG_HOME: cwd })).toThrow(expected)
  })

  it('reads a token only from a credentials file its owner alone can read', async () => {
    const config = await tempDir('wharf-config-')
    fs.mkdirSync(path.join(config, 'wharf'))
    const file = path.join(config, 'wharf', 'credentials.toml')
    fs.writeFileSync(file, '[registries."https://r.example"]\ntoken = "t0k"\n', { mode: 0o600 })
    expect(readToken('https://r.example/', { XDG_CONFIG_HOME: config })).toBe('t0k')
    expect(readToken('https://other.example', { XDG_CONFIG_HOME: config })).toBeUndefined()
    fs.chmodSync(file, 0o640)
    expect(() => readToken('https://r.example', { XDG_CONFIG_HOME: config })).toThrow(/can be read by others \(mode 640\)/)
  })
})

describe('checkSnapshot', () => {
  const key = generateKey()
  const signing = parsePrivateKey(key.privatePem)
  const keys = [{ id: key.id, public_key: key.publicKey }]
  const at = (iso: string, commit = 'c1', ttl = 7200) =>
    Buffer.from(renderSnapshot({ registry: 'r', commit, now: new Date(iso), ttlSeconds: ttl, parts: {}, fileCount: 0, key: signing }))
  const now = new Date('2030-01-01T12:00:00Z')

  it('accepts a fresh snapshot signed with a trusted key', () => {
    expect(checkSnapshot(at('2030-01-01T11:30:00Z'), { keys, source: 's', now }).commit).toBe('c1')
  })

  it('gives the digest of a file the snapshot names without reading a part or a leaf', async () => {
    const sha = 'a'.repeat(64)
    const snapshot = checkSnapshot(Buffer.from(renderSnapshot({ registry: 'r', commit: 'c', now, ttlSeconds: 60, parts: { '00': 'b'.repeat(64) }, fileCount: 1, files: { 'config.json': sha }, key: signing })), { keys, source: 's', now })
    const read: string[] = []
    const index = createSnapshotIndex(snapshot, async (p) => {
      read.push(p)
      throw new Error('no tree here')
    })
    expect(await index.digestOf('config.json')).toBe(sha)
    expect(read).toEqual([])
  })

  it.each([
    ['an expired one', at('2030-01-01T09:00:00Z'), {}, /^SNAPSHOT_EXPIRED/],
    ['one older than the last seen', at('2030-01-01T11:00:00Z', 'c1'), { last: 'c2@2030-01-01T11:30:00Z' }, /^SNAPSHOT_ROLLBACK/],
    ['another commit made at the same instant', at('2030-01-01T11:30:00Z', 'c1'), { last: 'c2@2030-01-01T11:30:00Z' }, /^SNAPSHOT_ROLLBACK/],
    ['one signed by another key', Buffer.from(renderSnapshot({ registry: 'r', commit: 'c', now, ttlSeconds: 60, parts: {}, fileCount: 0, key: parsePrivateKey(generateKey().privatePem) })), {}, /^SIGNATURE_INVALID/],
    ['an altered one', Buffer.from(at('2030-01-01T11:30:00Z').toString().replace('"commit": "c1"', '"commit": "c9"')), {}, /^SIGNATURE_INVALID/],
    ['not JSON', Buffer.from('<html>'), {}, /^SNAPSHOT_INVALID/],
    ['one naming a file by no sha256', Buffer.from(renderSnapshot({ registry: 'r', commit: 'c', now, ttlSeconds: 60, parts: {}, fileCount: 0, files: { 'config.json': 'not-a-digest' }, key: signing })), {}, /^SNAPSHOT_INVALID/],
  ])('refuses %s', (_what, bytes, more, expected) => {
    const lastSpec = (more as { last?: string }).last
    const last = lastSpec ? checkSnapshot(at(lastSpec.split('@')[1]!, lastSpec.split('@')[0]!), { keys, source: 'cache', allowExpired: true }) : undefined
    let result = 'accepted'
    try {
      checkSnapshot(bytes, { keys, source: 's', now, ...(last ? { last } : {}) })
    } catch (e) {
      result = isWharfError(e) ? `${e.code}: ${e.message}` : String(e)
    }
    expect(result).toMatch(expected)
  })
})

describe('the cache', () => {
  it('returns only bytes that hash to their name', async () => {
    const cache = openCache(await tempDir('wharf-cache-'))
    const bytes = Buffer.from('hello')
    const sha = sha256Hex(bytes)
    await cache.put(sha, bytes)
    const reopened = openCache(cache.dir)
    expect((await reopened.get(sha))?.toString()).toBe('hello')
    fs.writeFileSync(path.join(cache.dir, 'blobs/sha256', sha.slice(0, 2), sha), 'tampered')
    expect(await openCache(cache.dir).get(sha)).toBeUndefined()
  })
})

describe('HTTP', () => {
  let server: http.Server
  let base: string
  const hits = new Map<string, number>()

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '/'
      hits.set(url, (hits.get(url) ?? 0) + 1)
      if (url === '/flaky') return void (hits.get(url)! < 3 ? res.writeHead(503).end() : res.writeHead(200).end('ok'))
      if (url === '/down') return void res.writeHead(502).end()
      if (url.startsWith('/hop/')) {
        const n = Number(url.slice(5))
        return void res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/ok' }).end()
      }
      if (url === '/to-file') return void res.writeHead(302, { location: 'file:///etc/passwd' }).end()
      if (url === '/to-nowhere') return void res.writeHead(302, { location: 'http://[' }).end()
      if (url === '/big') return void res.writeHead(200).end(Buffer.alloc(2048))
      if (url === '/etag') {
        if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304, { etag: '"v1"' }).end()
        return void res.writeHead(200, { etag: '"v1"' }).end('body')
      }
      if (url === '/ok') return void res.writeHead(200).end('ok')
      if (url === '/ranged') {
        // Honours `bytes=N-` on the identity coding alone, as a static host does; anything else gets the whole file.
        const from = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1]
        const body = Buffer.from('0123456789')
        if (from === undefined || req.headers['accept-encoding'] !== 'identity') return void res.writeHead(200).end(body)
        if (Number(from) >= body.length) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end()
        return void res.writeHead(206, { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` }).end(body.subarray(Number(from)))
      }
      res.writeHead(404).end()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('retries what may pass, a bounded number of times', async () => {
    const h = createHttp({ retryDelayMs: 1 })
    expect((await h.get(`${base}/flaky`)).bytes?.toString()).toBe('ok')
    expect(hits.get('/flaky')).toBe(3)
    await expect(h.get(`${base}/down`)).rejects.toThrow(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(HTTP 502, 3 attempts\)/)
    expect(hits.get('/down')).toBe(3)
    expect((await h.get(`${base}/missing`)).status).toBe(404)
    expect(hits.get('/missing')).toBe(1)
  })

  it('asks for the bytes from an offset on, and says where the answer starts', async () => {
    const h = createHttp({ retryDelayMs: 1 })
    expect(await h.get(`${base}/ranged`, { from: 7 })).toMatchObject({ status: 206, from: 7, bytes: Buffer.from('789') })
    const whole = await h.get(`${base}/ranged`)
    expect(whole).toMatchObject({ status: 200, bytes: Buffer.from('0123456789') })
    expect(whole.from).toBeUndefined()
    expect((await h.get(`${base}/ranged`, { from: 10 })).status).toBe(416)
    expect(h.bytes).toBe(13)
  })

  it('follows up to five redirects, to http(s) only', async () => {
    const h = createHttp({ retryDelayMs: 1 })
    const answer = await h.get(`${base}/hop/4`)
    expect(answer.bytes?.toString()).toBe('ok')
    expect(answer.url).toBe(`${base}/ok`)
    await expect(h.get(`${base}/hop/5`)).rejects.toThrow(/redirected more than 5 times/)
    await expect(h.get(`${base}/to-file`)).rejects.toThrow(/only http and https URLs are followed/)
    // A Location that is no URL is the server's failure, one a caller moves on from, not a crash.
    await expect(h.get(`${base}/to-nowhere`)).rejects.toMatchObject({ code: 'FETCH_FAILED', message: expect.stringContaining('redirected to "http://[", which is not a URL') })
  })

  it('stops reading past the size it expects, and asks with the ETag it holds', async () => {
    const h = createHttp({ retryDelayMs: 1 })
    await expect(h.get(`${base}/big`, { maxBytes: 1024 })).rejects.toThrow(/larger than the 1024 bytes/)
    const first = await h.get(`${base}/etag`)
    expect(first).toMatchObject({ status: 200, etag: '"v1"' })
    expect((await h.get(`${base}/etag`, { etag: '"v1"' })).status).toBe(304)
  })

  it('never has more requests in flight than its pool allows', async () => {
    let inflight = 0
    let peak = 0
    const h = createHttp({
      concurrency: 3,
      fetch: async () => {
        inflight++
        peak = Math.max(peak, inflight)
        await new Promise((r) => setTimeout(r, 5))
        inflight--
        return new Response('x')
      },
    })
    await Promise.all(Array.from({ length: 20 }, (_, i) => h.get(`http://127.0.0.1/${i}`)))
    expect(peak).toBe(3)
    expect(h.requests).toBe(20)
  })
})
