/** Table-driven tests of the pure core: names, versions, canonical JSON, keys, DSSE, look-alikes, wasm. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, stableJson } from '../../src/core/canonical.js'
import { pae, PAYLOAD_TYPES, signDocument, toEnvelope, verifyDocument } from '../../src/core/dsse.js'
import { generateKey, keyId, parsePrivateKey, parsePublicKey, verifyBytes } from '../../src/core/keys.js'
import { classifyPath } from '../../src/core/layout.js'
import { editDistance, lookalikeReason, skeleton } from '../../src/core/lookalike.js'
import { checkPackageId, crateToPackageName, parseReference } from '../../src/core/names.js'
import { schemaErrors } from '../../src/core/schemas.js'
import { timestamp, unixSeconds } from '../../src/core/time.js'
import { checkRange, checkVersion, compareVersions, sameVersion } from '../../src/core/versions.js'
import { inspectWasm, wasmKind } from '../../src/core/wasm.js'
import { ADD_MODULE, component } from '../helpers/wasm.js'

describe('package ids (DESIGN §2)', () => {
  it.each([
    ['wasi:http', true],
    ['run:calc/calculator', true],
    ['a1:b-2/c3', true],
    ['Wasi:http', false],
    ['wasi:Http', false],
    ['wasi', false],
    ['wasi:', false],
    ['wasi:http/', false],
    ['1wasi:http', false],
    ['wa--si:http', false],
    ['wasi-:http', false],
    ['wasi:http-', false],
    ['wasi:ht_tp', false],
    ['wasi:versions', false],
    ['wasi:a/versions/b', false],
    [`${'a'.repeat(65)}:x`, false],
    [`${'a'.repeat(64)}:x`, true],
    ['wasi:../x', false],
  ])('%s valid: %s', (id, valid) => {
    expect(checkPackageId(id) === undefined).toBe(valid)
  })

  it('parses references and says what is wrong', () => {
    expect(parseReference('run:calc/calculator@0.1.0')).toEqual({ namespace: 'run', name: 'calc/calculator', version: '0.1.0' })
    expect(() => parseReference('wasi:http')).toThrow(/has no version/)
    expect(() => parseReference('wasi:http@latest')).toThrow(/not SemVer/)
  })

  it('maps crate names to package names', () => {
    expect(crateToPackageName('Serde_JSON')).toBe('serde-json')
  })
})

describe('versions', () => {
  it.each([
    ['1.2.3', true],
    ['0.0.0', true],
    ['1.0.0-alpha.1', true],
    ['1.0.0+build.5', true],
    ['1.0.0-rc.1+sha.abc', true],
    ['v1.2.3', false],
    ['=1.2.3', false],
    ['1.2', false],
    ['01.2.3', false],
    ['1.2.3-01', false],
    ['latest', false],
    ['dev', false],
    ['stable', false],
    [' 1.2.3', false],
  ])('%s valid: %s', (v, valid) => {
    expect(checkVersion(v) === undefined).toBe(valid)
  })

  it('treats build metadata as the same version and sorts by precedence', () => {
    expect(sameVersion('1.0.0+a', '1.0.0+b')).toBe(true)
    expect(sameVersion('1.0.0', '1.0.0-rc.1')).toBe(false)
    expect(['1.10.0', '1.2.0', '1.2.0-rc.1'].sort(compareVersions)).toEqual(['1.2.0-rc.1', '1.2.0', '1.10.0'])
    expect(checkVersion('v1.0.0')).toMatch(/write 1.0.0/)
  })

  it('validates ranges', () => {
    expect(checkRange('^1.2.0')).toBeUndefined()
    expect(checkRange('>=1, <2')).toBeUndefined()
    expect(checkRange('banana')).toMatch(/not a valid version requirement/)
  })
})

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and writes numbers the ECMAScript way', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: 1e21, c: 0.1 }], '\u20ac': 'x', '\r': 'y' })).toBe('{"\\r":"y","a":[3,{"c":0.1,"d":1e+21}],"b":1,"€":"x"}')
    expect(canonicalJson({ x: -0, y: 1.5e-7, s: '\u2028' })).toBe('{"s":"\u2028","x":0,"y":1.5e-7}')
  })

  it('writes stable, sorted, newline-terminated files', () => {
    expect(stableJson({ b: 1, a: { d: 2, c: 1 } })).toBe('{\n  "a": {\n    "c": 1,\n    "d": 2\n  },\n  "b": 1\n}\n')
  })
})

describe('Ed25519 keys and DSSE', () => {
  const key = generateKey()
  const signer = parsePrivateKey(key.privatePem)
  const trusted = [{ id: key.id, public_key: key.publicKey }]
  const doc = { name: 'acme:calc', version: '1.0.0', n: 1 }

  it('round-trips keys through PEM and base64 and derives a stable id', () => {
    expect(parsePublicKey(key.publicPem)).toBe(key.publicKey)
    expect(parsePublicKey(key.publicKey)).toBe(key.publicKey)
    expect(signer.id).toBe(key.id)
    expect(keyId(key.publicKey)).toMatch(/^[0-9a-f]{16}$/)
    expect(() => parsePrivateKey(key.publicPem)).toThrow(/private key/)
    expect(() => parsePublicKey('hello')).toThrow(/public key/)
  })

  it('signs the canonical JSON without the signature, independent of key order', () => {
    const signed = signDocument(doc, PAYLOAD_TYPES.record, signer)
    const reordered = { signature: signed.signature, n: 1, version: '1.0.0', name: 'acme:calc' }
    expect(verifyDocument(reordered, PAYLOAD_TYPES.record, trusted)).toEqual({ ok: true, keyid: key.id })
  })

  it('refuses tampering, unknown and revoked keys, and another payload type', () => {
    const signed = signDocument(doc, PAYLOAD_TYPES.record, signer)
    expect(verifyDocument({ ...signed, n: 2 }, PAYLOAD_TYPES.record, trusted)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) })
    expect(verifyDocument(signed, PAYLOAD_TYPES.record, [])).toMatchObject({ ok: false, reason: expect.stringMatching(/not one of the trusted keys/) })
    expect(verifyDocument(signed, PAYLOAD_TYPES.record, [{ ...trusted[0]!, revoked: '2026-01-01T00:00:00Z' }])).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) })
    expect(verifyDocument(signed, PAYLOAD_TYPES.yank, trusted)).toMatchObject({ ok: false, reason: expect.stringMatching(/payloadType/) })
    expect(verifyDocument(doc, PAYLOAD_TYPES.record, trusted)).toMatchObject({ ok: false, reason: 'the document is not signed' })
  })

  it('reads a malformed signature list as a refusal, not a crash, and still finds a good signature after it', () => {
    const signed = signDocument(doc, PAYLOAD_TYPES.record, signer)
    const good = signed.signature.signatures[0]!
    for (const bad of [null, 7, 'sig', {}, { keyid: 1, sig: 'x' }, { keyid: key.id, sig: null }]) {
      const document = { ...signed, signature: { ...signed.signature, signatures: [bad] } }
      expect(verifyDocument(document, PAYLOAD_TYPES.record, trusted), JSON.stringify(bad)).toEqual({ ok: false, reason: 'a signature entry is not {keyid, sig} of strings' })
      expect(verifyDocument({ ...document, signature: { ...document.signature, signatures: [bad, good] } }, PAYLOAD_TYPES.record, trusted)).toEqual({ ok: true, keyid: key.id })
    }
  })

  it('re-attaches the payload as a standard DSSE envelope that verifies over PAE', () => {
    const signed = signDocument(doc, PAYLOAD_TYPES.record, signer)
    const envelope = toEnvelope(signed)
    const payload = Buffer.from(envelope.payload, 'base64')
    expect(payload.toString()).toBe(canonicalJson(doc))
    expect(pae('t', Buffer.from('ab')).toString()).toBe('DSSEv1 1 t 2 ab')
    expect(verifyBytes(key.publicKey, pae(envelope.payloadType, payload), envelope.signatures[0]!.sig)).toBe(true)
  })
})

describe('look-alike names', () => {
  it.each([
    ['acme', 'acrne', true],
    ['acme', 'ACME'.toLowerCase(), false],
    ['tokio', 't0kio', true],
    ['my-lib', 'mylib', true],
    ['serde', 'serde-json', false],
    ['wasi', 'wasl', true],
    ['calculator', 'calculater', true],
    ['calculator', 'calcuIater', true],
    ['http', 'hyper', false],
    ['clock', 'dock', true],
    ['image', 'imagine', false],
    ['image', 'imago', true],
  ])('%s vs %s: look-alike %s', (a, b, expected) => {
    expect(lookalikeReason(b, a) !== undefined).toBe(expected)
  })

  it('measures transpositions as one edit', () => {
    expect(editDistance('abcd', 'abdc')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(skeleton('My_Lib-0')).toBe('myllbo')
  })
})

describe('index paths', () => {
  it.each([
    ['index/registry.json', 'registry'],
    ['index/namespaces/acme.json', 'namespace'],
    ['index/packages/acme/calc/1.0.0.json', 'record'],
    ['index/packages/acme/calc/ui/1.0.0+b.1.json', 'record'],
    ['index/packages/acme/calc/1.0.0.yank.json', 'yank'],
    ['index/reports/acme/calc/1.0.0/native.json', 'report'],
    ['README.md', 'outside'],
    ['indexes/x', 'outside'],
    ['index/packages/acme/1.0.0.json', 'invalid'],
    ['index/packages/acme/calc/1.0.0.txt', 'invalid'],
    ['index/namespaces/Acme.json', 'invalid'],
    ['index/packages/acme/calc/%2e%2e/1.0.0.json', 'invalid'],
  ])('%s is %s', (p, kind) => {
    expect(classifyPath(p).kind).toBe(kind)
  })
})

describe('wasm inspection', () => {
  it('tells modules from components and validates them', () => {
    expect(inspectWasm(ADD_MODULE)).toMatchObject({ ok: true, kind: 'module' })
    expect(inspectWasm(component())).toMatchObject({ ok: true, kind: 'component', sections: 1 })
    expect(wasmKind(Buffer.from('not wasm'))).toBeUndefined()
    expect(inspectWasm(Buffer.from('0061736d02000000', 'hex'))).toMatchObject({ ok: false, reason: expect.stringMatching(/not a WebAssembly binary/) })
    expect(inspectWasm(component().subarray(0, 12))).toMatchObject({ ok: false, reason: expect.stringMatching(/runs past the end/) })
    const badBody = Buffer.from(ADD_MODULE)
    badBody[badBody.length - 2] = 0xff
    expect(inspectWasm(badBody)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not validate/) })
  })
})

describe('times as the Run 2.0 API writes them', () => {
  it('is the unix second of any time a record carries', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        expect(unixSeconds(timestamp(date))).toBe(Math.floor(date.getTime() / 1000))
      }),
    )
  })

  // The record schema takes a leap second (RFC 3339 allows one); Date.parse does not, and JSON would write its NaN as null.
  it.each([
    ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00Z'],
    ['2016-12-31T23:59:60.5Z', '2017-01-01T00:00:00Z'],
    ['2016-12-31T18:59:60-05:00', '2017-01-01T00:00:00Z'],
  ])('counts the leap second %s as %s, an integer', (leap, next) => {
    expect(schemaErrors('record', { published_at: leap }).some((p) => p.includes('published_at'))).toBe(false)
    expect(Number.isNaN(Date.parse(leap))).toBe(true)
    expect(unixSeconds(leap)).toBe(Date.parse(next) / 1000)
  })

  it('is 0, not NaN, for a text that is no time', () => {
    expect(unixSeconds('not a time')).toBe(0)
  })
})
