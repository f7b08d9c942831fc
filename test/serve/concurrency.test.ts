/** Writes are serialised: many publishes at once all land, and a version sent many times lands once. */
import { describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { openRepo } from '../../src/git/index.js'
import { component } from '../helpers/wasm.js'
import { publish, serveTemp } from './helpers.js'

describe('concurrent publishes', () => {
  it('lands 50 distinct versions and exactly one of 10 identical ones', async () => {
    const server = await serveTemp({ tokens: [{ namespace: 'load', token: 'load-token' }] })
    try {
      const distinct = Array.from({ length: 50 }, (_, i) => publish(server.url, 'load-token', { name: 'load:many', version: `1.0.${i}`, bytes: component(`many-${i}`) }))
      const same = Array.from({ length: 10 }, (_, i) => publish(server.url, 'load-token', { name: 'load:once', version: '1.0.0', bytes: component(`once-${i}`) }))
      const [a, b] = await Promise.all([Promise.all(distinct), Promise.all(same)])
      expect(a.map((r) => r.status)).toEqual(Array(50).fill(201))
      const statuses = b.map((r) => r.status).sort()
      expect(statuses).toEqual([201, ...Array(9).fill(409)])
      const bodies = await Promise.all(b.map((r) => r.json() as Promise<{ code?: string }>))
      expect(bodies.filter((x) => x.code === 'VERSION_EXISTS')).toHaveLength(9)

      const stats = (await (await fetch(`${server.url}/api/v1/stats`)).json()) as { package_count: number; version_count: number }
      expect(stats).toMatchObject({ package_count: 2, version_count: 51 })
      const search = (await (await fetch(`${server.url}/api/v1/search?q=load`)).json()) as { total: number }
      expect(search.total).toBe(2)
      // The winner of the ten is the one whose bytes are served.
      const winner = b.findIndex((r) => r.status === 201)
      const download = Buffer.from(await (await fetch(`${server.url}/packages/load%3Aonce/1.0.0/artifact.wasm`)).arrayBuffer())
      expect(download.equals(component(`once-${winner}`))).toBe(true)
      const audit = await auditIndex(openRepo(server.registry.repo.dir))
      expect(audit.violations).toEqual([])
      expect(audit.records).toBe(51)
    } finally {
      await server.close()
    }
  })
})
