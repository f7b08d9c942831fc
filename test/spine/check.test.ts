/**
 * Every rule of `wharf check`, broken on purpose on a real index repo, and
 * the honest submissions that must pass.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCheck, RULES, type RuleId } from '../../src/check/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { namespacePath, recordPath, REGISTRY_PATH } from '../../src/core/layout.js'
import type { NamespaceFile, RegistryFile, VersionRecord, YankNotice } from '../../src/core/types.js'
import { sha256Hex } from '../../src/core/hash.js'
import { MAIN, openRepo, readJsonAt } from '../../src/git/index.js'
import { mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import { artifactPath, putArtifact } from '../../src/store/index.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'
import { ADD_MODULE, component } from '../helpers/wasm.js'

let idx: TestIndex
let published: VersionRecord

beforeAll(async () => {
  idx = await createTestIndex()
  published = await idx.release({ version: '1.0.0' })
})

async function check(head: string, author = 'alice', base = MAIN) {
  return runCheck({ repo: idx.repo, base, head, author: { login: author } })
}

function rules(result: { findings: { rule: RuleId }[] }): RuleId[] {
  return result.findings.map((f) => f.rule)
}

/** A signed record for acme:calc at `version`, its artifact already in the store. */
async function signedRecord(version: string, edit: (r: Omit<VersionRecord, 'signature'>) => void = () => {}, key = parsePrivateKey(idx.key.privatePem)) {
  const bytes = component(`record-${version}`)
  const stored = await putArtifact(idx.dir, bytes)
  const { signature: _s, ...unsigned } = structuredClone(published)
  const record = { ...unsigned, version, artifacts: [{ name: 'calc.wasm', target: 'wasm32-wasip2', url: stored.url, sha256: stored.sha256, size: stored.size }] }
  edit(record)
  return signDocument(record, PAYLOAD_TYPES.record, key)
}

describe('honest submissions', () => {
  it('accepts a new version signed by an owner', async () => {
    const proposal = await idx.publish({ version: '1.1.0' })
    const result = await check(proposal.head)
    expect(result.findings).toEqual([])
    expect(result.accepted).toBe(true)
    expect(result.changes.map((c) => c.path)).toEqual([recordPath('acme:calc', '1.1.0')])
  })

  it('accepts an owner adding a co-owner and rotating keys', async () => {
    const ns = (await readJsonAt<NamespaceFile>(idx.repo, MAIN, namespacePath('acme')))!
    const fresh = generateKey()
    const changed: NamespaceFile = {
      ...ns,
      owners: [...ns.owners, { login: 'bob' }],
      keys: [{ ...ns.keys[0]!, revoked: '2026-01-01T00:00:00Z' }, { id: fresh.id, algorithm: 'ed25519', public_key: fresh.publicKey, added: '2026-01-01T00:00:00Z' }],
    }
    const head = await idx.submit([{ path: namespacePath('acme'), content: stableJson(changed) }], 'alice')
    expect(rules(await check(head))).toEqual([])
  })

  it('accepts a maintainer changing policy', async () => {
    const registry = (await readJsonAt<RegistryFile>(idx.repo, MAIN, REGISTRY_PATH))!
    registry.policy.namespaces.waiting_period_hours = 24
    const head = await idx.submit([{ path: REGISTRY_PATH, content: stableJson(registry) }], 'admin')
    expect(rules(await check(head, 'admin'))).toEqual([])
  })

  it('accepts a yank notice from an owner for a published version', async () => {
    const notice = signDocument(
      { schema: 'wharf:yank/v1' as const, name: 'acme:calc', version: '1.0.0', reason: 'miscompiles', yanked_at: '2026-01-02T00:00:00Z', publisher: { login: 'alice' } },
      PAYLOAD_TYPES.yank,
      parsePrivateKey(idx.key.privatePem),
    )
    const head = await idx.submit([{ path: 'index/packages/acme/calc/1.0.0.yank.json', content: stableJson(notice) }])
    expect(rules(await check(head))).toEqual([])
  })

  it('accepts an artifact fetched over http from a loopback host', async () => {
    const bytes = component('remote')
    const server = await serve((_req, res) => res.end(bytes))
    try {
      const record = await signedRecord('5.0.0', (r) => {
        r.artifacts = [{ name: 'calc.wasm', target: 'wasm32-wasip2', url: `${server.url}/calc.wasm`, sha256: sha(bytes), size: bytes.length }]
      })
      const head = await idx.submit([{ path: recordPath('acme:calc', '5.0.0'), content: stableJson(record) }])
      expect(rules(await check(head))).toEqual([])
    } finally {
      await server.close()
    }
  })
})

