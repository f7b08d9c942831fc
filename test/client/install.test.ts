/**
 * `wharf install` against real build-api output served by nginx: resolution
 * of a transitive graph, the lockfile, the shared cache (counted at nginx),
 * and each way a registry or a mirror can lie, refused with nothing written.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHttp, install, openCache, openReader, parseLockfile, readFeed, readFeedFile, renderLockfile, type InstallOptions } from '../../src/client/index.js'
import { isWharfError } from '../../src/core/errors.js'
import { generateKey } from '../../src/core/keys.js'
import { sha256Hex } from '../../src/core/hash.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { tempDir } from '../helpers/index-repo.js'
import { freePort } from '../helpers/net.js'
import { component } from '../helpers/wasm.js'
import { buildTo, commitPastGate, copyTree, createGraphIndex, listFiles, recordFile, signedRecord, type GraphIndex } from './helpers.js'

let graph: GraphIndex
let good: string
let nginx: Nginx
const servers: Nginx[] = []

beforeAll(async () => {
  graph = await createGraphIndex()
  good = await buildTo(graph.idx)
  nginx = await startNginx(good)
}, 120_000)

afterAll(async () => {
  await Promise.all([nginx, ...servers].map((s) => s?.stop()))
})

async function serve(root: string): Promise<Nginx> {
  const server = await startNginx(root)
  servers.push(server)
  return server
}

interface Project {
  cwd: string
  cache: string
  dir: string
  lock: string
  notes: string[]
  run(requests: string[], more?: Partial<InstallOptions>): ReturnType<typeof install>
}

/** A project directory with its own cache (or a shared one). */
async function project(registry: string, cache?: string): Promise<Project> {
  const cwd = await tempDir('wharf-project-')
  const p: Project = {
    cwd,
    cache: cache ?? (await tempDir('wharf-cache-')),
    dir: path.join(cwd, 'wasm_components'),
    lock: path.join(cwd, 'wharf.lock'),
    notes: [],
    run: (requests, more = {}) =>
      install({ registry, requests, dir: p.dir, lockfile: p.lock, cacheDir: p.cache, note: (m) => p.notes.push(m), http: { retryDelayMs: 20 }, ...more }),
  }
  return p
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; hint: string }> {
  const e = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  if (!isWharfError(e)) throw new Error(`expected a refusal, got ${e instanceof Error ? e.stack : String(e)}`)
  return { code: e.code, message: e.message, hint: e.hint ?? '' }
}

const read = (file: string) => fs.readFileSync(file)
const artifactRequests = (server: Nginx) => server.requests().filter((r) => r.includes('/artifacts/'))

