/**
 * What a sync pays for a peer's change feed. A feed page only grows at its
 * end, so a follower asks for the bytes after the copy it holds (Range),
 * and one new version costs the bytes of its feed entry however full the
 * tail page is: counted here in nginx's access log ($body_bytes_sent). A
 * tail page the host altered, or the peer rewrote, is never taken on trust,
 * and a host that ignores Range costs the whole page, verified.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { feedPagePath } from '../../src/api/index.js'
import { createHttp, openCache, openReader, readFeed } from '../../src/client/index.js'
import { MAIN, resolveCommit, type Repo } from '../../src/git/index.js'
import { syncIndex } from '../../src/sync/index.js'
import type { Served } from '../fixtures/api/nginx.js'
import { tempDir } from '../helpers/index-repo.js'
import { createFollower, startSyntheticPeer, type SyntheticPeer } from './helpers.js'

const PAGE = `/${feedPagePath(0)}`
const isFeed = (s: Served) => s.request.includes(' /api/v1/feed/')
const sum = (served: Served[]) => served.reduce((n, s) => n + s.bytes, 0)

describe('the feed bytes of one new version', () => {
  const peers: SyntheticPeer[] = []
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.stop()))
  })

  /** A peer of `versions` synthetic versions, a follower synced to it, then one new version on it, synced: what nginx served for that sync. */
  async function oneNewVersion(versions: number) {
    const parent = await tempDir('wharf-feed-bytes-')
    const peer = await startSyntheticPeer(versions, parent)
    peers.push(peer)
    const b = await createFollower(path.join(parent, 'b'), peer.url)
    expect((await syncIndex({ repo: b })).added.map((e) => e.version)).toEqual(['1.0.1'])
    await peer.release()
    const logged = peer.nginx.served().length
    const result = await syncIndex({ repo: b })
    expect(result.failed).toEqual([])
    expect(result.added.map((e) => `${e.name}@${e.version}`)).toEqual(['acme:calc@1.0.2'])
    const served = peer.nginx.served().slice(logged)
    return { served, tail: result.peers[0]!.to, bytes: result.peers[0]!.bytes, requests: result.peers[0]!.requests }
  }

  it('are a small constant, whether the tail page holds a few entries or 900', async () => {
    const few = await oneNewVersion(1)
    const many = await oneNewVersion(900)
    expect(few.tail).toBeLessThan(10)
    expect(many.tail).toBeGreaterThan(900)
    for (const run of [few, many]) {
      // The client counts the body bytes nginx says it sent: no byte goes uncounted.
      expect(run.bytes).toBe(sum(run.served))
      expect(run.requests).toBe(run.served.length)
      // The tail page answered with what it grew by: one entry, a few hundred bytes, not the page.
      const page = run.served.filter((s) => s.request.startsWith(`GET ${PAGE} `))
      expect(page).toEqual([{ request: `GET ${PAGE} HTTP/1.1`, status: 206, bytes: expect.any(Number) }])
      expect(page[0]!.bytes).toBeLessThan(1024)
      expect(sum(run.served.filter(isFeed))).toBeLessThan(2048)
    }
    // Beyond snapshot.json (which lists one part per 256th of the peer's files, up to 256), the same bytes and requests.
    const rest = (run: typeof few) => sum(run.served.filter((s) => !s.request.startsWith('GET /snapshot.json ')))
    expect(Math.abs(rest(many) - rest(few))).toBeLessThan(128)
    expect(many.requests).toBe(few.requests)
  }, 240_000)
})

