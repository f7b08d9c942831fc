/**
 * SIGKILL during a publish, at each step of the pipeline (WHARF_TEST_CRASH_AT
 * makes the server kill itself right after that step), then a restart: the
 * version is either fully there or absent, the index passes `wharf audit`,
 * nothing is left half done, and every artifact the API names is in the store.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import type { VersionRecord } from '../../src/core/types.js'
import { listBranches, MAIN, openRepo, walkFiles } from '../../src/git/index.js'
import { CRASH_STEPS } from '../../src/serve/index.js'
import { artifactPath } from '../../src/store/index.js'
import { tempDir } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'
import { publish, serveChild, sha256, type ChildServer } from './helpers.js'

const TOKEN = 'crash-token'
const ENV = { REGISTRY_TOKENS: `crash:${TOKEN}` }
/** Steps after which main has moved: the write must survive. */
const DURABLE = new Set(['merge', 'sync', 'build', 'answer'])

describe('a publish killed at each pipeline step', () => {
  let dataDir: string
  const running: ChildServer[] = []
  afterAll(async () => {
    for (const s of running) await s.stop()
  })

  it('creates the registry on a first clean start', async () => {
    dataDir = await tempDir('wharf-crash-')
    const first = await serveChild(dataDir, ENV)
    running.push(first)
    expect((await fetch(`${first.url}/health`)).status).toBe(200)
    await first.stop()
  })

  CRASH_STEPS.forEach((step, i) => {
    it(`after "${step}" the version is ${DURABLE.has(step) ? 'fully there' : 'absent'} on restart`, async () => {
      const version = `1.0.${i}`
      const bytes = component(`crash-${step}`)
      const doomed = await serveChild(dataDir, { ...ENV, WHARF_TEST_CRASH_AT: step })
      running.push(doomed)
      const answer = await publish(doomed.url, TOKEN, { name: 'crash:pkg', version, bytes }).then(
        (r) => r.status,
        () => 'no answer',
      )
      expect(answer).toBe('no answer')
      expect(await doomed.exited).toBe('SIGKILL')

      const server = await serveChild(dataDir, ENV)
      running.push(server)
      try {
        const download = await fetch(`${server.url}/packages/crash%3Apkg/${version}/artifact.wasm`)
        const search = (await (await fetch(`${server.url}/api/v1/search?q=crash`)).json()) as { total: number; packages: { version: string }[] }
        const repo = openRepo(path.join(dataDir, 'index'))
        const recordFiles = (await walkFiles(repo, MAIN, 'index/packages/crash/pkg')).map((f) => path.basename(f.path))
        if (DURABLE.has(step)) {
          expect(download.status).toBe(200)
          expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(bytes))
          expect(recordFiles).toContain(`${version}.json`)
          expect(search.packages[0]?.version).toBe(version)
          // Republishing it now is a conflict: it is there.
          expect((await publish(server.url, TOKEN, { name: 'crash:pkg', version, bytes })).status).toBe(409)
        } else {
          expect(download.status).toBe(404)
          await download.arrayBuffer()
          expect(recordFiles).not.toContain(`${version}.json`)
          // Rolled back: the artifact it stored is gone, and the same version can be published cleanly.
          expect(fs.existsSync(artifactPath(repo.dir, sha256(bytes)))).toBe(false)
        }

        // The generated API agrees, and every download it names serves bytes with the sha256 it states.
        const listed = await fetch(`${server.url}/api/v1/packages/crash%3Apkg/versions`)
        const versions = listed.status === 200 ? ((await listed.json()) as { versions: string[] }).versions : []
        expect(versions.includes(version)).toBe(DURABLE.has(step))
        for (const v of versions) {
          const meta = (await (await fetch(`${server.url}/api/v1/packages/crash%3Apkg/${v}`)).json()) as { download_url: string; sha256: string }
          const served = await fetch(meta.download_url)
          expect(served.status, `${v} ${meta.download_url}`).toBe(200)
          expect(sha256(new Uint8Array(await served.arrayBuffer()))).toBe(meta.sha256)
        }

        // Nothing half done: no proposal branch, no journal entry, main checked out clean.
        expect(await listBranches(repo)).toEqual([MAIN])
        expect(fs.readdirSync(path.join(dataDir, 'state', 'journal')).filter((f) => f.endsWith('.json'))).toEqual([])
        const audit = await auditIndex(repo)
        expect(audit.violations).toEqual([])
        // Every artifact a record on main names is in the store.
        for (const f of await walkFiles(repo, MAIN, 'index/packages')) {
          if (f.path.endsWith('.yank.json')) continue
          const record = JSON.parse(fs.readFileSync(path.join(repo.dir, f.path), 'utf8')) as VersionRecord
          for (const a of record.artifacts) expect(fs.existsSync(artifactPath(repo.dir, a.sha256)), `${f.path} -> ${a.sha256}`).toBe(true)
        }
        if (!DURABLE.has(step)) expect((await publish(server.url, TOKEN, { name: 'crash:pkg', version, bytes })).status).toBe(201)
        expect(server.output()).toMatch(DURABLE.has(step) && step !== 'answer' && step !== 'build' ? /recovered: finished/ : /listening/)
      } finally {
        await server.stop()
      }
    })
  })
})
