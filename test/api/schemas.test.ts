/**
 * schemas/ describes every file build-api writes: each file of a built API
 * (components, a crate, a yank, a report, two namespaces) validates against
 * the schema its path names, and no file is of a kind the schemas do not know.
 */
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { sha256Hex } from '../../src/core/hash.js'
import { parsePrivateKey } from '../../src/core/keys.js'
import { schemaErrors, type SchemaName } from '../../src/core/schemas.js'
import { checkVersion } from '../../src/core/versions.js'
import { MAIN, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { mergeProposal } from '../../src/publish/index.js'
import { readTree } from '../fixtures/api/tree.js'
import { createTestIndex, tempDir } from '../helpers/index-repo.js'

/** The schema of a file of the built API, by its path; 'bytes' for artifacts, 'lines' for Cargo index files. */
function schemaFor(file: string): SchemaName | 'bytes' | 'lines' | 'report' | undefined {
  const fixed: Record<string, SchemaName> = {
    health: 'api-health',
    'config.json': 'config',
    '.well-known/wasm-pkg/registry.json': 'api-well-known',
    '.wharf/build.json': 'api-build-state',
    'snapshot.json': 'snapshot',
    'cargo/config.json': 'cargo-config',
    'api/v1/stats': 'api-stats',
    'api/v1/packages.json': 'api-packages',
    'api/v1/namespaces.json': 'api-namespaces',
    'api/v1/feed/head.json': 'api-feed-head',
    'api/v1/search-index/index.json': 'api-search-index',
    'index/registry.json': 'registry',
  }
  if (fixed[file]) return fixed[file]
  if (/^snapshot\/[0-9a-f]{2}\.json$/.test(file)) return 'snapshot-part'
  if (/^snapshot\/[0-9a-f]{2}\/[0-9a-f]\.json$/.test(file)) return 'snapshot-leaf'
  if (/^artifacts\/sha256\/[0-9a-f]{64}$/.test(file)) return 'bytes'
  if (/^cargo\/(1|2|3\/[a-z0-9_-]|[a-z0-9_-]{2}\/[a-z0-9_-]{2})\/[a-z0-9_-]+$/.test(file)) return 'lines'
  if (/^api\/v1\/namespaces\/[a-z][a-z0-9-]*$/.test(file)) return 'api-namespace'
  if (/^api\/v1\/crates\/[a-z][a-z0-9-]*$/.test(file)) return 'api-crate'
  if (/^api\/v1\/dependents\/[a-z][a-z0-9-]*:.+\.json$/.test(file)) return 'api-dependents'
  if (/^api\/v1\/feed\/\d+\.json$/.test(file)) return 'api-feed-page'
  if (/^api\/v1\/package-list\/\d+\.json$/.test(file)) return 'api-package-list-page'
  if (/^api\/v1\/search-index\/[0-9a-f]\.json$/.test(file)) return 'api-search-shard'
  if (/^api\/v1\/packages\/[a-z][a-z0-9-]*:.+\/versions$/.test(file)) return 'api-versions'
  if (/^api\/v1\/packages\/[a-z][a-z0-9-]*:.+\/[^/]+$/.test(file) && checkVersion(file.split('/').pop()!) === undefined) return 'api-version'
  if (/^index\/namespaces\/[^/]+\.json$/.test(file)) return 'namespace'
  if (/^index\/packages\/.+\.yank\.json$/.test(file)) return 'yank'
  if (/^index\/packages\/.+\.json$/.test(file)) return 'record'
  if (file.startsWith('index/reports/')) return 'report'
  return undefined
}

let files: Map<string, Buffer>

beforeAll(async () => {
  const idx = await createTestIndex()
  const work = await tempDir('wharf-api-schemas-')
  await idx.release({ version: '1.0.0', keywords: ['math'], repository: 'https://example.com/calc' })
  await idx.release({ name: 'acme:calc/fmt', version: '0.1.0', dependencies: [{ name: 'acme:calc', req: '^1', optional: true }] })
  const crate = gzipSync(Buffer.from('a crate'))
  const crateFile = path.join(work, 'calc_core-0.3.0.crate')
  fs.writeFileSync(crateFile, crate)
  await idx.release({ artifact: crateFile, name: 'acme:calc-core', version: '0.3.0', kind: 'crate', crate: { name: 'calc_core', cksum: sha256Hex(crate), features: { default: [], x: ['dep:y'] }, deps: [{ name: 'y', req: '^1', optional: true, registry: 'https://github.com/rust-lang/crates.io-index' }] } } as never)
  const notice = signDocument({ schema: 'wharf:yank/v1' as const, name: 'acme:calc', version: '1.0.0', reason: 'bad', yanked_at: '2026-01-02T00:00:00Z', publisher: { login: 'alice' } }, PAYLOAD_TYPES.yank, parsePrivateKey(idx.key.privatePem))
  await idx.submit([{ path: 'index/packages/acme/calc/1.0.0.yank.json', content: stableJson(notice) }], 'alice', 'yank')
  expect((await mergeProposal(idx.repo, { branch: 'yank', author: { login: 'alice' } })).merged).toBe(true)
  const report = await writeCommitWith(idx.repo, { parents: [await resolveCommit(idx.repo, MAIN)], files: [{ path: 'index/reports/acme/calc/1.0.0/report.json', content: stableJson({ score: 1 }) }], message: 'Report', author: { login: 'admin' } })
  await setBranch(idx.repo, MAIN, report)
  const out = path.join(work, 'public')
  await buildApi({ repo: idx.repo, out, baseUrl: 'https://registry.example' })
  files = readTree(out)
})

describe('every file of a built API has a schema', () => {
  it('knows the kind of every path', () => {
    const unknown = [...files.keys()].filter((f) => schemaFor(f) === undefined)
    expect(unknown).toEqual([])
    const kinds = new Set([...files.keys()].map((f) => schemaFor(f)))
    for (const kind of ['api-version', 'api-versions', 'api-namespace', 'api-crate', 'api-dependents', 'api-feed-page', 'api-search-shard', 'snapshot-part', 'snapshot-leaf', 'lines', 'bytes', 'yank', 'record', 'report']) {
      expect(kinds.has(kind as SchemaName), kind).toBe(true)
    }
  })

  it('validates every JSON document, and every Cargo index line', () => {
    const problems: string[] = []
    for (const [file, bytes] of files) {
      const schema = schemaFor(file)
      if (schema === 'bytes' || schema === 'report' || schema === undefined) continue
      if (schema === 'lines') {
        for (const line of bytes.toString('utf8').trimEnd().split('\n')) problems.push(...schemaErrors('cargo-line', JSON.parse(line)).map((p) => `${file}: ${p}`))
        continue
      }
      problems.push(...schemaErrors(schema, JSON.parse(bytes.toString('utf8'))).map((p) => `${file}: ${p}`))
    }
    expect(problems).toEqual([])
  })

  it('refuses a document that breaks the Run contract (a size that is not an integer)', () => {
    const [file, bytes] = [...files].find(([f]) => schemaFor(f) === 'api-version')!
    const doc = JSON.parse(bytes.toString('utf8'))
    expect(schemaErrors('api-version', doc)).toEqual([])
    expect(schemaErrors('api-version', { ...doc, size: String(doc.size) }).join()).toMatch(/size: must be integer/)
    expect(schemaErrors('api-version', { ...doc, published_at: 1.5 }).join(), file).toMatch(/published_at: must be integer/)
  })
})