describe('a tail page B read before', () => {
  let parent: string
  let peer: SyntheticPeer
  let b: Repo
  const pageFile = () => path.join(fs.realpathSync(peer.out), feedPagePath(0))
  /** `text` with `from` replaced by `to` (as long) at its first (or last) occurrence. */
  const swap = (text: string, from: string, to: string, last = false) => {
    expect(to.length).toBe(from.length)
    const at = last ? text.lastIndexOf(from) : text.indexOf(from)
    expect(at).toBeGreaterThan(0)
    return text.slice(0, at) + to + text.slice(at + from.length)
  }
  const pageRequests = (from: number) => peer.nginx.served().slice(from).filter((s) => s.request.startsWith(`GET ${PAGE} `)).map((s) => s.status)

  beforeAll(async () => {
    parent = await tempDir('wharf-feed-tamper-')
    peer = await startSyntheticPeer(1, parent)
    b = await createFollower(path.join(parent, 'b'), peer.url)
    expect((await syncIndex({ repo: b })).added).toHaveLength(1)
  }, 120_000)
  afterAll(async () => {
    await peer?.stop()
  })

  it('is built from the bytes B verified before when the host alters what came before: those bytes are never asked for, and a reader without them refuses the page', async () => {
    await peer.release()
    const honest = fs.readFileSync(pageFile(), 'utf8')
    fs.writeFileSync(pageFile(), swap(honest, '"version": "1.0.1"', '"version": "6.6.6"'))
    const logged = peer.nginx.served().length
    const result = await syncIndex({ repo: b })
    expect(result.failed).toEqual([])
    expect(result.added.map((e) => e.version)).toEqual(['1.0.2'])
    expect(pageRequests(logged)).toEqual([206])
    // A reader holding no earlier copy reads the page whole, and refuses it.
    const fresh = await openReader({ url: peer.url, http: createHttp(), cache: openCache(await tempDir('wharf-cache-')) })
    await expect(readFeed(fresh)).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringMatching(/api\/v1\/feed\/0\.json has sha256 [0-9a-f]{64}, but the snapshot says/) })
    fs.writeFileSync(pageFile(), honest)
  })

  it('is read whole when the bytes it grew by are altered, refused, and B changes nothing until the host serves the signed page', async () => {
    await peer.release()
    const honest = fs.readFileSync(pageFile(), 'utf8')
    fs.writeFileSync(pageFile(), swap(honest, '"version": "1.0.3"', '"version": "6.6.6"', true))
    const before = await resolveCommit(b, MAIN)
    const logged = peer.nginx.served().length
    const refused = await syncIndex({ repo: b })
    expect(refused.added).toEqual([])
    expect(refused.failed).toEqual([expect.objectContaining({ peer: 'a', code: 'DIGEST_MISMATCH', error: expect.stringMatching(/api\/v1\/feed\/0\.json has sha256 [0-9a-f]{64}, but the snapshot says/) })])
    // The range first, then the whole page, which does not verify either.
    expect(pageRequests(logged)).toEqual([206, 200])
    expect(await resolveCommit(b, MAIN)).toBe(before)
    fs.writeFileSync(pageFile(), honest)
    const repaired = await syncIndex({ repo: b })
    expect(repaired.failed).toEqual([])
    expect(repaired.added.map((e) => e.version)).toEqual(['1.0.3'])
  })

  it('is read whole, and verified, from a host that ignores Range', async () => {
    await peer.release()
    // A proxy in front of the host that drops the Range header: nginx then answers 200 with the whole page.
    const noRange = (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers)
      headers.delete('range')
      return fetch(input, { ...init, headers })
    }
    const logged = peer.nginx.served().length
    const result = await syncIndex({ repo: b, fetch: noRange })
    expect(result.failed).toEqual([])
    expect(result.added.map((e) => e.version)).toEqual(['1.0.4'])
    expect(pageRequests(logged)).toEqual([200])
  })

  it('is read whole again, and verified, when the peer itself rewrote what came before', async () => {
    // The peer's tip made again (same tree and parents, another commit time and id): the feed entry of 1.0.4
    // keeps its length but not its bytes, and the next full build signs the page with the new entry after it.
    const git = (...args: string[]) => execFileSync('git', ['-C', peer.repo.dir, ...args], { encoding: 'utf8' }).trim()
    const tip = await resolveCommit(peer.repo, MAIN)
    const parents = git('rev-list', '--parents', '-n', '1', tip).split(' ').slice(1)
    const again = git('commit-tree', `${tip}^{tree}`, ...parents.flatMap((p) => ['-p', p]), '-m', 'Merge again')
    git('update-ref', `refs/heads/${MAIN}`, again, tip)
    await peer.release({ full: true })
    const logged = peer.nginx.served().length
    const result = await syncIndex({ repo: b })
    expect(result.failed).toEqual([])
    expect(result.added.map((e) => e.version)).toEqual(['1.0.5'])
    expect(pageRequests(logged)).toEqual([206, 200])
  })
})
