/**
 * The validators the bundle carries (compiled ahead of time into
 * dist/cli/schemas/, which the test suite builds first) judge every document
 * as ajv compiling schemas/ at run time does: same verdict, same errors, for
 * every schema name, on every file of a built API and on mutations of each.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import type { ValidateFunction } from 'ajv/dist/2020.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/index.js'
import { SCHEMA_IDS, schemaValidator } from '../../src/core/schema-validators.js'
import type { SchemaName } from '../../src/core/schemas.js'
import { readTree } from '../fixtures/api/tree.js'
import { createTestIndex, tempDir } from '../helpers/index-repo.js'

let precompiled: (name: SchemaName) => ValidateFunction
const documents: { file: string; doc: unknown }[] = []

beforeAll(async () => {
  const work = await tempDir('wharf-schemas-precompiled-')
  const load = createRequire(path.resolve('dist/cli/main.js'))
  precompiled = (name) => load(`./schemas/${name}.cjs`) as ValidateFunction

  const idx = await createTestIndex()
  await idx.release({ version: '1.0.0', keywords: ['math'], repository: 'https://example.com/calc' })
  await idx.release({ name: 'acme:calc/fmt', version: '0.1.0', dependencies: [{ name: 'acme:calc', req: '^1', optional: true }] })
  const out = path.join(work, 'public')
  await buildApi({ repo: idx.repo, out, baseUrl: 'https://registry.example' })
  for (const [name, bytes] of readTree(out)) {
    const text = bytes.toString('utf8')
    for (const line of name.startsWith('cargo/') && !name.endsWith('.json') ? text.trimEnd().split('\n') : [text]) {
      try {
        documents.push({ file: name, doc: JSON.parse(line) })
      } catch {
        // An artifact, not JSON.
      }
    }
  }
}, 120_000)

/** The document with one change: a field dropped, a field added, a field of another type. */
function* mutations(doc: unknown): Generator<unknown> {
  yield doc
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return
  const record = doc as Record<string, unknown>
  yield { ...record, unexpected: true }
  for (const key of Object.keys(record)) {
    const { [key]: _dropped, ...rest } = record
    yield rest
    for (const other of [7.5, 'text', null, [], {}]) yield { ...record, [key]: other }
  }
}

const verdict = (validate: ValidateFunction, doc: unknown) => {
  const ok = validate(doc)
  return { ok, errors: (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${e.message}`) }
}

describe('precompiled schema validators', () => {
  it('cover every schema name', () => {
    for (const name of Object.keys(SCHEMA_IDS) as SchemaName[]) expect(typeof precompiled(name), name).toBe('function')
  })

  it('agree with ajv on every document of a built API and its mutations, for every schema', () => {
    expect(documents.length).toBeGreaterThan(20)
    let valid = 0
    let compared = 0
    for (const { file, doc } of documents) {
      for (const variant of mutations(doc)) {
        for (const name of Object.keys(SCHEMA_IDS) as SchemaName[]) {
          const expected = verdict(schemaValidator(name), variant)
          expect(verdict(precompiled(name), variant), `${file} as ${name}`).toEqual(expected)
          if (expected.ok) valid++
          compared++
        }
      }
    }
    // The corpus has documents each schema accepts, not only refusals.
    expect(valid).toBeGreaterThan(documents.length / 2)
    expect(compared).toBeGreaterThan(1000)
  })
})
