/**
 * The site is built like the API: after each kind of change an incremental
 * build from the previous commit writes exactly the bytes of a full build,
 * pages and badges included, and rewrites only the pages the change is about.
 */
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi, type BuildApiResult } from '../../src/api/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { generateKey } from '../../src/core/keys.js'
import { namespacePath, REGISTRY_PATH } from '../../src/core/layout.js'
import type { NamespaceFile, RegistryFile } from '../../src/core/types.js'
import { MAIN, readJsonAt, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { mergeProposal } from '../../src/publish/index.js'
import { siteRenderer } from '../../src/site/index.js'
import { readJson, readTree, treeDifferences } from '../fixtures/api/tree.js'
import { createSiteIndex, matrixReport, type SiteIndex } from './fixture.js'

const NOW = new Date('2026-03-01T12:00:00Z')
const BASE = 'http://127.0.0.1:9'

let site: SiteIndex
let incremental: string
let built: string

async function step(what: string, change: () => Promise<unknown>): Promise<{ inc: BuildApiResult; before: Map<string, Buffer>; after: Map<string, Buffer> }> {
  const before = readTree(incremental)
  await change()
  const inc = await buildApi({ repo: site.idx.repo, out: incremental, baseUrl: BASE, since: built, now: NOW, pages: siteRenderer })
  const full = path.join(site.work, `full-${what}`)
  await buildApi({ repo: site.idx.repo, out: full, baseUrl: BASE, now: NOW, pages: siteRenderer })
  const after = readTree(incremental)
  expect(treeDifferences(after, readTree(full))).toEqual([])
  built = await resolveCommit(site.idx.repo, MAIN)
  return { inc, before, after }
}

/** Pages and badges whose bytes a build changed or added. */
const changedPages = (before: Map<string, Buffer>, after: Map<string, Buffer>) => treeDifferences(before, after).filter((f) => /\.(html|svg)$/.test(f))

beforeAll(async () => {
  site = await createSiteIndex()
  incremental = path.join(site.work, 'public')
  const first = await buildApi({ repo: site.idx.repo, out: incremental, baseUrl: BASE, now: NOW, pages: siteRenderer })
  expect(first.mode).toBe('full')
  built = await resolveCommit(site.idx.repo, MAIN)
})

describe('incremental builds of the site equal full builds', () => {
  it('after a new version: its package pages, its badges and home change, nothing else', async () => {
    const { inc, before, after } = await step('version', () => site.idx.release({ name: 'acme:calc', version: '1.3.0', description: 'A calculator component that answers HTTP requests' }))
    expect(inc.mode).toBe('incremental')
    expect(changedPages(before, after)).toEqual([
      'badges/acme:calc.svg',
      'badges/acme:calc/native.svg',
      'badges/acme:calc/wasm32-unknown-unknown.svg',
      'badges/acme:calc/wasm32-wasip1.svg',
      'badges/acme:calc/wasm32-wasip2.svg',
      'index.html',
      'packages/acme:calc.html',
      'packages/acme:calc@1.3.0.html',
    ])
    // the badges now speak of 1.3.0, which has no report yet
    expect(after.get('badges/acme:calc.svg')!.toString()).toContain('v1.3.0')
    expect(after.get('badges/acme:calc/wasm32-wasip2.svg')!.toString()).toContain('untested')
  })

  it('after a report lands: that version and the package page', async () => {
    const { before, after } = await step('report', () => site.report('acme:calc', '1.3.0', matrixReport({ score: 90, speed: 1.2 })))
    expect(changedPages(before, after)).toEqual(expect.arrayContaining(['packages/acme:calc.html', 'packages/acme:calc@1.3.0.html', 'badges/acme:calc/wasm32-wasip2.svg']))
    expect(changedPages(before, after).filter((f) => !f.includes('acme:calc.') && !f.includes('acme:calc@') && !f.includes('acme:calc/'))).toEqual(['index.html'])
    expect(after.get('badges/acme:calc/wasm32-wasip2.svg')!.toString()).toContain('passing')
    expect(after.get('badges/acme:calc/wasm32-unknown-unknown.svg')!.toString()).toContain('failing')
  })

  it('after a new dependent: the page of the package depended on lists it', async () => {
    const { before, after } = await step('dependent', () =>
      site.idx.release({ name: 'beta:tool', version: '0.2.0', author: 'bob', dependencies: [{ name: 'acme:calc/fmt', req: '^0.1', optional: false }] }),
    )
    expect(changedPages(before, after)).toContain('packages/acme:calc/fmt.html')
    expect(after.get('packages/acme:calc/fmt.html')!.toString()).toMatch(/beta:tool<\/a> <span class="muted">0\.2\.0 needs<\/span> <span class="mono">\^0\.1<\/span>/)
    expect(readJson(incremental, 'api/v1/dependents/acme:calc/fmt.json')).toMatchObject({ name: 'acme:calc/fmt', dependents: [{ name: 'beta:tool', version: '0.2.0', req: '^0.1', optional: false }] })
    // beta:tool 0.2.0 no longer names acme:calc; its highest version that does (0.1.0) stays listed
    expect(readJson(incremental, 'api/v1/dependents/acme:calc.json')).toMatchObject({ dependents: [{ name: 'acme:calc/fmt' }, { name: 'beta:tool', version: '0.1.0' }] })
  })

  it('after a yank: the version page says why, the package page marks it', async () => {
    const { after } = await step('yank', () => site.yank('acme:calc', '1.3.0', 'wrong results for negative numbers'))
    expect(after.get('packages/acme:calc@1.3.0.html')!.toString()).toContain('wrong results for negative numbers')
    expect(after.get('badges/acme:calc.svg')!.toString()).toContain('v1.2.0')
  })

  it('after a key rotation: every page of the namespace names the keys again', async () => {
    const { before, after } = await step('rotation', async () => {
      const ns = (await readJsonAt<NamespaceFile>(site.idx.repo, MAIN, namespacePath('acme')))!
      const extra = generateKey()
      const rotated = { ...ns, owners: [...ns.owners, { login: 'dave' }], keys: [...ns.keys, { id: extra.id, algorithm: 'ed25519' as const, public_key: extra.publicKey, added: '2026-02-25T00:00:00Z' }] }
      await site.idx.submit([{ path: namespacePath('acme'), content: stableJson(rotated) }], 'alice', 'rotate')
      expect((await mergeProposal(site.idx.repo, { branch: 'rotate', author: { login: 'alice' } })).merged).toBe(true)
    })
    expect(changedPages(before, after)).toEqual(expect.arrayContaining(['namespaces/acme.html', 'packages/acme:evil.html', 'packages/acme:calc-core@0.3.0.html']))
    expect(after.get('packages/acme:evil.html')!.toString()).toContain('dave')
    expect(changedPages(before, after).some((f) => f.includes('beta'))).toBe(false)
  })

  it('after a first report: per-target badges appear; a nested package named like a target keeps that path', async () => {
    const { before, after } = await step('first-report', () => site.report('acme:calc-core', '0.3.0', matrixReport({ score: 60, speed: 2 })))
    expect(changedPages(before, after).filter((f) => f.startsWith('badges/'))).toEqual([
      'badges/acme:calc-core/native.svg',
      'badges/acme:calc-core/wasm32-unknown-unknown.svg',
      'badges/acme:calc-core/wasm32-wasip1.svg',
      'badges/acme:calc-core/wasm32-wasip2.svg',
    ])
    const { after: nested } = await step('nested', () => site.idx.release({ name: 'acme:calc-core/native', version: '0.1.0', description: 'Native bindings' }))
    expect(nested.get('badges/acme:calc-core/native.svg')!.toString()).toContain('v0.1.0')
    expect(nested.get('badges/acme:calc-core/wasm32-wasip2.svg')!.toString()).toContain('passing')
    expect(nested.get('packages/acme:calc-core.html')!.toString()).toContain('href="./acme:calc-core/native.html"')
    // an incremental build that renders the parent again leaves the child's badge standing, as a full build does
    const { after: again } = await step('nested-parent', () => site.idx.release({ name: 'acme:calc-core', version: '0.4.0', kind: 'component', description: 'now a component' }))
    expect(again.get('badges/acme:calc-core/native.svg')!.toString()).toContain('v0.1.0')
    expect(after.get('badges/acme:calc-core/native.svg')!.toString()).toContain('passing')
  })

  it('rebuilds in full when a report was removed, since a badge may then go', async () => {
    const { inc } = await step('report-removed', async () => {
      const files = [{ path: 'index/reports/acme/calc-core/0.3.0/report.json', content: null }]
      const commit = await writeCommitWith(site.idx.repo, { parents: [await resolveCommit(site.idx.repo, MAIN)], files, message: 'Withdraw a report', author: { login: 'admin' } })
      await setBranch(site.idx.repo, MAIN, commit)
    })
    expect(inc).toMatchObject({ mode: 'full', reason: expect.stringContaining('a compatibility report was removed') })
    expect(fs.existsSync(path.join(incremental, 'badges/acme:calc-core/wasm32-wasip2.svg'))).toBe(false)
  })

  it('rebuilds in full when registry.json changed, since every page names the registry', async () => {
    const { inc, after } = await step('registry', async () => {
      const registry = (await readJsonAt<RegistryFile>(site.idx.repo, MAIN, REGISTRY_PATH))!
      const commit = await writeCommitWith(site.idx.repo, {
        parents: [await resolveCommit(site.idx.repo, MAIN)],
        files: [{ path: REGISTRY_PATH, content: stableJson({ ...registry, name: 'harbour' }) }],
        message: 'Rename the registry',
        author: { login: 'admin' },
      })
      await setBranch(site.idx.repo, MAIN, commit)
    })
    expect(inc).toMatchObject({ mode: 'full', reason: expect.stringContaining('index/registry.json changed') })
    expect(after.get('packages/beta:tool.html')!.toString()).toContain('<a class="brand" href="../index.html">harbour</a>')
  })

  it('rebuilds in full when the output has pages and the build writes none, and the other way round', async () => {
    const apiOnly = await buildApi({ repo: site.idx.repo, out: incremental, baseUrl: BASE, since: built, now: NOW })
    expect(apiOnly).toMatchObject({ mode: 'full', reason: 'the output has pages and this build writes none' })
    expect(fs.existsSync(path.join(incremental, 'index.html'))).toBe(false)
    const withPages = await buildApi({ repo: site.idx.repo, out: incremental, baseUrl: BASE, since: built, now: NOW, pages: siteRenderer })
    expect(withPages).toMatchObject({ mode: 'full', reason: 'the output has no pages yet' })
    expect(fs.existsSync(path.join(incremental, 'index.html'))).toBe(true)
  })
})

describe('a full build of the site on worker threads', () => {
  it('writes the same pages, badges and dependents lists as one on the main thread', async () => {
    const inline = path.join(site.work, 'threads-0')
    const threaded = path.join(site.work, 'threads-2')
    await buildApi({ repo: site.idx.repo, out: inline, baseUrl: BASE, now: NOW, pages: siteRenderer, threads: 0 })
    const result = await buildApi({ repo: site.idx.repo, out: threaded, baseUrl: BASE, now: NOW, pages: siteRenderer, threads: 2 })
    expect(result.mode).toBe('full')
    const pages = readTree(threaded)
    expect([...pages.keys()].filter((f) => f.startsWith('api/v1/dependents/')).length).toBeGreaterThan(0)
    expect([...pages.keys()].filter((f) => f.startsWith('packages/') && f.endsWith('.html')).length).toBeGreaterThan(0)
    expect(treeDifferences(readTree(inline), pages)).toEqual([])
    // The package pages wait for their dependents in the tree being built, never in the one served.
    expect(fs.existsSync(path.join(threaded, '.wharf/open-pages'))).toBe(false)
    expect(fs.existsSync(path.join(inline, '.wharf/open-pages'))).toBe(false)
  })

  it('fails when the threads would load a renderer of another format than the build started with', async () => {
    const other = { ...siteRenderer, format: 'wharf-site/0' }
    await expect(buildApi({ repo: site.idx.repo, out: path.join(site.work, 'threads-other'), baseUrl: BASE, now: NOW, pages: other, threads: 2 })).rejects.toThrow(/exports no page renderer of format wharf-site\/0 as siteRenderer/)
    expect(fs.existsSync(path.join(site.work, 'threads-other'))).toBe(false)
  })
})
