/**
 * The low ones of issue 9 in check's room: JSON readers disagree on
 * duplicate keys, `__proto__` and lone surrogates; versions and crate names
 * that differ only in case are one; extra files under snapshot/.
 */
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi, verifySnapshot } from '../../src/api/index.js'
import { auditIndex } from '../../src/audit/index.js'
import { runCheck } from '../../src/check/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument, signedPayload } from '../../src/core/dsse.js'
import { sha256Hex } from '../../src/core/hash.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { recordPath } from '../../src/core/layout.js'
import type { VersionRecord } from '../../src/core/types.js'
import { MAIN, resolveCommit, setBranch } from '../../src/git/index.js'
import { readTree } from '../fixtures/api/tree.js'
import { mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import { createTestIndex, recordFile, tempDir, type TestIndex } from '../helpers/index-repo.js'

let idx: TestIndex
let published: VersionRecord
const alice = { login: 'alice' }

beforeAll(async () => {
  idx = await createTestIndex()
  published = await idx.release({ version: '1.0.0' })
})

/** A record signed by alice at `version`, as its canonical text. */
function signed(version: string, edit: (r: Record<string, unknown>) => void = () => {}): string {
  const { signature: _s, ...unsigned } = structuredClone(published) as VersionRecord & Record<string, unknown>
  const record: Record<string, unknown> = { ...unsigned, version }
  edit(record)
  return stableJson(signDocument(record, PAYLOAD_TYPES.record, parsePrivateKey(idx.key.privatePem)))
}

const rules = async (version: string, text: string) => {
  const head = await idx.submit([{ path: recordPath('acme:calc', version), content: text }])
  return (await runCheck({ repo: idx.repo, base: MAIN, head, author: alice })).findings.map((f) => f.rule)
}

describe('records every reader reads the same way', () => {
  it('a key twice is content/duplicate-key (JSON.parse would keep the last, other readers the first)', async () => {
    const text = signed('2.0.0', (r) => (r.description = 'the signed one'))
    const doubled = text.replace('"description":', '"description":"the reviewer sees this","description":')
    expect(doubled).not.toBe(text)
    expect(await rules('2.0.0', doubled)).toEqual(['content/duplicate-key'])
  })

  it('__proto__ is content/reserved-key, and never signed', async () => {
    const text = signed('2.0.1').replace('{', '{"__proto__":{"yanked":true},')
    expect(await rules('2.0.1', text)).toEqual(['content/reserved-key'])
    expect(() => signDocument(JSON.parse('{"__proto__":{"x":1},"a":1}'), PAYLOAD_TYPES.record, parsePrivateKey(idx.key.privatePem))).toThrow(/__proto__/)
    expect(() => signDocument({ a: { constructor: 1 } }, PAYLOAD_TYPES.record, parsePrivateKey(idx.key.privatePem))).toThrow(/constructor/)
  })

  it('a lone surrogate is content/unicode in check, a violation in audit, never a crash', async () => {
    const text = signed('2.0.2', (r) => (r.description = 'PLACEHOLDER')).replace('"PLACEHOLDER"', '"half \\ud800 a pair"')
    expect(text).toContain('\\ud800')
    expect(await rules('2.0.2', text)).toEqual(['content/unicode'])
    expect(() => signedPayload({ a: 'x\udc00' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    const main = await resolveCommit(idx.repo, MAIN)
    const head = await idx.submit([{ path: recordPath('acme:calc', '2.0.2'), content: text }])
    await setBranch(idx.repo, MAIN, head)
    try {
      const audit = await auditIndex(idx.repo)
      expect(audit.violations).toContainEqual({ commit: head, file: recordPath('acme:calc', '2.0.2'), message: expect.stringMatching(/lone surrogate/) })
    } finally {
      await setBranch(idx.repo, MAIN, main)
    }
  })

  it('versions that differ only in the case of their pre-release are one version', async () => {
    await idx.release({ version: '3.0.0-rc1' })
    const head = await idx.submit([{ path: recordPath('acme:calc', '3.0.0-RC1'), content: signed('3.0.0-RC1') }])
    const result = await runCheck({ repo: idx.repo, base: MAIN, head, author: alice })
    expect(result.findings.map((f) => f.rule)).toEqual(['record/version-exists'])
    expect(result.findings[0]!.message).toMatch(/3\.0\.0-rc1 is already published/)
  })

  it('a crate package keeps its first spelling; a second spelling (case, "-" or "_") is record/crate-name', async () => {
    const work = await tempDir('wharf-attack-crate-')
    const crate = (label: string) => {
      const bytes = gzipSync(Buffer.from(label))
      const file = path.join(work, `${label}.crate`)
      fs.writeFileSync(file, bytes)
      return { file, cksum: sha256Hex(bytes) }
    }
    const first = crate('one')
    await idx.release({ artifact: first.file, name: 'acme:calc-core', version: '0.1.0', kind: 'crate', crate: { name: 'Calc_Core', cksum: first.cksum } } as never)
    for (const [i, spelling] of ['calc-core', 'calc_core', 'CALC_CORE'].entries()) {
      const next = crate(`next-${i}`)
      const proposal = await idx.publish({ artifact: next.file, name: 'acme:calc-core', version: `0.2.${i}`, kind: 'crate', crate: { name: spelling, cksum: next.cksum } } as never)
      const result = await runCheck({ repo: idx.repo, base: MAIN, head: proposal.head, author: alice })
      expect(result.findings.map((f) => f.rule)).toEqual(['record/crate-name'])
      expect(result.findings[0]!.hint).toContain('"Calc_Core"')
    }
    const same = crate('same')
    const ok = await idx.publish({ artifact: same.file, name: 'acme:calc-core', version: '0.3.0', kind: 'crate', crate: { name: 'Calc_Core', cksum: same.cksum } } as never)
    expect((await runCheck({ repo: idx.repo, base: MAIN, head: ok.head, author: alice })).findings).toEqual([])
  })
})

describe('a crate name is one crate registry-wide', () => {
  it('holds a crate package to its crate name, and gives a crate name to the first namespace that publishes it', async () => {
    const index = await createTestIndex()
    const work = await tempDir('wharf-attack-crate-taken-')
    const bob = generateKey()
    // beta: bob's namespace, alice an owner too so that one submission of hers can add to both.
    const claim = await proposeNamespace(index.repo, { namespace: 'beta', owners: [{ login: 'bob', id: 1002 }, { login: 'alice', id: 1001 }], publicKey: bob.publicPem, author: 'bob' })
    expect((await mergeProposal(index.repo, { branch: claim.branch, author: { login: 'bob' } })).merged).toBe(true)
    let n = 0
    const crate = () => {
      const bytes = gzipSync(Buffer.from(`crate ${++n}`))
      const file = path.join(work, `${n}.crate`)
      fs.writeFileSync(file, bytes)
      return { artifact: file, kind: 'crate', cksum: sha256Hex(bytes) }
    }
    const asCrate = (name: string, spelling: string, version = '0.1.0') => {
      const { cksum, ...rest } = crate()
      return { ...rest, name, version, crate: { name: spelling, cksum } } as never
    }
    const asBob = (options: object) => index.publish({ privateKey: bob.privatePem, author: 'bob', ...options })
    const judge = async (head: string, author = 'bob') => (await runCheck({ repo: index.repo, base: MAIN, head, author: { login: author } })).findings
    await index.release(asCrate('acme:calc-core', 'Calc_Core'))

    // Another namespace may not take the crate, in any spelling.
    for (const spelling of ['calc_core', 'Calc-Core']) {
      const findings = await judge((await asBob(asCrate('beta:calc-core', spelling))).head)
      expect(findings.map((f) => f.rule)).toEqual(['record/crate-taken'])
      expect(findings[0]!.message).toContain(`crate "${spelling}" is held by acme:calc-core, which published it first`)
      expect(findings[0]!.hint).toContain('ask the owners of acme')
    }
    // Nor publish it under another package name, where no lookup would find it.
    const misnamed = await judge((await asBob(asCrate('beta:calc', 'calc_core'))).head)
    expect(misnamed.map((f) => [f.rule, f.message])).toEqual([['record/crate-name', 'crate "calc_core" is published as beta:calc, but a crate\'s package is named after it: beta:calc-core']])
    expect(misnamed[0]!.hint).toContain('publish it as beta:calc-core')
    const unnamable = await judge((await asBob(asCrate('beta:calc', 'calc__core'))).head)
    expect(unnamable.map((f) => f.rule)).toEqual(['record/crate-name'])
    expect(unnamable[0]!.message).toContain('crate "calc__core" has no package name')

    // Two namespaces claiming one new crate in one submission: the first (in path order) keeps it.
    const one = await index.publish(asCrate('acme:twin', 'twin'))
    const other = await asBob(asCrate('beta:twin', 'twin'))
    const both = await index.submit([one.record, other.record].map((r) => ({ path: recordPath(r.name, r.version), content: recordFile(r) })))
    const twins = await judge(both, 'alice')
    expect(twins.map((f) => [f.rule, f.file])).toEqual([['record/crate-taken', recordPath('beta:twin', '0.1.0')]])
    expect(twins[0]!.message).toContain('held by acme:twin')

    // A component of that name holds no crate; the holder itself publishes on; a crate nobody holds is free.
    await index.release({ name: 'acme:widget', version: '1.0.0' })
    expect(await judge((await asBob(asCrate('beta:widget', 'widget'))).head)).toEqual([])
    expect(await judge((await index.publish(asCrate('acme:calc-core', 'Calc_Core', '0.2.0'))).head, 'alice')).toEqual([])
    expect(await judge((await asBob(asCrate('beta:fresh', 'fresh'))).head)).toEqual([])
  })
})

describe('verifySnapshot', () => {
  it('catches a file slipped in under snapshot/', async () => {
    const out = await tempDir('wharf-attack-snapshot-')
    await buildApi({ repo: idx.repo, out, baseUrl: 'https://r.example' })
    const keys = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).keys
    const options = { read: async (p: string) => fs.promises.readFile(path.join(out, p)).catch(() => undefined), list: async () => [...readTree(out).keys()], keys }
    expect((await verifySnapshot(options)).problems).toEqual([])
    fs.writeFileSync(path.join(out, 'snapshot', 'zz.json'), '{"files":{}}')
    const verdict = await verifySnapshot(options)
    expect(verdict.ok).toBe(false)
    expect(verdict.problems).toEqual([{ path: 'snapshot/zz.json', message: 'the file is not in the snapshot' }])
  })
})
