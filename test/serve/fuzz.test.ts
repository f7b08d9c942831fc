/**
 * Hostile request bodies, generated (fast-check): random JSON of random depth
 * and types as Cargo publish metadata (in its length framing, and through the
 * WasmRust route), as each JSON field of the Run publish form, and valid
 * metadata with one field swapped for anything. Every answer is a 4xx that
 * names the field at fault (or a success), never a 5xx and never a hang.
 */
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isWharfError, statusFor } from '../../src/core/errors.js'
import { cargoManifest, parseCargoPublish, parseComponentForm } from '../../src/serve/requests.js'
import { component } from '../helpers/wasm.js'
import { publish, serveTemp, sha256, type TestServer } from './helpers.js'

const TOKEN = 'fuzz-token'
const CRATE = gzipSync(Buffer.alloc(1024))

/** Cargo's publish body: u32 LE length, JSON, u32 LE length, .crate. */
function cargoBody(json: string, crate: Buffer = CRATE): Buffer {
  const meta = Buffer.from(json)
  const body = Buffer.alloc(8 + meta.length + crate.length)
  body.writeUInt32LE(meta.length, 0)
  meta.copy(body, 4)
  body.writeUInt32LE(crate.length, 4 + meta.length)
  crate.copy(body, 8 + meta.length)
  return body
}

/** `[[[...]]]` or `{"a":{"a":...}}` nested `depth` deep: what a recursive parser or walker chokes on. */
const deepJson = fc.record({ depth: fc.integer({ min: 1, max: 100_000 }), kind: fc.constantFrom('array', 'object') }).map(({ depth, kind }) =>
  kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
)

const anyJson = fc.jsonValue({ maxDepth: 8 })

/** Valid publish metadata, and the fields a hostile client may swap for anything. */
const VALID = {
  name: 'fuzzed',
  vers: '1.0.0',
  deps: [{ name: 'dep', version_req: '^1', features: [], optional: false, default_features: true, target: null, kind: 'normal', registry: null, explicit_name_in_toml: null }],
  features: { default: [] },
  description: 'a crate',
  license: 'MIT',
  repository: 'https://example.com/x',
  homepage: null,
  keywords: ['x'],
  links: null,
  rust_version: null,
}
const FIELDS = ['name', 'vers', 'deps', 'features', 'description', 'license', 'repository', 'homepage', 'keywords', 'links', 'rust_version'] as const
const DEP_FIELDS = ['name', 'version_req', 'features', 'optional', 'default_features', 'target', 'kind', 'registry', 'explicit_name_in_toml'] as const
/** Values of every JSON type, including objects whose keys shadow what a careless String() or `.some()` would call. */
const mistyped = fc.oneof(anyJson, fc.constant({ toString: 1, valueOf: 1 }), fc.constant({ some: 1, map: 'x', length: 3 }), fc.constant(JSON.parse('{"__proto__":{"polluted":true}}') as unknown))

/** The JSON type Cargo sends each field as; all but name, vers and deps may be null. */
const EXPECTED: Record<(typeof FIELDS)[number], string> = {
  name: 'string',
  vers: 'string',
  deps: 'array',
  features: 'object',
  description: 'string',
  license: 'string',
  repository: 'string',
  homepage: 'string',
  keywords: 'array',
  links: 'string',
  rust_version: 'string',
}
const DEP_EXPECTED: Record<(typeof DEP_FIELDS)[number], string> = {
  name: 'string',
  version_req: 'string',
  features: 'array',
  optional: 'boolean',
  default_features: 'boolean',
  target: 'string',
  kind: 'string',
  registry: 'string',
  explicit_name_in_toml: 'string',
}
const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
/** Whether a value of the wrong JSON type must be refused for `field` (null is refused only where Cargo never sends it). */
const wrongType = (expected: string, value: unknown, required: boolean) => jsonType(value) !== expected && (required || value !== null)

/** A parser's verdict: a value, or a typed error with a 4xx status. Anything else fails the property. */
function expectClientError(run: () => unknown): void {
  try {
    run()
  } catch (e) {
    if (!isWharfError(e)) throw e
    expect(statusFor(e)).toBeGreaterThanOrEqual(400)
    expect(statusFor(e)).toBeLessThan(500)
  }
}

