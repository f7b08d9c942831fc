/**
 * Limits a flood cannot turn against honest clients: writes are charged after
 * authentication, so requests without a valid token spend only their own,
 * smaller budget (per address and in all); and every cache is bounded by
 * entries and bytes, so 20,000 requests for distinct missing long paths leave
 * a server with a 64 MB heap standing and its memory where it was.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import { describe, expect, it } from 'vitest'
import { createLru } from '../../src/serve/lru.js'
import { CACHE_LIMITS } from '../../src/serve/static.js'
import { createRateLimiter } from '../../src/serve/rate-limit.js'
import { WHARF } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'
import { publish, serveTemp } from './helpers.js'

/** A POST from a chosen loopback address (127.0.0.0/8 all reach the server on 127.0.0.1). */
function postFrom(url: string, from: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/v1/packages`, { method: 'POST', localAddress: from, headers: { 'content-length': '0', ...headers } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, ...(res.headers['retry-after'] ? { retryAfter: String(res.headers['retry-after']) } : {}) }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('write budgets', () => {
  it('charges a flood without a valid token to its own budget: the token holder still publishes', async () => {
    // 16 writes a minute for token holders (4 each); 4 a minute in all without a token, 1 per address.
    const server = await serveTemp({ rateLimitPerMin: 16, tokens: [{ namespace: 'acme', token: 'acme-token' }] })
    try {
      const flood = await Promise.all(Array.from({ length: 60 }, (_, i) => postFrom(server.url, '127.0.0.1', i % 2 ? { authorization: 'Bearer wrong' } : {})))
      expect(flood.filter((r) => r.status === 401)).toHaveLength(1)
      expect(flood.filter((r) => r.status === 429)).toHaveLength(59)
      expect(Number(flood.find((r) => r.status === 429)!.retryAfter)).toBeGreaterThanOrEqual(1)
      // Each address has its own share of the anonymous budget, until the budget in all is spent.
      expect((await postFrom(server.url, '127.0.0.2')).status).toBe(401)
      expect((await postFrom(server.url, '127.0.0.3')).status).toBe(401)
      expect((await postFrom(server.url, '127.0.0.4')).status).toBe(401)
      expect((await postFrom(server.url, '127.0.0.5')).status).toBe(429)
      // None of it touched the token holder's budget.
      for (const version of ['1.0.0', '1.0.1', '1.0.2', '1.0.3']) expect((await publish(server.url, 'acme-token', { name: 'acme:lib', version })).status).toBe(201)
      const spent = await publish(server.url, 'acme-token', { name: 'acme:lib', version: '1.0.4' })
      expect(spent.status).toBe(429)
      expect(((await spent.json()) as { error: string }).error).toMatch(/too many writes/)
    } finally {
      await server.close()
    }
  })

  it('remembers a bounded number of clients, forgetting the least recent', () => {
    const limiter = createRateLimiter({ globalPerMin: 1_000_000, clientPerMin: 1, maxClients: 100 })
    const t = Date.now()
    for (let i = 0; i < 1000; i++) expect(limiter.take(`client-${i}`, t)).toBe(0)
    expect(limiter.size()).toBe(100)
    expect(limiter.take('client-999', t)).toBeGreaterThan(0)
  })
})

describe('bounded caches', () => {
  it('holds at most its entries and bytes, least recently used out first', () => {
    const lru = createLru<string, number>({ maxEntries: 3, maxBytes: 100 })
    lru.set('a', 1, 10)
    lru.set('b', 2, 10)
    lru.set('c', 3, 10)
    expect(lru.get('a')).toBe(1)
    lru.set('d', 4, 10)
    expect([lru.has('a'), lru.has('b'), lru.has('c'), lru.has('d')]).toEqual([true, false, true, true])
    lru.set('e', 5, 90)
    expect(lru.bytes).toBeLessThanOrEqual(100)
    expect(lru.has('e')).toBe(true)
    lru.set('huge', 6, 101)
    expect(lru.has('huge')).toBe(false)
  })

  it('keeps its cache counters within their limits past the bound of missing paths', async () => {
    const server = await serveTemp()
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
      // ~8 kB a miss: 2,000 are four times what the misses may hold.
      await flood(server.url, agent, 2_000, 4_000)
      agent.destroy()
      const stats = server.registry.statics.stats()
      for (const cache of ['files', 'misses', 'targets'] as const) {
        expect(stats[cache].entries, cache).toBeLessThanOrEqual(CACHE_LIMITS[cache].maxEntries)
        expect(stats[cache].bytes, cache).toBeLessThanOrEqual(CACHE_LIMITS[cache].maxBytes)
      }
      // The misses were remembered, up to the bound, and pushed nothing else out.
      expect(stats.misses.bytes).toBeGreaterThan(CACHE_LIMITS.misses.maxBytes / 2)
    } finally {
      await server.close()
    }
  }, 120_000)

  it('serves them all from a 64 MB heap, and its RSS stays within bounds', async () => {
    const dataDir = await tempDir('wharf-serve-caches-')
    const child = spawn(process.execPath, ['--max-old-space-size=64', WHARF, 'serve'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REGISTRY_DATA_DIR: dataDir, REGISTRY_RATE_LIMIT_PER_MIN: '100000' },
      // Its log (one line per request, each with a 4 kB path) is read and dropped, not kept.
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? String(code))))
    let head = ''
    const url = await new Promise<string>((resolve, reject) => {
      const look = (d: Buffer) => {
        if (head.length < 64 * 1024) head += d.toString()
        const m = /listening on (http:\/\/\S+)/.exec(head)
        if (m) resolve(m[1]!)
      }
      child.stdout!.on('data', look)
      child.stderr!.on('data', look)
      void exited.then((how) => reject(new Error(`serve exited (${how}):\n${head}`)))
    })
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
      await get(url, agent, '/health')
      const before = rssKb(child.pid!)
      await flood(url, agent, 20_000, 4_000)
      expect((await get(url, agent, '/health')).status).toBe(200)
      agent.destroy()
      const after = rssKb(child.pid!)
      expect(child.exitCode).toBeNull()
      // Unbounded, the 404s alone would hold ~160 MB (and a 64 MB heap would not survive them); bounded, 4 MB.
      expect(after - before).toBeLessThan(64 * 1024)
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  }, 240_000)
})

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1])
}

function get(url: string, agent: http.Agent, target: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${target}`, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode! }))
    })
    req.on('error', reject)
  })
}

/** `count` GETs of distinct missing paths of about `length` bytes, 16 at a time; each must be a 404. */
async function flood(url: string, agent: http.Agent, count: number, length: number): Promise<void> {
  const segment = 'x'.repeat(199)
  const stem = `/api/v1/packages/${Array.from({ length: Math.floor(length / 200) }, () => segment).join('/')}`
  let next = 0
  const statuses = new Map<number, number>()
  const worker = async () => {
    while (next < count) {
      const i = next++
      const { status } = await get(url, agent, `${stem}/${i}`)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  expect(Object.fromEntries(statuses)).toEqual({ 404: count })
}