describe('rules broken on purpose', () => {
  it(`${RULES.appendOnly}: a modified record`, async () => {
    const file = recordPath('acme:calc', '1.0.0')
    const edited = { ...published, description: 'changed after publishing' }
    const result = await check(await idx.submit([{ path: file, content: stableJson(edited) }]))
    expect(rules(result)).toEqual([RULES.appendOnly])
    expect(result.findings[0]!.hint).toMatch(/new version|yank/)
  })

  it(`${RULES.appendOnly}: a deleted record`, async () => {
    const result = await check(await idx.submit([{ path: recordPath('acme:calc', '1.0.0'), content: null }]))
    expect(rules(result)).toEqual([RULES.appendOnly])
    expect(result.findings[0]!.message).toMatch(/deletes/)
  })

  it(`${RULES.namespaceChange}: a namespace file changed by a non-owner`, async () => {
    const ns = (await readJsonAt<NamespaceFile>(idx.repo, MAIN, namespacePath('acme')))!
    const head = await idx.submit([{ path: namespacePath('acme'), content: stableJson({ ...ns, owners: [{ login: 'mallory' }] }) }], 'mallory')
    const result = await check(head, 'mallory')
    expect(rules(result)).toEqual([RULES.namespaceChange])
    expect(result.findings[0]!.hint).toMatch(/alice/)
  })

  it(`${RULES.registryChange}: policy changed by a non-maintainer`, async () => {
    const registry = (await readJsonAt<RegistryFile>(idx.repo, MAIN, REGISTRY_PATH))!
    const head = await idx.submit([{ path: REGISTRY_PATH, content: stableJson({ ...registry, maintainers: [{ login: 'alice' }] }) }])
    expect(rules(await check(head))).toEqual([RULES.registryChange])
  })

  it(`${RULES.notOwner}: a record submitted by a non-owner`, async () => {
    const proposal = await idx.publish({ version: '2.0.0', author: 'mallory' })
    const result = await check(proposal.head, 'mallory')
    expect(rules(result)).toEqual([RULES.notOwner])
    expect(result.findings[0]!.message).toMatch(/mallory is not an owner of namespace "acme"/)
  })

  it(`${RULES.signature}: a record signed with a key not registered at base`, async () => {
    const stranger = generateKey()
    const proposal = await idx.publish({ version: '2.0.1', privateKey: stranger.privatePem })
    const result = await check(proposal.head)
    expect(rules(result)).toEqual([RULES.signature])
    expect(result.findings[0]!.message).toContain(`key ${stranger.id} is not one of the trusted keys`)
  })

  it(`${RULES.signature}: a key registered in the same submission does not count`, async () => {
    const stranger = generateKey()
    const ns = (await readJsonAt<NamespaceFile>(idx.repo, MAIN, namespacePath('acme')))!
    const withKey = { ...ns, keys: [...ns.keys, { id: stranger.id, algorithm: 'ed25519' as const, public_key: stranger.publicKey, added: '2026-01-01T00:00:00Z' }] }
    const record = await signedRecord('2.0.2', () => {}, parsePrivateKey(stranger.privatePem))
    const head = await idx.submit([
      { path: namespacePath('acme'), content: stableJson(withKey) },
      { path: recordPath('acme:calc', '2.0.2'), content: stableJson(record) },
    ])
    expect(rules(await check(head))).toEqual([RULES.signature])
  })

  it(`${RULES.signature}: a record whose hash was tampered with after signing; its artifact is not read until the signature verifies`, async () => {
    const record = await signedRecord('2.0.3')
    const tampered = { ...record, artifacts: [{ ...record.artifacts[0]!, sha256: sha(ADD_MODULE) }] }
    const result = await check(await idx.submit([{ path: recordPath('acme:calc', '2.0.3'), content: stableJson(tampered) }]))
    expect(rules(result)).toEqual([RULES.signature])
  })

  it(`${RULES.artifactDigest}: artifact bytes changed in the store after publishing`, async () => {
    const proposal = await idx.publish({ version: '2.0.4', bytes: component('original') })
    const file = artifactPath(idx.dir, proposal.record.artifacts[0]!.sha256)
    await fs.promises.chmod(file, 0o644)
    await fs.promises.writeFile(file, component('swapped!'))
    const result = await check(proposal.head)
    expect(rules(result)).toEqual([RULES.artifactDigest])
    expect(result.findings[0]!.message).toContain(proposal.record.artifacts[0]!.sha256)
  })

  it(`${RULES.fileType}: a symlink, made with the git CLI`, async () => {
    idx.git('checkout', '-q', '-b', 'symlink', MAIN)
    try {
      fs.mkdirSync(path.join(idx.dir, 'index/packages/acme/calc'), { recursive: true })
      fs.symlinkSync('/etc/passwd', path.join(idx.dir, 'index/packages/acme/calc/3.0.0.json'))
      idx.git('add', 'index')
      idx.git('commit', '-qm', 'link')
      const result = await check('symlink')
      expect(rules(result)).toEqual([RULES.fileType])
      expect(result.findings[0]!.message).toMatch(/symlink/)
    } finally {
      idx.git('checkout', '-qf', MAIN)
    }
  })

  it(`${RULES.fileType}: an executable file`, async () => {
    const record = await signedRecord('3.0.1')
    const head = await idx.submit([{ path: recordPath('acme:calc', '3.0.1'), content: stableJson(record), mode: '100755' }])
    expect(rules(await check(head))).toEqual([RULES.fileType])
  })

  it(`${RULES.outsideIndex}: a file outside index/ in the same submission`, async () => {
    const record = await signedRecord('3.0.2')
    const head = await idx.submit([
      { path: recordPath('acme:calc', '3.0.2'), content: stableJson(record) },
      { path: '.github/workflows/steal.yml', content: 'on: push\n' },
    ])
    const result = await check(head)
    expect(rules(result)).toEqual([RULES.outsideIndex])
    expect(result.findings[0]!.file).toBe('.github/workflows/steal.yml')
  })

  it(`${RULES.pathMismatch}: a path that disagrees with its record`, async () => {
    const record = await signedRecord('3.0.3')
    const result = await check(await idx.submit([{ path: recordPath('acme:calc', '3.0.4'), content: stableJson(record) }]))
    expect(rules(result)).toEqual([RULES.pathMismatch])
    expect(result.findings[0]!.message).toContain('acme:calc@3.0.3')
  })

  it(`${RULES.path}: odd bytes, bad versions and unknown layout`, async () => {
    for (const bad of ['index/packages/acme/calc/1.0.0 .json', 'index/packages/acme/Calc/1.0.0.json', 'index/packages/acme/calc/v1.0.0.json', 'index/packages/acme/calc/versions/1.0.0.json', 'index/other.json']) {
      const result = await check(await idx.submit([{ path: bad, content: '{}' }]))
      expect(rules(result), bad).toEqual([RULES.path])
    }
  })

  it(`${RULES.reports}: a submitter writing a compatibility report`, async () => {
    const result = await check(await idx.submit([{ path: 'index/reports/acme/calc/1.0.0/matrix.json', content: '{"score":100}' }]))
    expect(rules(result)).toEqual([RULES.reports])
  })

  it(`${RULES.fileSize}: a file over the size cap`, async () => {
    const record = await signedRecord('3.0.5', (r) => {
      r.keywords = ['x']
    })
    const huge = stableJson(record) + ' '.repeat(70 * 1024)
    expect(rules(await check(await idx.submit([{ path: recordPath('acme:calc', '3.0.5'), content: huge }])))).toEqual([RULES.fileSize])
  })

  it(`${RULES.json}: a record that is not JSON`, async () => {
    expect(rules(await check(await idx.submit([{ path: recordPath('acme:calc', '3.0.6'), content: '{"name": ' }])))).toEqual([RULES.json])
  })

  it(`${RULES.schema}: unknown fields and missing fields, named in the message`, async () => {
    const record = await signedRecord('3.0.7')
    const result = await check(await idx.submit([{ path: recordPath('acme:calc', '3.0.7'), content: stableJson({ ...record, extra: 1, description: undefined }) }]))
    expect(rules(result)).toEqual([RULES.schema])
    expect(result.findings[0]!.message).toContain('unknown field "extra"')
    expect(result.findings[0]!.message).toContain('description')
  })

  it(`${RULES.versionExists}: an existing version, also across build metadata`, async () => {
    for (const version of ['1.0.0+rebuilt', '1.0.0']) {
      const record = await signedRecord(version)
      const file = recordPath('acme:calc', version)
      const result = await check(await idx.submit([{ path: `${file.slice(0, -5)}.json`, content: stableJson(record) }]))
      expect(rules(result), version).toContain(version === '1.0.0' ? RULES.appendOnly : RULES.versionExists)
    }
  })

  it(`${RULES.versionExists}: the same version twice in one submission`, async () => {
    const a = await signedRecord('3.1.0+a')
    const b = await signedRecord('3.1.0+b')
    const result = await check(
      await idx.submit([
        { path: recordPath('acme:calc', '3.1.0+a'), content: stableJson(a) },
        { path: recordPath('acme:calc', '3.1.0+b'), content: stableJson(b) },
      ]),
    )
    expect(rules(result)).toEqual([RULES.versionExists])
  })

  it(`${RULES.namespaceUnknown}: a record in a namespace that does not exist`, async () => {
    const record = await signedRecord('1.0.0', (r) => {
      r.name = 'ghost:calc'
    })
    const result = await check(await idx.submit([{ path: recordPath('ghost:calc', '1.0.0'), content: stableJson(record) }]))
    expect(rules(result)).toEqual([RULES.namespaceUnknown])
    expect(result.findings[0]!.hint).toContain('wharf namespace add ghost')
  })

  it(`${RULES.dependency}: unknown packages, invalid and unsatisfiable ranges`, async () => {
    const cases: [string, string, RegExp][] = [
      ['acme:nothing', '^1.0.0', /not a package of this registry/],
      ['acme:calc', 'not a range!', /not a valid version requirement/],
      ['acme:calc', '^9.0.0', /no published version of acme:calc satisfies/],
    ]
    for (const [name, req, message] of cases) {
      const record = await signedRecord('4.0.0', (r) => {
        r.name = 'acme:calc-ui'
        r.dependencies = [{ name, req, optional: false }]
      })
      const result = await check(await idx.submit([{ path: recordPath('acme:calc-ui', '4.0.0'), content: stableJson(record) }]))
      expect(rules(result), `${name}@${req}`).toEqual([RULES.dependency])
      expect(result.findings[0]!.message).toMatch(message)
    }
    const good = await signedRecord('4.0.0', (r) => {
      r.name = 'acme:calc-ui'
      r.dependencies = [{ name: 'acme:calc', req: '^1.0.0', optional: false }]
    })
    expect(rules(await check(await idx.submit([{ path: recordPath('acme:calc-ui', '4.0.0'), content: stableJson(good) }])))).toEqual([])
  })

  it(`${RULES.artifactFetch}: an artifact missing from the store, a refused URL, an HTTP error`, async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 404
      res.end()
    })
    try {
      const missing = 'f'.repeat(64)
      const urls = [`sha256:${missing}`, 'http://example.com/calc.wasm', 'ftp://127.0.0.1/calc.wasm', `${server.url}/gone.wasm`]
      for (const url of urls) {
        const record = await signedRecord('4.1.0', (r) => {
          r.artifacts = [{ ...r.artifacts[0]!, url, sha256: url.startsWith('sha256:') ? missing : r.artifacts[0]!.sha256 }]
        })
        const result = await check(await idx.submit([{ path: recordPath('acme:calc', '4.1.0'), content: stableJson(record) }]))
        // ftp: URLs are already refused by the schema
        expect(rules(result), url).toEqual([url.startsWith('ftp') ? RULES.schema : RULES.artifactFetch])
      }
    } finally {
      await server.close()
    }
  })

  it(`${RULES.artifactFetch}: a redirect from loopback to plain http elsewhere is refused`, async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 302
      res.setHeader('location', 'http://example.com/calc.wasm')
      res.end()
    })
    try {
      const record = await signedRecord('4.1.1', (r) => {
        r.artifacts = [{ ...r.artifacts[0]!, url: `${server.url}/calc.wasm` }]
      })
      const result = await check(await idx.submit([{ path: recordPath('acme:calc', '4.1.1'), content: stableJson(record) }]))
      expect(rules(result)).toEqual([RULES.artifactFetch])
      expect(result.findings[0]!.message).toContain('http://example.com/calc.wasm')
    } finally {
      await server.close()
    }
  })

  it(`${RULES.artifactSize}: declared over the limit, size disagreeing, served larger than declared`, async () => {
    const big = await signedRecord('4.2.0', (r) => {
      r.artifacts = [{ ...r.artifacts[0]!, size: 60 * 1024 * 1024 }]
    })
    expect(rules(await check(await idx.submit([{ path: recordPath('acme:calc', '4.2.0'), content: stableJson(big) }])))).toEqual([RULES.artifactSize])

    const wrong = await signedRecord('4.2.1', (r) => {
      r.artifacts = [{ ...r.artifacts[0]!, size: r.artifacts[0]!.size + 1 }]
    })
    expect(rules(await check(await idx.submit([{ path: recordPath('acme:calc', '4.2.1'), content: stableJson(wrong) }])))).toEqual([RULES.artifactSize])

    const bytes = component('x'.repeat(2000))
    const server = await serve((_req, res) => res.end(bytes))
    try {
      const lying = await signedRecord('4.2.2', (r) => {
        r.artifacts = [{ name: 'calc.wasm', target: 'wasm32-wasip2', url: `${server.url}/calc.wasm`, sha256: sha(bytes), size: 100 }]
      })
      const result = await check(await idx.submit([{ path: recordPath('acme:calc', '4.2.2'), content: stableJson(lying) }]))
      expect(rules(result)).toEqual([RULES.artifactSize])
      expect(result.findings[0]!.message).toMatch(/larger than the 100-byte limit/)
    } finally {
      await server.close()
    }
  })

  it(`${RULES.artifactFormat}: bytes that are not wasm, and a module where a component is due`, async () => {
    const notWasm = await idx.publish({ version: '4.3.0', bytes: Buffer.from('#!/bin/sh\necho hi\n'), target: 'wasm32-wasip2' })
    const r1 = await check(notWasm.head)
    expect(rules(r1)).toEqual([RULES.artifactFormat])
    expect(r1.findings[0]!.message).toMatch(/not a WebAssembly binary/)

    const module = await idx.publish({ version: '4.3.1', bytes: ADD_MODULE, target: 'wasm32-wasip2' })
    const r2 = await check(module.head)
    expect(rules(r2)).toEqual([RULES.artifactFormat])
    expect(r2.findings[0]!.message).toMatch(/core wasm module.*needs a component/)

    const truncated = await idx.publish({ version: '4.3.2', bytes: ADD_MODULE.subarray(0, ADD_MODULE.length - 3), target: 'wasm32-unknown-unknown' })
    expect(rules(await check(truncated.head))).toEqual([RULES.artifactFormat])

    const core = await idx.publish({ version: '4.3.3', bytes: ADD_MODULE })
    expect(core.record.artifacts[0]!.target).toBe('wasm32-unknown-unknown')
    expect(rules(await check(core.head))).toEqual([])
  })

  it(`${RULES.yankUnknown} and ${RULES.notOwner}: yanks of unknown versions or by non-owners`, async () => {
    const key = parsePrivateKey(idx.key.privatePem)
    const notice = (version: string, login: string): YankNotice =>
      signDocument({ schema: 'wharf:yank/v1' as const, name: 'acme:calc', version, reason: 'bad', yanked_at: '2026-01-02T00:00:00Z', publisher: { login } }, PAYLOAD_TYPES.yank, key)
    const unknown = await check(await idx.submit([{ path: 'index/packages/acme/calc/9.9.9.yank.json', content: stableJson(notice('9.9.9', 'alice')) }]))
    expect(rules(unknown)).toEqual([RULES.yankUnknown])
    const stranger = await check(await idx.submit([{ path: 'index/packages/acme/calc/1.0.0.yank.json', content: stableJson(notice('1.0.0', 'mallory')) }], 'mallory'), 'mallory')
    expect(rules(stranger)).toEqual([RULES.notOwner])
  })
})