describe('parsers, on their own', () => {
  it('Cargo framing and metadata: any bytes, any JSON, any depth is a value or a 4xx', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson.map((v) => JSON.stringify(v)), deepJson, fc.string()), (json) => {
        expectClientError(() => cargoManifest(parseCargoPublish(cargoBody(json)).metadata))
      }),
      { numRuns: 150 },
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expectClientError(() => parseCargoPublish(Buffer.from(bytes)))
      }),
      { numRuns: 300 },
    )
  })

  it('a mistyped metadata field is a 400 that names it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), mistyped, (field, value) => {
        const metadata = JSON.parse(JSON.stringify({ ...VALID, [field]: value }))
        let refused = false
        try {
          cargoManifest(metadata)
        } catch (e) {
          if (!isWharfError(e)) throw e
          refused = true
          expect(statusFor(e)).toBe(400)
          expect(e.field).toBe(field)
        }
        if (wrongType(EXPECTED[field], metadata[field], ['name', 'vers', 'deps'].includes(field))) expect(refused, `${field}: ${JSON.stringify(value)}`).toBe(true)
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.constantFrom(...DEP_FIELDS), mistyped, (field, value) => {
        const metadata = JSON.parse(JSON.stringify({ ...VALID, deps: [{ ...VALID.deps[0], [field]: value }] }))
        let refused = false
        try {
          cargoManifest(metadata)
        } catch (e) {
          if (!isWharfError(e)) throw e
          refused = true
          expect(statusFor(e)).toBe(400)
          expect(e.field).toBe('deps')
          expect(e.message).toContain(`deps[0]`)
        }
        if (wrongType(DEP_EXPECTED[field], metadata.deps[0][field], ['name', 'version_req'].includes(field))) expect(refused, `deps[0].${field}: ${JSON.stringify(value)}`).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('the Run publish form: any JSON in its JSON fields is a value or a 4xx naming the field', () => {
    const bytes = component('fuzz')
    // A record of the right name and version whose other fields are anything: its shape is checked before it is used.
    const recordLike = fc.dictionary(fc.constantFrom('artifacts', 'signature', 'dependencies', 'targets', 'kind', 'schema'), mistyped).map((rest) => JSON.stringify({ ...rest, name: 'fuzz:pkg', version: '1.0.0' }))
    fc.assert(
      fc.property(fc.constantFrom('dependencies', 'targets', 'record'), fc.oneof(anyJson.map((v) => JSON.stringify(v)), deepJson, mistyped.map((v) => JSON.stringify(v)), recordLike), (field, raw) => {
        const fields = new Map([
          ['name', 'fuzz:pkg'],
          ['version', '1.0.0'],
          ['sha256', sha256(bytes)],
          [field, raw],
        ])
        try {
          parseComponentForm(fields, { field: 'component', filename: 'x.wasm', bytes })
        } catch (e) {
          if (!isWharfError(e)) throw e
          expect(statusFor(e)).toBe(400)
          expect(e.field).toBe(field)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('the server, end to end', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'crates', token: TOKEN }, { namespace: 'fuzz', token: TOKEN.repeat(2) }] })
  })
  afterAll(async () => {
    await server.close()
  })

  /** Sends one request; its status, which must come within the time limit. */
  const send = async (path: string, init: RequestInit): Promise<number> => {
    const res = await fetch(`${server.url}${path}`, { ...init, signal: AbortSignal.timeout(20_000) })
    await res.arrayBuffer()
    return res.status
  }

  it('answers Cargo publishes of random, deep and mistyped metadata with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyJson.map((v) => JSON.stringify(v)),
          deepJson,
          fc.tuple(fc.constantFrom(...FIELDS), mistyped).map(([f, v]) => JSON.stringify({ ...VALID, name: 'fuzzed', [f]: v })),
        ),
        async (json) => {
          const status = await send('/api/v1/crates/new', { method: 'PUT', headers: { authorization: TOKEN }, body: new Uint8Array(cargoBody(json)) })
          expect(status, json.slice(0, 200)).toBeLessThan(500)
          if (status >= 300) expect(status).toBeGreaterThanOrEqual(400)
        },
      ),
      { numRuns: 150 },
    )
  }, 240_000)

  it('answers WasmRust crate bodies of random JSON with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson.map((v) => JSON.stringify(v)), deepJson, mistyped.map((v) => JSON.stringify({ name: 'wr', version: '1.0.0', crate: CRATE.toString('base64'), deps: v }))), async (json) => {
        const status = await send('/crates', { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }, body: json })
        expect(status, json.slice(0, 200)).toBeLessThan(500)
      }),
      { numRuns: 100 },
    )
  }, 240_000)

  it('answers Run publishes with random JSON in the form fields with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('dependencies', 'targets', 'record'), fc.oneof(anyJson.map((v) => JSON.stringify(v)), deepJson), async (field, raw) => {
        const res = await publish(server.url, TOKEN.repeat(2), { name: 'fuzz:pkg', version: '1.0.0', extra: { [field]: raw } })
        await res.arrayBuffer()
        expect(res.status, `${field}=${raw.slice(0, 200)}`).toBeLessThan(500)
      }),
      { numRuns: 100 },
    )
  }, 240_000)
})