describe('install from a static host', () => {
  let first: Project

  it('installs a package with its transitive dependency and pins both in wharf.lock', async () => {
    first = await project(nginx.url)
    const result = await first.run(['acme:app'])
    expect(result.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['acme:app@1.0.0', 'acme:base@0.1.0', 'acme:lib@1.1.0'])
    expect(result.packages.every((p) => p.status === 'written')).toBe(true)
    // acme:lib 1.2.0 is yanked and 2.0.0 is outside ^1.0.0: 1.1.0 is the highest that fits.
    expect(read(path.join(first.dir, 'acme-lib-1.1.0.wasm')).equals(graph.bytes.get('acme:lib@1.1.0')!)).toBe(true)
    expect(read(path.join(first.dir, 'acme-base-0.1.0.wasm')).equals(graph.bytes.get('acme:base@0.1.0')!)).toBe(true)
    expect(read(path.join(first.dir, 'acme-app-1.0.0.wasm')).equals(graph.bytes.get('acme:app@1.0.0')!)).toBe(true)
    expect(first.notes.join('\n')).toMatch(/trusting .* on first use with key/)

    const lock = parseLockfile(fs.readFileSync(first.lock, 'utf8'), first.lock)
    expect(lock.requires).toEqual(['acme:app@^1.0.0'])
    expect(lock.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['acme:app@1.0.0', 'acme:base@0.1.0', 'acme:lib@1.1.0'])
    const lib = lock.packages.find((p) => p.name === 'acme:lib')!
    expect(lib.sha256).toBe(sha256Hex(graph.bytes.get('acme:lib@1.1.0')!))
    expect(lib.record).toBe(`sha256:${sha256Hex(read(path.join(good, 'index/packages/acme/lib/1.1.0.json')))}`)
    expect(lib.source).toBe(`${nginx.url}/artifacts/sha256/${lib.sha256}`)
    expect(lock.packages.find((p) => p.name === 'acme:app')!.dependencies).toEqual(['acme:lib@1.1.0'])
    expect(lib.dependencies).toEqual(['acme:base@0.1.0'])
    // Stable: the same lock renders to the same bytes.
    expect(renderLockfile(lock)).toBe(fs.readFileSync(first.lock, 'utf8'))
    // Cold: one request per document and artifact, none twice.
    const lines = nginx.requests()
    expect(new Set(lines).size).toBe(lines.length)
    expect(artifactRequests(nginx)).toHaveLength(3)
  })

  it('installs the lockfile again with no artifact request: from the directory, then from the shared cache', async () => {
    const before = nginx.requests().length
    const again = await first.run([])
    expect(again.packages.every((p) => p.status === 'unchanged')).toBe(true)
    expect(again.lockChanged).toBe(false)
    // Only the snapshot is asked for, and nginx answers 304: nothing else changed.
    expect(nginx.requests().slice(before)).toEqual(['GET /snapshot.json HTTP/1.1'])
    expect(again.requests).toBe(1)

    // Another project with the same lockfile and the same cache: the artifacts come from the cache.
    const other = await project(nginx.url, first.cache)
    fs.copyFileSync(first.lock, other.lock)
    const mark = nginx.requests().length
    const fromCache = await other.run([], { frozen: true })
    expect(fromCache.packages.every((p) => p.status === 'written')).toBe(true)
    expect(nginx.requests().slice(mark).filter((r) => r.includes('/artifacts/'))).toEqual([])
    expect(read(path.join(other.dir, 'acme-app-1.0.0.wasm')).equals(graph.bytes.get('acme:app@1.0.0')!)).toBe(true)

    // A checkout that wrote the lockfile with CRLF line ends (git's autocrlf) pins the same: --frozen passes, the file stays.
    const crlf = fs.readFileSync(first.lock, 'utf8').replaceAll('\n', '\r\n')
    fs.writeFileSync(other.lock, crlf)
    const frozen = await other.run([], { frozen: true })
    expect(frozen.lockChanged).toBe(false)
    expect(fs.readFileSync(other.lock, 'utf8')).toBe(crlf)
  })

  it('installs offline from the cache alone, and says what the cache lacks', async () => {
    const offline = await project(nginx.url, first.cache)
    const mark = nginx.requests().length
    const result = await offline.run(['acme:app@^1'], { offline: true })
    expect(result.packages.map((p) => p.version)).toEqual(['1.0.0', '0.1.0', '1.1.0'])
    expect(result.requests).toBe(0)
    expect(nginx.requests().length).toBe(mark)
    const missing = await project(nginx.url, first.cache)
    const refused = await refusal(missing.run(['acme:calc'], { offline: true }))
    expect(refused.code).toBe('OFFLINE_MISSING')
    expect(await listFiles(missing.cwd)).toEqual([])
  })

  it('adds a package without moving the others, and --frozen refuses to change the lock', async () => {
    const frozen = await refusal(first.run(['acme:calc'], { frozen: true }))
    expect(frozen.code).toBe('FROZEN')
    expect(frozen.message).toContain('adds acme:calc@1.0.0')
    const result = await first.run(['acme:calc'])
    expect(result.packages.map((p) => `${p.name}@${p.version}:${p.status}`)).toEqual([
      'acme:app@1.0.0:unchanged',
      'acme:base@0.1.0:unchanged',
      'acme:calc@1.0.0:written',
      'acme:lib@1.1.0:unchanged',
    ])
    expect(parseLockfile(fs.readFileSync(first.lock, 'utf8'), first.lock).requires).toEqual(['acme:app@^1.0.0', 'acme:calc@^1.0.0'])
  })

  it('installs a yanked version only when the lockfile pins it', async () => {
    const p = await project(nginx.url)
    const refused = await refusal(p.run(['acme:lib@=1.2.0']))
    expect(refused.code).toBe('NO_MATCHING_VERSION')
    expect(refused.hint).toContain('1.2.0 is yanked')
    expect(await listFiles(p.cwd)).toEqual([])

    const lock = parseLockfile(fs.readFileSync(first.lock, 'utf8'), first.lock)
    const yanked = graph.bytes.get('acme:lib@1.2.0')!
    const pinned = {
      ...lock,
      packages: lock.packages.map((e) =>
        e.name === 'acme:lib'
          ? { ...e, version: '1.2.0', file: 'acme-lib-1.2.0.wasm', sha256: sha256Hex(yanked), size: yanked.length, record: `sha256:${sha256Hex(read(path.join(good, 'index/packages/acme/lib/1.2.0.json')))}` }
          : e,
      ),
    }
    fs.writeFileSync(p.lock, renderLockfile(pinned))
    const result = await p.run([], { frozen: true })
    expect(result.packages.find((e) => e.name === 'acme:lib')!.version).toBe('1.2.0')
    expect(read(path.join(p.dir, 'acme-lib-1.2.0.wasm')).equals(yanked)).toBe(true)
  })

  it('names close packages for an unknown one, and the available versions when none matches', async () => {
    const p = await project(nginx.url)
    const unknown = await refusal(p.run(['acme:ap']))
    expect(unknown.code).toBe('UNKNOWN_PACKAGE')
    expect(unknown.message).toContain('acme:ap is not in the registry')
    expect(unknown.hint).toContain('acme:app')
    const none = await refusal(p.run(['acme:lib@^3']))
    expect(none.code).toBe('NO_MATCHING_VERSION')
    expect(none.message).toContain('available: 1.0.0, 1.1.0, 2.0.0')
    expect(await listFiles(p.cwd)).toEqual([])
  })

  it('installs what the lockfile pins only from the registry it was resolved against', async () => {
    const other = await serve(await copyTree(good))
    const p = await project(other.url)
    fs.writeFileSync(p.lock, fs.readFileSync(first.lock))
    const refused = await refusal(p.run([]))
    expect(refused.code).toBe('USAGE')
    expect(refused.message).toBe(`wharf.lock was resolved against ${nginx.url}, and the registry is now ${other.url}`)
    expect(refused.hint).toContain(`--registry ${nginx.url}`)
    expect(await listFiles(p.cwd)).toEqual(['wharf.lock'])
    // Naming the packages resolves them again, against the registry given.
    expect((await p.run(['acme:app'])).registry).toBe(other.url)
  })

  it('refuses a lockfile whose record digest the registry no longer serves', async () => {
    const p = await project(nginx.url)
    const lock = parseLockfile(fs.readFileSync(first.lock, 'utf8'), first.lock)
    const altered = { ...lock, packages: lock.packages.map((e) => (e.name === 'acme:base' ? { ...e, record: `sha256:${'0'.repeat(64)}` } : e)) }
    fs.writeFileSync(p.lock, renderLockfile(altered))
    const refused = await refusal(p.run([]))
    expect(refused.code).toBe('LOCK_MISMATCH')
    expect(refused.message).toContain(`the lockfile has sha256 ${'0'.repeat(64)}`)
    expect(await listFiles(p.dir)).toEqual([])
    // Naming another package resolves again, and still holds the registry to what the lockfile pins.
    const withId = await refusal(p.run(['acme:calc']))
    expect(withId.code).toBe('LOCK_MISMATCH')
    expect(withId.message).toContain(`the record of acme:base@0.1.0 changed: the lockfile has sha256 ${'0'.repeat(64)}`)
    expect(await listFiles(p.dir)).toEqual([])
    expect(fs.readFileSync(p.lock, 'utf8')).toBe(renderLockfile(altered))
  })
})

