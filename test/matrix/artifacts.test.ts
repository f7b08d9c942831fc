/**
 * The matrix on built artifacts (a component with exports, core modules), the
 * `wharf test` command line as a user runs it, and the step time limit.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parse } from '@bytecodealliance/jco'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schemaErrors } from '../../src/core/schemas.js'
import { sha256Hex } from '../../src/core/hash.js'
import { runMatrix, type Report } from '../../src/matrix/index.js'
import { runStep } from '../../src/matrix/process.js'
import { wharf } from '../helpers/cli.js'
import { ADD_MODULE } from '../helpers/wasm.js'
import { buildComponent, fixture, tempDir } from './helpers.js'

let root: string
beforeAll(async () => {
  root = await tempDir('wharf-matrix-artifacts-')
})
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true })
})

describe('a component with exports', () => {
  let file: string
  let report: Report
  beforeAll(async () => {
    file = await buildComponent(root)
    report = await runMatrix({ input: file })
  }, 300_000)

  it('is read as a wasm32-wasip2 artifact that validates', () => {
    expect(schemaErrors('report', report)).toEqual([])
    expect(report.subject).toMatchObject({ kind: 'artifact', name: 'calc.component', version: null, sha256: sha256Hex(fs.readFileSync(file)) })
    expect(report.targets).toHaveLength(1)
    const [t] = report.targets
    expect(t).toMatchObject({ target: 'wasm32-wasip2', status: 'pass', toolchain: null })
    expect(t!.build.status).toBe('pass')
    expect(t!.test.status).toBe('not-run')
  })

  it('names its WIT exports and the resource it hands out', () => {
    const component = report.targets[0]!.metrics.component!
    expect(component.exports).toEqual(['add', 'wharf:calc/counters@0.1.0'])
    expect(component.imports).toEqual([])
    expect(component.wit).toMatch(/export add: func\(a: s32, b: s32\) -> s32;/)
    const ladder = report.verdicts.gc_readiness.ladder
    expect(ladder[0]).toMatchObject({ level: 'G1', met: true })
    expect(ladder[1]).toMatchObject({ level: 'G2', met: true })
    expect(ladder[1]!.evidence).toMatch(/resource handles/)
    expect(report.verdicts.gc_readiness.level).toBe('G2')
  })

  it('measures the component and the modules inside it', () => {
    const m = report.targets[0]!.metrics
    expect(m.size!.kind).toBe('component')
    expect(m.size!.raw).toBe(fs.statSync(file).size)
    expect(m.size!.gzip).toBeLessThan(m.size!.stripped)
    expect(m.size!.code).toBeGreaterThan(0)
    expect(m.wasm!.memory.initial_pages).toBeGreaterThan(0)
    expect(m.wasm!.undecoded_functions).toBe(0)
    // Tests, dependencies and a manifest do not apply to bare bytes: they are left out of the score, not zeroed.
    const na = report.score.breakdown.filter((p) => p.value === null).map((p) => p.name)
    expect(na).toEqual(['test_pass_rate', 'dependency_compatibility', 'metadata_completeness'])
  })
})

describe('core module artifacts', () => {
  it('finds a reference-typed boundary (G2) and probes a boundary function (G3)', async () => {
    const bytes = await parse(`(module
      (import "host" "log" (func $log (param externref)))
      (memory (export "memory") 1)
      (func (export "greet") (param externref) (local.get 0) (call $log))
      (func (export "touch") (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))))`)
    const file = path.join(root, 'greet.wasm')
    await fs.promises.writeFile(file, bytes)
    const report = await runMatrix({ input: file, boundary: 'touch' })
    expect(schemaErrors('report', report)).toEqual([])
    expect(report.targets[0]).toMatchObject({ target: 'wasm32-unknown-unknown', status: 'pass' })
    expect(report.targets[0]!.metrics.wasm!.features).toEqual(['reference-types'])
    expect(report.verdicts.gc_readiness.ladder.map((r) => r.met)).toEqual([true, true, true, false])
    expect(report.verdicts.gc_readiness.level).toBe('G3')
  })

  it('sees memory grow under repeated boundary calls (G3 not met)', async () => {
    const bytes = await parse(`(module
      (import "host" "f" (func (param externref)))
      (memory (export "memory") 1)
      (func (export "leak") (drop (memory.grow (i32.const 1)))))`)
    const file = path.join(root, 'leak.wasm')
    await fs.promises.writeFile(file, bytes)
    const report = await runMatrix({ input: file, boundary: 'leak' })
    const g3 = report.verdicts.gc_readiness.ladder[2]!
    expect(g3.met).toBe(false)
    expect(g3.evidence).toMatch(/1000 calls of leak grew memory by 1000 pages/)
  })

  it('takes a module with WASI imports for wasm32-wasip1, and one with integer handles as G1 only', async () => {
    const bytes = await parse(`(module
      (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")))`)
    const file = path.join(root, 'cmd.wasm')
    await fs.promises.writeFile(file, bytes)
    const report = await runMatrix({ input: file })
    expect(report.targets[0]!.target).toBe('wasm32-wasip1')
    expect(report.targets[0]!.metrics.wasm!.imports.wasi).toEqual(['wasi_snapshot_preview1::proc_exit'])
    expect(report.verdicts.gc_readiness.level).toBe('G1')
  })

  it('fails a component whose core module runs past its end with the reason, where it crashed', async () => {
    // Valid at the top level; the core module inside claims a 100-byte type section and holds two bytes of it.
    const inner = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x64, 0x01, 0x60])
    const file = path.join(root, 'short-module.wasm')
    await fs.promises.writeFile(file, Buffer.concat([Buffer.from('0061736d0d000100', 'hex'), Buffer.from([0x01, inner.length]), inner]))
    const report = await runMatrix({ input: file })
    expect(schemaErrors('report', report)).toEqual([])
    expect(report.targets[0]).toMatchObject({ target: 'wasm32-wasip2', status: 'fail', build: { status: 'fail', reason: 'it does not parse: section 1 runs past the end' } })
  })

  it('refuses a file that is not wasm', async () => {
    const file = path.join(root, 'notes.wasm')
    await fs.promises.writeFile(file, 'hello')
    await expect(runMatrix({ input: file })).rejects.toMatchObject({ code: 'INVALID_ARTIFACT' })
  })
})

describe('wharf test on the command line', () => {
  it('prints Markdown and exits 1 when a target fails', async () => {
    const run = await wharf(['test', fixture('broken'), '--targets', 'native'])
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/^## wharf test: wharf-fixture-broken 0\.1\.0$/m)
    expect(run.stdout).toMatch(/^\| native \| ❌ fail \|/m)
    expect(run.stdout).toContain('mismatched types')
  }, 120_000)

  it('prints the JSON report with --json, writes it with --out, and exits 0 when all passed', async () => {
    const module = path.join(root, 'add.wasm')
    await fs.promises.writeFile(module, ADD_MODULE)
    const out = path.join(root, 'report.json')
    const run = await wharf(['test', module, '--json', '--out', out, '--signature', 'signed'])
    expect(run.code).toBe(0)
    const printed = JSON.parse(run.stdout) as Report
    expect(schemaErrors('report', printed)).toEqual([])
    expect(printed.targets[0]!.metrics.wasm!.exports).toEqual(['add'])
    expect(printed.score.breakdown.find((p) => p.name === 'signature_level')!.value).toBe(0.7)
    const written = JSON.parse(await fs.promises.readFile(out, 'utf8')) as Report
    expect(written.subject.sha256).toBe(printed.subject.sha256)
  }, 120_000)

  it.each([
    [['test'], /missing argument/],
    [['test', 'no/such/crate'], /does not exist/],
    [['test', 'test/fixtures/crates', '--targets', 'wasm64'], /unknown target "wasm64"/],
    [['test', 'test/fixtures/crates', '--runs', 'many'], /--runs must be a positive whole number/],
    [['test', 'test/fixtures/crates', '--runs', '2.5'], /--runs must be a positive whole number, not "2\.5"/],
  ])('exits 2 on %j', async (args, message) => {
    const run = await wharf(args)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
  })

  it.each(['--targets native', '--timeout 60', '--runs 3', '--offline'])('refuses %s for an artifact, which it would not use', async (option) => {
    const module = path.join(root, 'refused.wasm')
    await fs.promises.writeFile(module, ADD_MODULE)
    const run = await wharf(['test', module, ...option.split(' ')])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`${option.split(' ')[0]} applies to a crate, and ${module} is an artifact`)
  })
})

describe('step time limit', () => {
  it('kills the whole process group of a step that runs too long', async () => {
    const marker = path.join(root, 'survived')
    const started = Date.now()
    const out = await runStep('sh', ['-c', `(sleep 3; touch ${marker}) & sleep 30`], { cwd: root, env: process.env, timeoutMs: 300 })
    expect(out.timedOut).toBe(true)
    expect(out.code).toBeNull()
    expect(Date.now() - started).toBeLessThan(5_000)
    // The background child would have touched the marker after 3 s had it outlived the kill.
    await new Promise((resolve) => setTimeout(resolve, 3_500))
    expect(fs.existsSync(marker)).toBe(false)
  })
})
