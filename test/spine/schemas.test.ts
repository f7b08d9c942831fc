/** schemas/ is the source of truth: the repo's own files and the values the code writes must validate. */
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { schemaErrors } from '../../src/core/schemas.js'
import { defaultPolicy, type RegistryFile } from '../../src/core/types.js'
import { createTestIndex } from '../helpers/index-repo.js'
import { readJsonAt, MAIN } from '../../src/git/index.js'
import { namespacePath, REGISTRY_PATH } from '../../src/core/layout.js'

describe('schemas', () => {
  it("validates this repository's own index/registry.json", () => {
    const registry = JSON.parse(fs.readFileSync('index/registry.json', 'utf8'))
    expect(schemaErrors('registry', registry)).toEqual([])
  })

  it('validates every file the local flow writes', async () => {
    const idx = await createTestIndex()
    const record = await idx.release({ version: '1.0.0', keywords: ['math'], repository: 'https://example.com/acme/calc' })
    expect(schemaErrors('record', record)).toEqual([])
    expect(schemaErrors('namespace', await readJsonAt(idx.repo, MAIN, namespacePath('acme')))).toEqual([])
    expect(schemaErrors('registry', await readJsonAt(idx.repo, MAIN, REGISTRY_PATH))).toEqual([])
  })

  it('refuses unknown fields and wrong types, naming them', () => {
    const registry: RegistryFile = { schema: 'wharf:registry/v1', name: 'x', maintainers: [{ login: 'a' }], keys: [], peers: [], policy: defaultPolicy() }
    expect(schemaErrors('registry', registry)).toEqual([])
    expect(schemaErrors('registry', { ...registry, extra: true })).toEqual(['(top level): unknown field "extra"'])
    const bad = structuredClone(registry) as unknown as { policy: { limits: { max_file_bytes: unknown } } }
    bad.policy.limits.max_file_bytes = '64k'
    expect(schemaErrors('registry', bad).join()).toMatch(/max_file_bytes: must be integer/)
    expect(schemaErrors('namespace', { schema: 'wharf:namespace/v1', namespace: 'a--b', owners: [], keys: [], created_at: 'yesterday' }).length).toBeGreaterThanOrEqual(3)
  })

  it('requires crate metadata on crate packages', async () => {
    const idx = await createTestIndex()
    const record = await idx.release({ version: '1.0.0' })
    expect(schemaErrors('record', { ...record, kind: 'crate' }).join()).toMatch(/crate/)
  })
})