describe('what a registry or mirror must not get away with', () => {
  /** Installs acme:app from `url` into a fresh project; expects a refusal and an untouched project. */
  async function refused(url: string, request = 'acme:app', more: Partial<InstallOptions> = {}) {
    const p = await project(url)
    const result = await refusal(p.run([request], more))
    expect(await listFiles(p.cwd)).toEqual([])
    return result
  }

  it('a tampered artifact: the file and both digests are named', async () => {
    const copy = await copyTree(good)
    const lib = sha256Hex(graph.bytes.get('acme:lib@1.1.0')!)
    fs.writeFileSync(path.join(copy, 'artifacts/sha256', lib), component('evil'))
    const host = await serve(copy)
    const r = await refused(host.url)
    expect(r.code).toBe('DIGEST_MISMATCH')
    expect(r.message).toContain(`artifacts/sha256/${lib} has sha256 ${sha256Hex(component('evil'))}`)
    expect(r.message).toContain(`its signed record says ${lib}`)
    expect(r.message).toContain('acme:lib@1.1.0')
  })

  it('a record whose signature no longer verifies, in a snapshot the registry signed', async () => {
    const lib = JSON.parse(read(path.join(good, 'index/packages/acme/lib/1.1.0.json')).toString('utf8'))
    await commitPastGate(graph.idx, 'fault/altered-record', [recordFile({ ...lib, description: 'quietly changed' })])
    const host = await serve(await buildTo(graph.idx, { ref: 'fault/altered-record' }))
    const r = await refused(host.url)
    expect(r.code).toBe('SIGNATURE_INVALID')
    expect(r.message).toContain('acme:lib@1.1.0')
    expect(r.message).toContain('does not match the content')
  })

  it('a record signed by a key its namespace does not list', async () => {
    const stranger = generateKey()
    const rogue = await signedRecord(graph.idx, { name: 'acme:rogue', version: '1.0.0', bytes: component('rogue'), key: stranger })
    await commitPastGate(graph.idx, 'fault/foreign-key', [recordFile(rogue)])
    const host = await serve(await buildTo(graph.idx, { ref: 'fault/foreign-key' }))
    const r = await refused(host.url, 'acme:rogue')
    expect(r.code).toBe('SIGNATURE_INVALID')
    expect(r.message).toContain(`key ${stranger.id} is not one of the trusted keys`)
    expect(r.hint).toContain(graph.idx.key.id)
  })

  it('an expired snapshot', async () => {
    const host = await serve(await buildTo(graph.idx, { now: new Date(Date.now() - 8 * 24 * 3600 * 1000) }))
    const r = await refused(host.url)
    expect(r.code).toBe('SNAPSHOT_EXPIRED')
    expect(r.message).toMatch(/expired at \d{4}-/)
  })

  it('an older snapshot served after a newer one', async () => {
    const older = await buildTo(graph.idx, { now: new Date(Date.now() - 3600 * 1000) })
    const newer = await buildTo(graph.idx)
    // nginx's ETag is mtime and size: two builds in one second could share it, and a 304 would keep the newer copy.
    const hourAgo = new Date(Date.now() - 3600 * 1000)
    fs.utimesSync(path.join(older, 'snapshot.json'), hourAgo, hourAgo)
    const root = path.join(await tempDir('wharf-swap-'), 'current')
    fs.symlinkSync(newer, root)
    const host = await serve(root)
    const seen = await project(host.url)
    await seen.run(['acme:app'])
    // The host now serves the older copy at the same URL (a rollback, or a frozen mirror).
    fs.rmSync(root)
    fs.symlinkSync(older, root)
    const again = await project(host.url, seen.cache)
    const r = await refusal(again.run(['acme:app']))
    expect(r.code).toBe('SNAPSHOT_ROLLBACK')
    expect(r.message).toContain('older than the one this client already saw')
    expect(await listFiles(again.cwd)).toEqual([])
  })

  it('a pinned key the snapshot is not signed with', async () => {
    const other = generateKey()
    const r = await refused(nginx.url, 'acme:app', { keys: [{ id: other.id, public_key: other.publicKey }] })
    expect(r.code).toBe('SIGNATURE_INVALID')
    expect(r.message).toContain('snapshot')
  })

  it('a key on first use that signs nothing it serves: refused, and not kept as trusted', async () => {
    const copy = await copyTree(good)
    const configFile = path.join(copy, 'config.json')
    const honest = read(configFile)
    const other = generateKey()
    const config = JSON.parse(honest.toString('utf8')) as { keys: { id: string; public_key: string }[] }
    fs.writeFileSync(configFile, JSON.stringify({ ...config, keys: [{ id: other.id, public_key: other.publicKey }] }))
    const host = await serve(copy)
    const p = await project(host.url)
    const r = await refusal(p.run(['acme:app']))
    expect(r.code).toBe('SIGNATURE_INVALID')
    expect(r.hint).not.toContain('trust.json')
    expect(p.notes.join('\n')).not.toContain('trusting')
    // Once the registry serves its real key, the same cache learns it: the wrong one was never pinned.
    fs.writeFileSync(configFile, honest)
    const result = await p.run(['acme:app'])
    expect(result.packages).toHaveLength(3)
    expect(p.notes.join('\n')).toMatch(/trusting .* on first use with key/)
  })

  it('an unreachable registry, after bounded retries', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const r = await refused(dead)
    expect(r.code).toBe('UNREACHABLE')
    expect(r.message).toContain('3 attempts')
  })
})

