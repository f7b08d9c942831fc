/**
 * Table-driven tests of what every way of publishing shares: the one record
 * builder, the crate dependency mapping, the target rule, timestamps, key
 * sorting, the version string, and the error table each edge maps codes with.
 */
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { stableJson, sortKeys } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, verifyDocument } from '../../src/core/dsse.js'
import { codeForStatus, errorJson, exitCodeFor, statusFor, WharfError } from '../../src/core/errors.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { artifactName, crateFields, CRATES_IO_INDEX, namespaceFile, recordKeywords, storedArtifact, versionRecord, yankNotice, type CargoDependency } from '../../src/core/records.js'
import { schemaErrors } from '../../src/core/schemas.js'
import { timestamp } from '../../src/core/time.js'
import { WHARF_VERSION } from '../../src/core/version.js'
import { artifactTarget, inferTarget } from '../../src/core/wasm.js'
import { ADD_MODULE, component } from '../helpers/wasm.js'

const generated = generateKey()
const key = parsePrivateKey(generated.privatePem)
const trusted = [{ id: key.id, public_key: key.publicKey }]
const at = new Date('2025-03-04T05:06:07.890Z')

/** A core module importing one function from each of `modules`. */
function moduleImporting(...modules: string[]): Buffer {
  const name = (text: string) => [text.length, ...Buffer.from(text)]
  const imports = modules.flatMap((m) => [...name(m), ...name('f'), 0x00, 0x00])
  const section = (id: number, body: number[]) => [id, body.length, ...body]
  return Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...section(1, [0x01, 0x60, 0x00, 0x00]), ...section(2, [modules.length, ...imports])])
}

describe('the target a wasm binary was built for', () => {
  it.each<[string, Buffer, string]>([
    ['a component', component('x'), 'wasm32-wasip2'],
    ['a core module importing WASI 0.2 interfaces', moduleImporting('wasi:cli/environment@0.2.0'), 'wasm32-wasip2'],
    ['a core module importing WASI preview 1', moduleImporting('env', 'wasi_snapshot_preview1'), 'wasm32-wasip1'],
    ['a core module of an older toolchain (wasi_unstable)', moduleImporting('wasi_unstable'), 'wasm32-wasip1'],
    ['a core module with no WASI imports', moduleImporting('env', 'wasi-ish'), 'wasm32-unknown-unknown'],
    ['a core module with no imports', ADD_MODULE, 'wasm32-unknown-unknown'],
  ])('%s: %s', (_what, bytes, target) => {
    expect(artifactTarget(bytes)).toBe(target)
  })

  it('is one rule over the kind and the import modules, whoever read them', () => {
    expect(inferTarget('module', ['wasi_snapshot_preview1'])).toBe('wasm32-wasip1')
    expect(inferTarget('component', ['wasi_snapshot_preview1'])).toBe('wasm32-wasip2')
    expect(inferTarget('module', [])).toBe('wasm32-unknown-unknown')
  })

  it('refuses bytes that are not wasm, saying why', () => {
    expect(() => artifactTarget(Buffer.from('#!/bin/sh\n'))).toThrow(expect.objectContaining({ code: 'INVALID_ARTIFACT', message: expect.stringMatching(/not valid WebAssembly: not a WebAssembly binary/) }))
  })
})

