/**
 * build-api over a real index repo: after every kind of change (new package,
 * new version, nested package, yank, report, namespace claim and key
 * rotation, crate packages and a crate-name clash, a merge commit), an
 * incremental build from the previous commit writes exactly the bytes of a
 * full build.
 */
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi, runVersionFields, type BuildApiResult } from '../../src/api/index.js'
import { Pool } from '../../src/api/parallel.js'
import { exitCodeFor, isWharfError, noSpaceError } from '../../src/core/errors.js'
import { siteRenderer } from '../../src/site/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { namespacePath, recordPath, yankPath } from '../../src/core/layout.js'
import { sha256Hex } from '../../src/core/hash.js'
import type { NamespaceFile, VersionRecord, YankNotice } from '../../src/core/types.js'
import { MAIN, ObjectReader, readJsonAt, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import { readJson, readTree, treeDifferences } from '../fixtures/api/tree.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

const NOW = new Date('2026-03-01T12:00:00Z')
const BASE = 'http://127.0.0.1:9'

let idx: TestIndex
let work: string
let incremental: string
let built: string

async function step(what: string, change: () => Promise<unknown>): Promise<{ inc: BuildApiResult; full: BuildApiResult; out: string }> {
  await change()
  const since = built
  const inc = await buildApi({ repo: idx.repo, out: incremental, baseUrl: BASE, since, now: NOW })
  const out = path.join(work, `full-${what}`)
  const full = await buildApi({ repo: idx.repo, out, baseUrl: BASE, now: NOW })
  built = await resolveCommit(idx.repo, MAIN)
  return { inc, full, out }
}

function expectSame(out: string): void {
  expect(treeDifferences(readTree(incremental), readTree(out))).toEqual([])
}

async function crateFile(name: string, version: string, label: string): Promise<{ file: string; sha: string }> {
  const file = path.join(work, `${name}-${version}.crate`)
  const bytes = gzipSync(Buffer.from(`${name} ${version} ${label}`))
  await fs.promises.writeFile(file, bytes)
  return { file, sha: sha256Hex(bytes) }
}

beforeAll(async () => {
  work = await tempDir('wharf-api-build-')
  incremental = path.join(work, 'site')
  idx = await createTestIndex()
  await idx.release({ version: '1.0.0', keywords: ['math'] })
  const first = await buildApi({ repo: idx.repo, out: incremental, baseUrl: BASE, now: NOW })
  expect(first.mode).toBe('full')
  built = await resolveCommit(idx.repo, MAIN)
})

describe('incremental builds equal full builds', () => {
  it('after a new version', async () => {
    const { inc, out } = await step('version', () => idx.release({ version: '1.1.0' }))
    expect(inc).toMatchObject({ mode: 'incremental', events: 1, seq: 2, packages: 1 })
    expectSame(out)
    expect(readJson(incremental, 'api/v1/packages/acme:calc/versions')).toMatchObject({ name: 'acme:calc', versions: ['1.0.0', '1.1.0'], latest: '1.1.0' })
  })

  it('after a nested package that depends on another', async () => {
    const { inc, out } = await step('nested', () => idx.release({ name: 'acme:calc/fmt', version: '0.1.0-rc.1', dependencies: [{ name: 'acme:calc', req: '^1.0.0', optional: true }] }))
    expect(inc.mode).toBe('incremental')
    expectSame(out)
    const doc = readJson(incremental, 'api/v1/packages/acme:calc/fmt/0.1.0-rc.1')
    expect(doc.dependencies).toEqual([{ name: 'acme:calc', version: '^1.0.0', optional: true }])
    expect(readJson(incremental, 'api/v1/packages.json')).toMatchObject({ total: 2, pages: 1, page_url: `${BASE}/api/v1/package-list/{page}.json` })
    expect(readJson(incremental, 'api/v1/package-list/0.json')).toMatchObject({ first: 0, packages: ['acme:calc', 'acme:calc/fmt'] })
    // the parent package's documents sit next to the nested package's directory
    expect(readJson(incremental, 'api/v1/packages/acme:calc/versions').versions).toEqual(['1.0.0', '1.1.0'])
  })

  it('after a yank', async () => {
    const notice = signDocument(
      { schema: 'wharf:yank/v1' as const, name: 'acme:calc', version: '1.1.0', reason: 'miscompiles', yanked_at: '2026-02-01T00:00:00Z', publisher: { login: 'alice' } },
      PAYLOAD_TYPES.yank,
      parsePrivateKey(idx.key.privatePem),
    ) as YankNotice
    const { inc, out } = await step('yank', async () => {
      const head = await idx.submit([{ path: yankPath('acme:calc', '1.1.0'), content: stableJson(notice) }], 'alice', 'yank/1')
      expect(head).toBeTruthy()
      const merged = await mergeProposal(idx.repo, { branch: 'yank/1', author: { login: 'alice' } })
      expect(merged.merged, JSON.stringify(merged.check.findings)).toBe(true)
    })
    expect(inc).toMatchObject({ mode: 'incremental', events: 1 })
    expectSame(out)
    expect(readJson(incremental, 'api/v1/packages/acme:calc/versions')).toMatchObject({ yanked: ['1.1.0'], latest: '1.0.0' })
    expect(readJson(incremental, 'api/v1/packages/acme:calc/1.1.0')).toMatchObject({ yanked: true, yank: { reason: 'miscompiles' } })
    const feed = readJson<{ entries: { seq: number; type: string; version: string }[] }>(incremental, 'api/v1/feed/0.json')
    expect(feed.entries.map((e) => `${e.seq} ${e.type} ${e.version}`)).toEqual(['1 publish 1.0.0', '2 publish 1.1.0', '3 publish 0.1.0-rc.1', '4 yank 1.1.0'])
  })

  it('after a compatibility report lands, and again when it changes', async () => {
    const report = (score: number) =>
      writeCommitWith(idx.repo, {
        parents: [built],
        files: [
          { path: 'index/reports/acme/calc/1.0.0/summary.json', content: stableJson({ score, dual_compilation: true, targets: ['wasm32-wasip2'] }) },
          { path: 'index/reports/acme/calc/1.0.0/wasm32-wasip2.json', content: stableJson({ passed: 3 }) },
          { path: 'index/reports/acme/calc/1.1.0/report.json', content: stableJson(matrixReport(score)) },
        ],
        message: 'Reports for acme:calc@1.0.0',
        author: { login: 'admin' },
      }).then((c) => setBranch(idx.repo, MAIN, c))
    const matrixReport = (total: number) => ({
      schema: 'wharf:report/v1',
      targets: [{ target: 'wasm32-wasip2', status: 'passed', metrics: {} }, { target: 'wasm32-unknown-unknown', status: 'failed' }],
      verdicts: { dual_compilation: { value: false, reason: 'no' }, speed_ratio: { value: 1.5 }, gc_readiness: { level: 'G2', ladder: [] } },
      score: { total, breakdown: [] },
    })
    const first = await step('report', () => report(80))
    expect(first.inc).toMatchObject({ mode: 'incremental', events: 0 })
    expectSame(first.out)
    expect(readJson(incremental, 'api/v1/packages/acme:calc/1.0.0').report).toMatchObject({ summary: { score: 80, dual_compilation: true }, files: [{ path: 'index/reports/acme/calc/1.0.0/summary.json' }, {}] })
    expect(readJson(incremental, 'api/v1/packages/acme:calc/1.1.0').report).toEqual({
      files: [{ path: 'index/reports/acme/calc/1.1.0/report.json', url: `${BASE}/index/reports/acme/calc/1.1.0/report.json`, size: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }],
      summary: { score: 80, dual_compilation: false, speed_ratio: 1.5, gc_readiness: 'G2', targets: [{ target: 'wasm32-wasip2', status: 'passed' }, { target: 'wasm32-unknown-unknown', status: 'failed' }] },
    })
    const second = await step('report-2', () => report(95))
    expectSame(second.out)
    expect(readJson(incremental, 'api/v1/packages/acme:calc/1.0.0').report).toMatchObject({ summary: { score: 95 } })
  })

  it('after a namespace claim and a key rotation', async () => {
    const { out } = await step('namespaces', async () => {
      const bob = generateKey()
      const claim = await proposeNamespace(idx.repo, { namespace: 'beta', owners: [{ login: 'bob' }], publicKey: bob.publicPem, author: 'bob' })
      expect((await mergeProposal(idx.repo, { branch: claim.branch, author: { login: 'bob' } })).merged).toBe(true)
      const ns = (await readJsonAt<NamespaceFile>(idx.repo, MAIN, namespacePath('acme')))!
      const extra = generateKey()
      const rotated = { ...ns, keys: [...ns.keys, { id: extra.id, algorithm: 'ed25519' as const, public_key: extra.publicKey, added: '2026-02-02T00:00:00Z' }] }
      await idx.submit([{ path: namespacePath('acme'), content: stableJson(rotated) }], 'alice', 'rotate')
      expect((await mergeProposal(idx.repo, { branch: 'rotate', author: { login: 'alice' } })).merged).toBe(true)
    })
    expectSame(out)
    expect(readJson(incremental, 'api/v1/namespaces.json').namespaces).toEqual(['acme', 'beta'])
    expect((readJson(incremental, 'api/v1/namespaces/acme').keys as unknown[]).length).toBe(2)
    expect(readJson(incremental, 'api/v1/namespaces/acme').packages).toEqual(['acme:calc', 'acme:calc/fmt'])
  })

  it('after crate packages, the second one clashing on the crate name', async () => {
    const core = await crateFile('Calc_Core', '0.1.0', 'one')
    const { inc, out } = await step('crates', async () => {
      await idx.release({
        artifact: core.file,
        name: 'acme:calc-core',
        version: '0.1.0',
        kind: 'crate',
        crate: { name: 'Calc_Core', cksum: core.sha, features: { default: ['std'], std: [], serde: ['dep:serde'] }, deps: [{ name: 'serde', req: '^1', optional: true, registry: 'https://github.com/rust-lang/crates.io-index' }] },
      } as never)
      // check now refuses a second package for a crate name (record/crate-name, record/crate-taken); an index may still
      // hold one from before, or from a peer, so it lands here as such a commit would, past the gate.
      const clash = await crateFile('calc-core', '0.2.0', 'two')
      const proposal = await idx.publish({ artifact: clash.file, name: 'acme:calc-core-too', version: '0.2.0', kind: 'crate', crate: { name: 'calc-core', cksum: clash.sha } } as never)
      await setBranch(idx.repo, MAIN, proposal.head)
    })
    expect(inc.mode).toBe('incremental')
    expect(inc.warnings.join('\n')).toContain('acme:calc-core-too: crate name calc-core belongs to acme:calc-core')
    expectSame(out)
    const lines = fs.readFileSync(path.join(incremental, 'cargo/ca/lc/calc_core'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines).toEqual([
      {
        name: 'Calc_Core',
        vers: '0.1.0',
        cksum: core.sha,
        deps: [{ name: 'serde', req: '^1', features: [], optional: true, default_features: true, target: null, kind: 'normal', registry: 'https://github.com/rust-lang/crates.io-index' }],
        features: { default: ['std'], std: [] },
        features2: { serde: ['dep:serde'] },
        yanked: false,
        links: null,
        v: 2,
      },
    ])
    expect(fs.existsSync(path.join(incremental, 'cargo/ca/lc/calc-core'))).toBe(false)
    expect(readJson(incremental, 'api/v1/crates/calc-core')).toMatchObject({ crate: 'Calc_Core', package: 'acme:calc-core' })
    // The version document holds every field a Run 2.0 client reads, as runVersionFields gives them, then wharf's own.
    const record = (await readJsonAt<VersionRecord>(idx.repo, await resolveCommit(idx.repo, MAIN), recordPath('acme:calc-core', '0.1.0')))!
    const doc = readJson(incremental, 'api/v1/packages/acme:calc-core/0.1.0')
    expect(doc).toMatchObject({ ...runVersionFields(record, `${BASE}/artifacts/sha256/${core.sha}`), crate: { name: 'Calc_Core', cksum: core.sha }, namespace: 'acme', publisher: 'alice', yanked: false })
    // the .crate is served where cargo/config.json's dl template points
    expect(readJson(incremental, 'cargo/config.json').dl).toBe(`${BASE}/artifacts/sha256/{sha256-checksum}`)
    expect(sha256Hex(fs.readFileSync(path.join(incremental, `artifacts/sha256/${core.sha}`)))).toBe(core.sha)
  })

  it('after a merge commit and several commits at once', async () => {
    const late = await idx.publish({ version: '1.3.0' })
    const { inc, out } = await step('merge', async () => {
      await idx.release({ version: '1.2.0' })
      expect((await mergeProposal(idx.repo, { branch: late.branch, author: { login: 'alice' } })).merged).toBe(true)
      await idx.release({ name: 'acme:calc/fmt', version: '0.1.0' })
    })
    expect(inc).toMatchObject({ mode: 'incremental', events: 3 })
    expectSame(out)
    const stats = readJson(incremental, 'api/v1/stats')
    expect(stats).toEqual({ package_count: 4, version_count: 8, download_count: 0, uptime_percent: 100, yanked_count: 1, namespace_count: 2, crate_count: 1, commit: built })
  })
})

describe('a full build on worker threads', () => {
  it('writes the same bytes as one on the main thread', async () => {
    const inline = path.join(work, 'full-inline')
    const threaded = path.join(work, 'full-threads')
    await buildApi({ repo: idx.repo, out: inline, baseUrl: BASE, now: NOW, threads: 0 })
    const result = await buildApi({ repo: idx.repo, out: threaded, baseUrl: BASE, now: NOW, threads: 2 })
    expect(result.mode).toBe('full')
    expect(treeDifferences(readTree(inline), readTree(threaded))).toEqual([])
    expect(treeDifferences(readTree(incremental), readTree(threaded))).toEqual([])
  })

  it('hands back a thread’s failure as it was thrown: a system error keeps its errno code, which never becomes a code of ours', async () => {
    const reader = new ObjectReader(idx.dir, true)
    const pool = new Pool(1, { store: reader.share(), root: work, site: undefined as never, indexDir: idx.dir, pages: { module: siteRenderer.module, format: siteRenderer.format } })
    try {
      const failure = await pool.run({ kind: 'pages', task: { file: 'no-such-open-pages', dependents: [] } }).catch((e: unknown) => e)
      expect(isWharfError(failure)).toBe(false)
      expect((failure as NodeJS.ErrnoException).code).toBe('ENOENT')
      expect(exitCodeFor(failure)).toBe(3)
      // A full disk on a thread is told as one, as on the main thread.
      const full = Object.assign(failure as Error, { code: 'ENOSPC' })
      expect(noSpaceError(full, 'the full build')?.code).toBe('NO_SPACE')
    } finally {
      await pool.close()
      reader.close()
    }
  })
})

describe('an incremental build cut short', () => {
  it('is finished by running it again: documents already written, snapshot and state not yet', async () => {
    const root = fs.realpathSync(incremental)
    const saved = path.join(work, 'saved-state')
    // What a crash just before the snapshot leaves: the old snapshot and build state next to new documents.
    await fs.promises.cp(path.join(root, 'snapshot'), path.join(saved, 'snapshot'), { recursive: true })
    await fs.promises.cp(path.join(root, 'snapshot.json'), path.join(saved, 'snapshot.json'))
    await fs.promises.cp(path.join(root, '.wharf/build.json'), path.join(saved, 'build.json'))
    await idx.release({ version: '1.4.0' })
    const first = await buildApi({ repo: idx.repo, out: incremental, baseUrl: BASE, since: built, now: NOW })
    expect(first.mode).toBe('incremental')
    await fs.promises.rm(path.join(root, 'snapshot'), { recursive: true })
    await fs.promises.cp(path.join(saved, 'snapshot'), path.join(root, 'snapshot'), { recursive: true })
    await fs.promises.cp(path.join(saved, 'snapshot.json'), path.join(root, 'snapshot.json'))
    await fs.promises.cp(path.join(saved, 'build.json'), path.join(root, '.wharf/build.json'))
    const again = await buildApi({ repo: idx.repo, out: incremental, baseUrl: BASE, since: built, now: NOW })
    expect(again).toMatchObject({ mode: 'incremental', events: 1 })
    const full = path.join(work, 'full-after-crash')
    await buildApi({ repo: idx.repo, out: full, baseUrl: BASE, now: NOW })
    expectSame(full)
    built = await resolveCommit(idx.repo, MAIN)
  })
})

describe('an incremental build over search documents laid out otherwise', () => {
  it('parses them, and writes the bytes a full build writes', async () => {
    // An older wharf, or a hand, may have written the shards and their top in another layout: the elements cannot be kept as bytes.
    const dir = path.join(fs.realpathSync(incremental), 'api/v1/search-index')
    const relaid = fs.readdirSync(dir).filter((name) => name === 'index.json' || fs.readFileSync(path.join(dir, name), 'utf8').includes('"name": "acme:calc"'))
    expect(relaid).toHaveLength(2)
    for (const name of relaid) fs.writeFileSync(path.join(dir, name), JSON.stringify(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))))
    await idx.release({ version: '1.5.0' })
    expect(await buildApi({ repo: idx.repo, out: incremental, baseUrl: BASE, since: built, now: NOW })).toMatchObject({ mode: 'incremental', events: 1 })
    const full = path.join(work, 'full-after-relayout')
    await buildApi({ repo: idx.repo, out: full, baseUrl: BASE, now: NOW })
    expectSame(full)
    built = await resolveCommit(idx.repo, MAIN)
  })
})