describe('mirrors', () => {
  const registryKeys = () => (JSON.parse(read(path.join(good, 'config.json')).toString('utf8')) as { keys: { id: string; public_key: string }[] }).keys.map((k) => ({ id: k.id, public_key: k.public_key }))

  it('uses a mirror when the registry is down, verified with the registry key', async () => {
    const mirror = await serve(await copyTree(good))
    const dead = `http://127.0.0.1:${await freePort()}`
    const p = await project(dead)
    const result = await p.run(['acme:app'], { mirrors: [mirror.url], keys: registryKeys() })
    expect(result.source).toBe(mirror.url)
    expect(result.packages).toHaveLength(3)
    expect(read(path.join(p.dir, 'acme-app-1.0.0.wasm')).equals(graph.bytes.get('acme:app@1.0.0')!)).toBe(true)
    // The lockfile names the registry, not the mirror that happened to serve.
    const lock = parseLockfile(fs.readFileSync(p.lock, 'utf8'), p.lock)
    expect(lock.registry).toBe(dead)
    expect(lock.packages.every((e) => e.source.startsWith(`${dead}/artifacts/sha256/`))).toBe(true)
    expect(artifactRequests(mirror)).toHaveLength(3)
  })

  it('refuses a tampered mirror', async () => {
    const copy = await copyTree(good)
    const doc = path.join(copy, 'api/v1/packages/acme:lib/versions')
    const versions = JSON.parse(fs.readFileSync(doc, 'utf8'))
    fs.writeFileSync(doc, JSON.stringify({ ...versions, yanked: [] }))
    const mirror = await serve(copy)
    const dead = `http://127.0.0.1:${await freePort()}`
    const p = await project(dead)
    const r = await refusal(p.run(['acme:app'], { mirrors: [mirror.url], keys: registryKeys() }))
    expect(r.code).toBe('DIGEST_MISMATCH')
    expect(r.message).toContain('api/v1/packages/acme%3Alib/versions')
    expect(r.message).toContain('the snapshot says')
    expect(await listFiles(p.cwd)).toEqual([])
  })

  it('does not trust a mirror for the first key: a registry never reached needs a pinned key', async () => {
    const mirror = await serve(await copyTree(good))
    const dead = `http://127.0.0.1:${await freePort()}`
    const p = await project(dead)
    const r = await refusal(p.run(['acme:app'], { mirrors: [mirror.url] }))
    expect(r.code).toBe('UNREACHABLE')
    expect(await listFiles(p.cwd)).toEqual([])
  })
})