describe('version records', () => {
  const artifact = storedArtifact(ADD_MODULE, 'build/out dir/add.wasm', 'wasm32-unknown-unknown')

  it('keeps an artifact in the store by its digest, under a name a record may carry', () => {
    expect(artifact).toEqual({ name: 'add.wasm', target: 'wasm32-unknown-unknown', url: `sha256:${artifact.sha256}`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: ADD_MODULE.length })
    expect(artifactName('../x/my calc!.wasm')).toBe('my-calc-.wasm')
    expect(artifactName('...')).toBe('artifact.wasm')
    expect(artifactName('greet-0.1.0+build.7.crate')).toBe('greet-0.1.0-build.7.crate')
    // GitHub renames a release asset that ends in a period, and release then could not find it again by name.
    expect(artifactName('calc.wasm.')).toBe('calc.wasm')
    const record = versionRecord({ name: 'acme:add', version: '1.0.0', kind: 'component', artifact: { ...artifact, name: 'calc.wasm.' }, publisher: 'alice', publishedAt: at }, key)
    expect(schemaErrors('record', record).join()).toMatch(/artifacts\/0\/name: must match pattern/)
  })

  it('builds a signed, schema-valid record, leaving empty optional fields out', () => {
    const record = versionRecord({ name: 'acme:add', version: '1.0.0', kind: 'component', license: '', keywords: [], artifact, publisher: 'alice', publishedAt: at }, key)
    expect(schemaErrors('record', record)).toEqual([])
    expect(verifyDocument(record, PAYLOAD_TYPES.record, trusted)).toEqual({ ok: true, keyid: key.id })
    expect(record).toMatchObject({ description: '', dependencies: [], targets: ['wasm32-unknown-unknown'], published_at: '2025-03-04T05:06:07Z', publisher: { login: 'alice' } })
    expect(Object.keys(record)).not.toContain('license')
    expect(Object.keys(record)).not.toContain('keywords')
  })

  it('signs the same bytes for the same input, and names the targets it is given', () => {
    const fields = { name: 'acme:add', version: '1.0.0', kind: 'component' as const, witUrl: 'https://example.com/add.wit', targets: ['wasm32-wasip1', 'wasm32-wasip2'], artifact, publisher: 'alice', publishedAt: at }
    const a = versionRecord(fields, key)
    expect(stableJson(versionRecord(fields, key))).toBe(stableJson(a))
    expect(a).toMatchObject({ wit_url: 'https://example.com/add.wit', targets: ['wasm32-wasip1', 'wasm32-wasip2'] })
  })

  it('builds yank notices and namespace files with the same clock', () => {
    const notice = yankNotice({ name: 'acme:add', version: '1.0.0', reason: 'broken', publisher: 'alice', yankedAt: at }, key)
    expect(schemaErrors('yank', notice)).toEqual([])
    expect(verifyDocument(notice, PAYLOAD_TYPES.yank, trusted).ok).toBe(true)
    const ns = namespaceFile('acme', [{ login: 'alice', id: 7 }], { id: key.id, publicKey: key.publicKey }, at)
    expect(schemaErrors('namespace', ns)).toEqual([])
    expect(ns).toMatchObject({ created_at: '2025-03-04T05:06:07Z', keys: [{ id: key.id, added: '2025-03-04T05:06:07Z' }] })
  })
})

describe('crate records', () => {
  const dep = (crate: string, more: Partial<CargoDependency> = {}): CargoDependency => ({ crate, req: '^1', ...more })
  const manifest = {
    name: 'calc_core',
    version: '0.3.0',
    description: '  Maths  ',
    license: 'MIT',
    repository: 'git@github.com:acme/calc.git',
    homepage: 'https://calc.example',
    keywords: ['Maths', 'maths', 'no spaces please', 'wasm'],
    rustVersion: '1.70',
    features: { default: ['std'], std: [] },
    deps: [
      dep('serde', { registry: null, optional: true, features: ['derive'] }),
      dep('helper', { registry: 'https://index.example/' }),
      dep('util_core', { rename: 'util', kind: 'build' }),
      dep('util_core', { kind: 'normal' }),
      dep('tester', { kind: 'dev' }),
    ],
  }
  // As Cargo's publish API sends it: no registry means this registry; serde and helper are elsewhere.
  const local = new Set(['util_core', 'tester'])
  const fields = crateFields(manifest, Buffer.from('crate bytes'), (d) => (local.has(d.crate) ? `crates:${d.crate.replaceAll('_', '-')}` : undefined))

  it('maps each dependency the way a Cargo index line needs it', () => {
    expect(fields.crate!.deps).toEqual([
      { name: 'serde', req: '^1', features: ['derive'], optional: true, default_features: true, target: null, kind: 'normal', registry: CRATES_IO_INDEX },
      { name: 'helper', req: '^1', features: [], optional: false, default_features: true, target: null, kind: 'normal', registry: 'https://index.example/' },
      { name: 'util', req: '^1', features: [], optional: false, default_features: true, target: null, kind: 'build', package: 'util_core' },
      { name: 'util_core', req: '^1', features: [], optional: false, default_features: true, target: null, kind: 'normal' },
      { name: 'tester', req: '^1', features: [], optional: false, default_features: true, target: null, kind: 'dev' },
    ])
  })

  it('makes package dependencies of the crates this registry holds, once each, never of dev-dependencies', () => {
    expect(fields.dependencies).toEqual([{ name: 'crates:util-core', req: '^1', optional: false }])
  })

  it('keeps what fits a record of the descriptive fields', () => {
    expect(fields).toMatchObject({ description: 'Maths', license: 'MIT', repository: undefined, homepage: 'https://calc.example', keywords: ['maths', 'wasm'] })
    expect(fields.crate).toMatchObject({ name: 'calc_core', rust_version: '1.70', features: { default: ['std'], std: [] } })
    expect(recordKeywords(Array.from({ length: 20 }, (_, i) => `k${i}`))).toHaveLength(10)
  })
})

