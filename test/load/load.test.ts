/**
 * The short load suite (`npm test`): 4 writers and 16 readers on loopback
 * against a real `wharf serve`, 30 publishes (6 versions sent twice at
 * once), then every promise checked on the data dir: nothing lost,
 * nothing duplicated, nothing half there, the incremental output equal to a
 * full build, `wharf audit` clean, no 5xx. `npm run bench -- load` runs the
 * long form and prints its figures.
 */
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/index-repo.js'
import { serveTemp } from '../serve/helpers.js'
import { runLoad, verifyAfterLoad } from './harness.js'

describe('mixed reads and publishes', () => {
  it('loses nothing, duplicates nothing, leaves nothing half there, and never answers 5xx', async () => {
    const tokens = { alpha: 'alpha-token', beta: 'beta-token' }
    const server = await serveTemp({ tokens: Object.entries(tokens).map(([namespace, token]) => ({ namespace, token })) })
    let result: Awaited<ReturnType<typeof runLoad>>
    try {
      result = await runLoad({ url: server.url, tokens, writers: 4, readers: 16, versions: 24, duplicateEvery: 4, readerPauseMs: 10 })
    } finally {
      await server.close()
    }
    expect(result.failures).toEqual([])
    expect(Object.keys(result.statuses).filter((s) => Number(s) >= 500)).toEqual([])
    // Each distinct version landed once; each second sending of one was refused as a duplicate.
    expect(result.acknowledged.size).toBe(24)
    expect(result.attempts.filter((a) => a.status === 409)).toHaveLength(6)
    expect(result.attempts.every((a) => a.status === 201 || a.status === 409)).toBe(true)
    expect(result.reads).toBeGreaterThan(50)
    expect(await verifyAfterLoad(server.dataDir, server.url, result, await tempDir('wharf-load-'))).toEqual([])
  }, 240_000)
})