describe('when an incremental build cannot be one', () => {
  it('rebuilds in full when --since is not what the output was built from, or the base URL changed', async () => {
    const older = await resolveCommit(idx.repo, `${MAIN}~3`)
    const stale = await buildApi({ repo: idx.repo, out: incremental, baseUrl: BASE, since: older, now: NOW })
    expect(stale).toMatchObject({ mode: 'full', reason: expect.stringContaining('the output was built from') })
    const moved = await buildApi({ repo: idx.repo, out: incremental, baseUrl: 'https://registry.example', since: built, now: NOW })
    expect(moved).toMatchObject({ mode: 'full', reason: expect.stringContaining('built for http://127.0.0.1:9') })
    expect(readJson(incremental, 'api/v1/packages/acme:calc/1.0.0').download_url).toMatch(/^https:\/\/registry\.example\/artifacts\/sha256\/[0-9a-f]{64}$/)
  })

  it('refuses to replace a directory it did not make, and keeps one build behind the out link', async () => {
    const foreign = path.join(work, 'foreign')
    fs.mkdirSync(foreign)
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine')
    await expect(buildApi({ repo: idx.repo, out: foreign, baseUrl: BASE })).rejects.toMatchObject({ code: 'USAGE' })
    expect(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8')).toBe('mine')
    expect(fs.lstatSync(incremental).isSymbolicLink()).toBe(true)
    expect(fs.readdirSync(path.join(work, '.site.builds')).filter((e) => e !== '.wharf')).toHaveLength(1)
  })
})