describe('namespace claims', () => {
  async function claim(ns: string, author: string, owners = [{ login: author }]) {
    const key = generateKey()
    const file: NamespaceFile = {
      schema: 'wharf:namespace/v1',
      namespace: ns,
      owners,
      keys: [{ id: key.id, algorithm: 'ed25519', public_key: key.publicKey, added: '2026-01-01T00:00:00Z' }],
      created_at: '2026-01-01T00:00:00Z',
    }
    return idx.submit([{ path: namespacePath(ns), content: stableJson(file) }], author)
  }

  it('accepts a free, ordinary name', async () => {
    expect(rules(await check(await claim('tools', 'bob'), 'bob'))).toEqual([])
  })

  it(`${RULES.lookalike}: names that read like an existing namespace or package`, async () => {
    for (const name of ['acrne', 'a-c-m-e', 'calc', 'caic']) {
      const result = await check(await claim(name, 'bob'), 'bob')
      expect(rules(result), name).toEqual(name === 'calc' ? [] : [RULES.lookalike])
    }
    await idx.release({ name: 'acme:calculator', version: '1.0.0' })
    const result = await check(await claim('calculater', 'bob'), 'bob')
    expect(rules(result)).toEqual([RULES.lookalike])
    expect(result.findings[0]!.message).toContain('acme:calculator')
  })

  it(`${RULES.reserved}: reserved names, except for maintainers`, async () => {
    expect(rules(await check(await claim('wasi', 'bob'), 'bob'))).toEqual([RULES.reserved])
    expect(rules(await check(await claim('wasi', 'admin'), 'admin'))).toEqual([])
  })

  it(`${RULES.claimAuthor}: claiming a namespace for someone else`, async () => {
    expect(rules(await check(await claim('gadgets', 'bob', [{ login: 'carol' }]), 'bob'))).toEqual([RULES.claimAuthor])
  })

  it(`${RULES.waitingPeriod}: a claim waits out the policy's period, then passes`, async () => {
    const registry = (await readJsonAt<RegistryFile>(idx.repo, MAIN, REGISTRY_PATH))!
    registry.policy.namespaces.waiting_period_hours = 72
    const base = await idx.submit([{ path: REGISTRY_PATH, content: stableJson(registry) }], 'admin')
    const key = generateKey()
    const claimed = await proposeNamespace(idx.repo, { namespace: 'widgets', owners: [{ login: 'bob' }], publicKey: key.publicPem })
    const onBase = await runCheck({ repo: idx.repo, base, head: await rebase(claimed.head, base), author: { login: 'bob' } })
    expect(rules(onBase)).toEqual([RULES.waitingPeriod])
    expect(onBase.findings[0]!.hint).toMatch(/can merge after \d{4}-/)
    const later = await runCheck({ repo: idx.repo, base, head: await rebase(claimed.head, base), author: { login: 'bob' }, now: new Date(Date.now() + 73 * 3_600_000) })
    expect(rules(later)).toEqual([])
  })
})

