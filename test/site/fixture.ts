/**
 * An index for the site's tests, made through the same functions the CLI
 * calls: components that export and import WIT interfaces, a nested package
 * that depends on another, a crate, a yanked version, a compatibility report
 * in wharf test's format, a second namespace, and a package whose publisher
 * and whose crate's build output try to inject markup and script.
 */
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { sha256Hex } from '../../src/core/hash.js'
import { parsePrivateKey } from '../../src/core/keys.js'
import { yankPath } from '../../src/core/layout.js'
import { MAIN, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import { componentWith } from '../fixtures/api/component.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

/** Every hostile string sets `window.__pwned` if it ever runs. */
export const HOSTILE = {
  description: 'Totally safe <script>window.__pwned = "description"</script><img src=x onerror="window.__pwned=\'img\'">',
  repository: 'https://evil.example/"><script>window.__pwned="repository"</script>',
  source: 'javascript:window.__pwned="source"',
  license: 'MIT" onmouseover="window.__pwned=\'license\'',
  yank: '</td></tr></table><script>window.__pwned="yank"</script>',
  blame: '<svg onload="window.__pwned=\'blame\'"></svg> error[E0433]',
  hint: '<a href="javascript:window.__pwned=\'hint\'">click</a>',
}

export const HTTP_HANDLER = 'wasi:http/incoming-handler@0.2.0'

/** A `wharf test` report (schemas/report.schema.json) with every section a page shows. */
export function matrixReport(options: { score: number; speed: number | null; blameError?: string; hint?: string; sha256?: string }) {
  const target = (name: string, status: 'pass' | 'fail', extra: Record<string, unknown> = {}) => ({
    target: name,
    status,
    toolchain: { source: 'debian', rustc: 'rustc 1.63.0', cargo: 'cargo 1.65.0', triple: name === 'native' ? null : name },
    runtime: name === 'native' ? { name: 'native', version: 'x86_64', command: 'cargo test' } : { name: 'node-wasi', version: '20', command: 'node' },
    build: { status, wall_ms: 1200 },
    test: status === 'pass' ? { status: 'pass', passed: 12, failed: 0, ignored: 1 } : { status: 'not-run', reason: 'the build failed' },
    blame: [],
    metrics: {
      wall_ms: { build: 1200, test_build: 800, test_run: 40, total: 2040 },
      size: status === 'pass' ? { file: 'calc.wasm', kind: 'cdylib', raw: 182_000, stripped: 150_000, gzip: 61_000, brotli: 52_000, code: 120_000, data: 30_000 } : null,
      wasm: null,
      component: null,
      native: null,
    },
    ...extra,
  })
  return {
    schema: 'wharf:report/v1',
    subject: { kind: 'crate', name: 'calc', version: '1.2.0', path: '.', ...(options.sha256 ? { sha256: options.sha256 } : {}) },
    host: 'x86_64-unknown-linux-gnu',
    generated_at: '2026-02-20T10:00:00Z',
    wharf: '0.1.0',
    targets: [
      target('native', 'pass'),
      target('wasm32-wasip1', 'pass'),
      target('wasm32-wasip2', 'pass', {
        metrics: {
          wall_ms: { build: 1500, test_build: 900, test_run: 55, total: 2455 },
          size: { file: 'calc.wasm', kind: 'component', raw: 201_000, stripped: 170_000, gzip: 70_000, brotli: 60_000, code: 130_000, data: 31_000 },
          wasm: null,
          component: { wit: `package acme:calc;\n\nworld calc {\n  export ${HTTP_HANDLER};\n}\n`, imports: [], exports: [HTTP_HANDLER], resources: [] },
          native: null,
        },
      }),
      target('wasm32-unknown-unknown', 'fail', {
        blame: [
          {
            crate: 'getrandom',
            version: '0.2.15',
            path: ['calc 1.2.0', 'rand 0.8.5', 'getrandom 0.2.15'],
            error: options.blameError ?? 'error: the wasm32-unknown-unknown target is not supported by default',
            hint: options.hint ?? 'enable the "js" feature of getrandom',
            stage: 'build',
          },
        ],
      }),
    ],
    verdicts: {
      dual_compilation: { value: true, reason: 'native and wasm32-wasip1 build and pass' },
      speed_ratio: { value: options.speed, wasm_target: 'wasm32-wasip1', basis: 'test suite, median of 3 runs', runs: 3, native_ms: 20, wasm_ms: 31 },
      gc_readiness: {
        level: 'G2',
        ladder: [
          { level: 'G1', met: true, evidence: 'no threads or shared memory' },
          { level: 'G2', met: true, evidence: 'exports take and return plain values' },
          { level: 'G3', met: false, evidence: 'no boundary function named' },
          { level: 'G4', met: null, evidence: 'not checked' },
        ],
      },
    },
    score: {
      total: options.score,
      breakdown: [
        { name: 'build_coverage', weight: 30, value: 0.75, points: 22.5, detail: '3 of 4 targets build' },
        { name: 'test_pass_rate', weight: 30, value: 1, points: 30, detail: '36 of 36 tests pass' },
        { name: 'dependency_compatibility', weight: 15, value: 0.5, points: 7.5, detail: 'getrandom breaks wasm32-unknown-unknown' },
        { name: 'metadata_completeness', weight: 10, value: 1, points: 10, detail: 'description, license, repository' },
        { name: 'signature_level', weight: 10, value: 1, points: 10, detail: 'signed' },
        { name: 'size', weight: 5, value: null, points: 0, detail: 'not applicable' },
      ],
    },
  }
}

export interface SiteIndex {
  idx: TestIndex
  work: string
  /** Commits a report for a version straight onto main, as the registry's CI does. */
  report(id: string, version: string, report: object): Promise<void>
  yank(id: string, version: string, reason: string): Promise<void>
}

export async function createSiteIndex(): Promise<SiteIndex> {
  const idx = await createTestIndex()
  const work = await tempDir('wharf-site-')
  const report: SiteIndex['report'] = async (id, version, body) => {
    const [ns, name] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)]
    const commit = await writeCommitWith(idx.repo, {
      parents: [await resolveCommit(idx.repo, MAIN)],
      files: [{ path: `index/reports/${ns}/${name}/${version}/report.json`, content: stableJson(body) }],
      message: `Report for ${id}@${version}`,
      author: { login: 'admin' },
    })
    await setBranch(idx.repo, MAIN, commit)
  }
  const yank: SiteIndex['yank'] = async (id, version, reason) => {
    const notice = signDocument({ schema: 'wharf:yank/v1' as const, name: id, version, reason, yanked_at: '2026-02-15T00:00:00Z', publisher: { login: 'alice' } }, PAYLOAD_TYPES.yank, parsePrivateKey(idx.key.privatePem))
    const branch = `yank/${id.replace(":", "/")}/${version}`
    await idx.submit([{ path: yankPath(id, version), content: stableJson(notice) }], 'alice', branch)
    const merged = await mergeProposal(idx.repo, { branch, author: { login: 'alice' } })
    if (!merged.merged) throw new Error(`yank refused: ${JSON.stringify(merged.check.findings)}`)
  }

  const handler = (label: string) => componentWith(['wasi:io/streams@0.2.0', `wasi:logging/logging@0.1.0-${label}`], [HTTP_HANDLER])
  const calc = {
    name: 'acme:calc',
    description: 'A calculator component that answers HTTP requests',
    repository: 'https://example.com/acme/calc',
    keywords: ['math', 'http'],
  }
  await idx.release({ ...calc, version: '1.0.0', bytes: handler('a') })
  await idx.release({ ...calc, version: '1.1.0', bytes: handler('b') })
  await idx.release({ ...calc, version: '1.2.0', bytes: handler('c') })
  await yank('acme:calc', '1.1.0', HOSTILE.yank)
  await report('acme:calc', '1.0.0', matrixReport({ score: 71, speed: 1.9 }))
  await report('acme:calc', '1.2.0', matrixReport({ score: 84, speed: 1.55, blameError: HOSTILE.blame, hint: HOSTILE.hint }))
  await idx.release({
    name: 'acme:calc/fmt',
    version: '0.1.0',
    description: 'Formats what acme:calc computes',
    bytes: componentWith([HTTP_HANDLER], ['acme:calc/format@0.1.0']),
    dependencies: [{ name: 'acme:calc', req: '^1.0.0', optional: false }],
  })
  const crate = gzipSync(Buffer.from('calc_core 0.3.0'))
  const crateFile = path.join(work, 'calc_core-0.3.0.crate')
  fs.writeFileSync(crateFile, crate)
  await idx.release({
    artifact: crateFile,
    name: 'acme:calc-core',
    version: '0.3.0',
    kind: 'crate',
    description: 'The arithmetic behind acme:calc, as a Rust crate',
    crate: { name: 'calc_core', cksum: sha256Hex(crate), features: { default: [] }, deps: [] },
  } as never)
  await idx.release({
    name: 'acme:evil',
    version: '6.6.6',
    description: HOSTILE.description,
    repository: HOSTILE.repository,
    license: HOSTILE.license,
    source: { repository: HOSTILE.source, commit: 'a'.repeat(40) },
  })
  const beta = await proposeNamespace(idx.repo, { namespace: 'beta', owners: [{ login: 'bob' }, { login: 'carol', id: 42 }], publicKey: idx.key.publicPem, author: 'bob' })
  if (!(await mergeProposal(idx.repo, { branch: beta.branch, author: { login: 'bob' } })).merged) throw new Error('beta claim refused')
  await idx.release({ name: 'beta:tool', version: '0.1.0', author: 'bob', description: 'A tool in another namespace', dependencies: [{ name: 'acme:calc', req: '^1.2', optional: true }] })
  return { idx, work, report, yank }
}