describe('the change feed, for peers', () => {
  it('reads the entries after a cursor, each page and file verified', async () => {
    const reader = await openReader({ url: nginx.url, http: createHttp(), cache: openCache(await tempDir('wharf-cache-')) })
    const all = await readFeed(reader)
    expect(all.entries.map((e) => `${e.type} ${e.name}@${e.version}`)).toEqual([
      'publish acme:base@0.1.0',
      'publish acme:lib@1.0.0',
      'publish acme:lib@1.1.0',
      'publish acme:lib@1.2.0',
      'publish acme:lib@2.0.0',
      'publish acme:app@1.0.0',
      'publish acme:calc@1.0.0',
      'yank acme:lib@1.2.0',
    ])
    expect(all.seq).toBe(8)
    const since = await readFeed(reader, 6)
    expect(since.entries.map((e) => e.seq)).toEqual([7, 8])
    const file = await readFeedFile(reader, since.entries[1]!)
    expect(JSON.parse(file.toString('utf8'))).toMatchObject({ schema: 'wharf:yank/v1', name: 'acme:lib', version: '1.2.0' })
    await expect(readFeed(reader, 9)).rejects.toThrow(/ends at 8, before the cursor 9/)
  })

  it('refuses a feed page a mirror altered', async () => {
    const copy = await copyTree(good)
    const page = path.join(copy, 'api/v1/feed/0.json')
    fs.writeFileSync(page, fs.readFileSync(page, 'utf8').replace('"acme:calc"', '"acme:evil"'))
    const mirror = await serve(copy)
    const reader = await openReader({ url: mirror.url, http: createHttp(), cache: openCache(await tempDir('wharf-cache-')) })
    await expect(readFeed(reader)).rejects.toThrow(/api\/v1\/feed\/0\.json has sha256 [0-9a-f]{64}, but the snapshot says/)
  })
})