describe('cannot run', () => {
  it('throws typed errors for unknown refs and for repos that are not an index', async () => {
    await expect(check('no-such-branch')).rejects.toMatchObject({ code: 'BAD_REF' })
    const plain = await tempDir()
    execFileSync('git', ['init', '-q', '-b', 'main', plain])
    fs.writeFileSync(path.join(plain, 'README'), 'hi\n')
    execFileSync('git', ['-C', plain, 'add', '.'])
    execFileSync('git', ['-C', plain, '-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-qm', 'x'])
    await expect(runCheck({ repo: openRepo(plain), base: MAIN, head: MAIN, author: { login: 'alice' } })).rejects.toMatchObject({ code: 'NOT_AN_INDEX' })
    expect(() => openRepo(path.join(plain, 'nowhere'))).toThrow(/not an index repo/)
  })
})

/** The proposal's commit replayed on `base`, as a pull request is tested as merged. */
async function rebase(head: string, base: string): Promise<string> {
  const { writeCommitWith, diffCommits, readCommitInfo } = await import('../../src/git/index.js')
  const parent = (await readCommitInfo(idx.repo, head)).parents[0]!
  const changes = await diffCommits(idx.repo, parent, head)
  return writeCommitWith(idx.repo, { parents: [base], files: changes.map((c) => ({ path: c.path, content: null, oid: c.oid, mode: c.mode })), message: 'rebased', author: { login: 'bob', timestamp: (await readCommitInfo(idx.repo, head)).author.timestamp } })
}

const sha = sha256Hex

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