describe('shared helpers', () => {
  it('writes timestamps to the second, in UTC', () => {
    expect(timestamp(at)).toBe('2025-03-04T05:06:07Z')
    expect(timestamp(new Date(0))).toBe('1970-01-01T00:00:00Z')
  })

  it('sorts keys at every depth, and a key named __proto__ stays a key', () => {
    const hostile = JSON.parse('{"b":1,"a":{"d":[{"z":1,"y":2}],"c":2},"__proto__":{"polluted":true}}') as object
    const sorted = sortKeys(hostile) as Record<string, unknown>
    expect(JSON.stringify(sorted)).toBe('{"__proto__":{"polluted":true},"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}')
    expect(Object.getPrototypeOf(sorted)).toBe(Object.prototype)
  })

  it('reads the version from package.json', () => {
    expect(WHARF_VERSION).toBe((JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version)
  })
})

describe('the error table', () => {
  it.each<[WharfError | Error, 1 | 2 | 3, number]>([
    [new WharfError('USAGE', 'x'), 2, 400],
    [new WharfError('NOT_AN_INDEX', 'x'), 2, 500],
    [new WharfError('VERSION_EXISTS', 'x'), 1, 409],
    [new WharfError('RATE_LIMITED', 'x', { retryAfter: 3 }), 1, 429],
    [new WharfError('REMOTE', 'x'), 3, 502],
    [new Error('a bug'), 3, 500],
  ])('%s: exit %i, HTTP %i', (e, exit, status) => {
    expect(exitCodeFor(e)).toBe(exit)
    expect(statusFor(e)).toBe(status)
  })

  it.each<[number, unknown, string]>([
    [409, 'VERSION_EXISTS', 'VERSION_EXISTS'],
    [409, undefined, 'VERSION_EXISTS'],
    [401, 'NOT_A_CODE', 'UNAUTHORIZED'],
    [400, 'INTERNAL', 'INVALID_INPUT'],
    [418, undefined, 'REJECTED'],
    [500, 'INTERNAL', 'REMOTE'],
    [503, 'LOCKED', 'REMOTE'],
  ])('a registry answering %i with code %j reads as %s', (status, sent, code) => {
    expect(codeForStatus(status, sent)).toBe(code)
  })

  it('prints an error as one JSON object with its typed fields', () => {
    const findings = [{ rule: 'record/signature', file: 'index/x.json', message: 'bad', hint: 'sign it' }]
    expect(errorJson(new WharfError('REJECTED', 'refused', { hint: 'fix it', field: 'record', findings }))).toEqual({ error: 'refused', code: 'REJECTED', hint: 'fix it', field: 'record', findings })
    expect(errorJson(new TypeError('boom'))).toEqual({ error: 'boom', code: 'INTERNAL' })
  })
})
