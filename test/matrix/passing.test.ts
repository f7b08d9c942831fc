/**
 * The matrix on crates that work: `calc` passes everywhere, `dice` everywhere
 * but wasm32-unknown-unknown, where its getrandom dependency breaks the build.
 * Each crate goes through the matrix once (beforeAll); every verdict and count
 * is checked against plain cargo and jco run by hand.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schemaErrors } from '../../src/core/schemas.js'
import { renderMarkdown, runMatrix, type Report, type TargetName, type TargetReport } from '../../src/matrix/index.js'
import { findWasmtime } from '../../src/matrix/runtime.js'
import { fixture, hostOnlyToolchain, jcoCli, plainCargo, tempDir, type PlainRun } from './helpers.js'

const wasmtime = findWasmtime()
// node:wasi reports memory.size after the run and runs with the GC proposal on; wasmtime does the latter from 47 on.
const gcEngine = !wasmtime || wasmtime.major >= 47
const byTarget = (report: Report, target: TargetName): TargetReport => report.targets.find((t) => t.target === target)!

let root: string
beforeAll(async () => {
  root = await tempDir('wharf-matrix-passing-')
})
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true })
})

describe('calc: passes on every target', () => {
  let report: Report
  let plain: Record<'native' | 'uu' | 'p1', PlainRun>
  let p2Exit: (number | null)[]
  beforeAll(async () => {
    report = await runMatrix({ input: fixture('calc'), targetDir: path.join(root, 'calc-target'), runs: 3 })
    plain = {
      native: plainCargo('calc', 'native', ['test', '--no-fail-fast', '--tests'], root),
      uu: plainCargo('calc', 'wasm32-unknown-unknown', ['test', '--no-fail-fast', '--tests'], root),
      p1: plainCargo('calc', 'wasm32-wasip1', ['test', '--no-fail-fast', '--tests', '--message-format=json'], root),
    }
    // wasip2 by hand: each p1 test binary through `jco new --wasi-command` and `jco run`.
    p2Exit = plain.p1.executables.map((exe, i) => {
      const component = path.join(root, `calc-p2-${i}.wasm`)
      expect(jcoCli(['new', exe, '--wasi-command', '-o', component], root).code).toBe(0)
      return jcoCli(['run', component], root).code
    })
  }, 600_000)

  it('is a valid report', () => {
    expect(schemaErrors('report', report)).toEqual([])
    expect(report.subject).toMatchObject({ kind: 'crate', name: 'wharf-fixture-calc', version: '0.3.1' })
    expect(report.targets.map((t) => t.target)).toEqual(['native', 'wasm32-unknown-unknown', 'wasm32-wasip1', 'wasm32-wasip2'])
  })

  it('agrees with plain cargo on every target', () => {
    expect(plain.native.code).toBe(0)
    expect(plain.uu.code).toBe(0)
    expect(plain.p1.code).toBe(0)
    expect(p2Exit).toEqual(plain.p1.executables.map(() => 0))
    for (const t of report.targets) {
      expect(t.status, t.target).toBe('pass')
      expect(t.build.status, t.target).toBe('pass')
      expect(t.test.status, t.target).toBe('pass')
      expect(t.blame).toEqual([])
    }
  })

  it('counts what libtest counted', () => {
    const { passed, failed, ignored } = plain.native.totals
    expect(passed).toBeGreaterThan(0)
    expect(byTarget(report, 'native').test).toMatchObject({ passed, failed, ignored })
    expect(byTarget(report, 'wasm32-wasip1').test).toMatchObject({ passed: plain.p1.totals.passed, failed: 0, ignored: plain.p1.totals.ignored })
    expect(byTarget(report, 'wasm32-wasip2').test).toMatchObject({ passed: plain.p1.totals.passed, failed: 0, ignored: plain.p1.totals.ignored })
    // Each binary ran once to the end and printed libtest's own summary, which the report keeps.
    for (const b of byTarget(report, 'wasm32-wasip1').test.binaries!) {
      expect(b.runs).toBe(1)
      expect(b.summary).toMatch(new RegExp(`^test result: ok\\. ${b.passed} passed; 0 failed; ${b.ignored} ignored`))
      expect(plain.p1.stdout).toContain(b.summary!)
    }
    expect(byTarget(report, 'native').test.binaries!.map((b) => b.name).sort()).toEqual(['lib wharf_fixture_calc', 'test api'])
  })

  it('says which toolchain and runtime ran each target', () => {
    const native = byTarget(report, 'native')
    expect(native.toolchain!.triple).toBeNull()
    expect(native.runtime!.name).toBe('native')
    const p1 = byTarget(report, 'wasm32-wasip1')
    expect(['wasm32-wasip1', 'wasm32-wasi']).toContain(p1.toolchain!.triple)
    expect(p1.toolchain!.rustc).toMatch(/^rustc 1\.\d+/)
    expect(p1.runtime!.name).toBe(wasmtime ? 'wasmtime' : 'node-wasi')
    const p2 = byTarget(report, 'wasm32-wasip2')
    if (p2.toolchain!.triple === 'wasm32-wasip2') expect(p2.toolchain!.adapter).toBeUndefined()
    else expect(p2.toolchain!.adapter).toMatch(/^jco .* adapter$/)
    expect(p2.runtime!.name).toBe(wasmtime ? 'wasmtime' : 'jco')
    expect(byTarget(report, 'wasm32-unknown-unknown').runtime!.name).toBe('node')
  })

  it('measures time, size, features, imports and memory', () => {
    const native = byTarget(report, 'native')
    expect(native.metrics.native!.peak_rss_kb).toBeGreaterThan(100)
    expect(native.metrics.wall_ms.total).toBeGreaterThan(0)
    for (const target of ['wasm32-unknown-unknown', 'wasm32-wasip1'] as const) {
      const m = byTarget(report, target).metrics
      expect(m.wall_ms.build).toBeGreaterThan(0)
      expect(m.wall_ms.test_run).toBeGreaterThan(0)
      expect(m.size!.kind).toBe('cdylib')
      expect(m.size!.stripped).toBeLessThanOrEqual(m.size!.raw)
      expect(m.size!.gzip).toBeGreaterThan(0)
      expect(m.size!.brotli).toBeGreaterThan(0)
      expect(m.wasm!.exports).toContain('calc_add')
      // The cdylib needs nothing from a host: it is pure arithmetic.
      expect(m.wasm!.imports).toEqual({ wasi: [], env: [], wasm_bindgen: [], other: [] })
      expect(m.wasm!.undecoded_functions).toBe(0)
      if (byTarget(report, target).runtime!.name === 'wasmtime') expect(m.wasm!.memory.peak_pages).toBeNull()
      else expect(m.wasm!.memory.peak_pages).toBeGreaterThanOrEqual(m.wasm!.memory.initial_pages!)
    }
    const p2 = byTarget(report, 'wasm32-wasip2').metrics
    expect(p2.component!.exports.some((e) => e.startsWith('wasi:cli/run@'))).toBe(true)
    expect(p2.component!.imports.length).toBeGreaterThan(0)
    expect(p2.component!.wit).toMatch(/^world root \{/m)
  })

  it('draws the verdicts', () => {
    const v = report.verdicts
    expect(v.dual_compilation.value).toBe(true)
    expect(v.speed_ratio.value).toBeGreaterThan(0)
    expect(v.speed_ratio).toMatchObject({ wasm_target: 'wasm32-wasip1', runs: 3 })
    expect(v.speed_ratio.basis).toContain('bench_collatz')
    expect(v.gc_readiness.level).toBe(gcEngine ? 'G1' : 'G0')
    expect(v.gc_readiness.ladder.map((r) => r.met)).toEqual([gcEngine ? true : null, false, true, false])
    expect(v.gc_readiness.ladder[2]!.evidence).toMatch(/1000 calls of calc_add/)
    const parts = Object.fromEntries(report.score.breakdown.map((p) => [p.name, p.value]))
    expect(parts).toMatchObject({ build_coverage: 1, test_pass_rate: 1, dependency_compatibility: 1, metadata_completeness: 1, signature_level: 0, size: 1 })
    expect(report.score.total).toBe(90)
  })

  it('renders Markdown with a row per target', () => {
    const md = renderMarkdown(report)
    for (const t of report.targets) expect(md).toMatch(new RegExp(`^\\| ${t.target} \\| ✅ pass \\|`, 'm'))
    expect(md).toContain('**total** | | | **90**')
  })
})

describe('dice: getrandom breaks wasm32-unknown-unknown only', () => {
  let report: Report
  let plainUu: PlainRun
  let plainP1: PlainRun
  let plainNative: PlainRun
  beforeAll(async () => {
    report = await runMatrix({ input: fixture('dice'), targetDir: path.join(root, 'dice-target'), runs: 1 })
    plainUu = plainCargo('dice', 'wasm32-unknown-unknown', ['build'], root)
    plainP1 = plainCargo('dice', 'wasm32-wasip1', ['test', '--no-fail-fast', '--tests'], root)
    plainNative = plainCargo('dice', 'native', ['test', '--no-fail-fast', '--tests'], root)
  }, 600_000)

  it('agrees with plain cargo', () => {
    expect(schemaErrors('report', report)).toEqual([])
    expect(plainUu.code).not.toBe(0)
    expect(plainUu.stderr).toMatch(/could not compile `getrandom`/)
    expect(plainP1.code).toBe(0)
    expect(plainNative.code).toBe(0)
    expect(report.targets.map((t) => [t.target, t.status])).toEqual([
      ['native', 'pass'],
      ['wasm32-unknown-unknown', 'fail'],
      ['wasm32-wasip1', 'pass'],
      ['wasm32-wasip2', 'pass'],
    ])
    expect(byTarget(report, 'native').test).toMatchObject({ passed: plainNative.totals.passed, failed: 0 })
    expect(byTarget(report, 'wasm32-wasip1').test).toMatchObject({ passed: plainP1.totals.passed, failed: 0 })
  })

  it('blames getrandom, shows how it got in, and says how to fix it', () => {
    const uu = byTarget(report, 'wasm32-unknown-unknown')
    expect(uu.build.status).toBe('fail')
    expect(uu.test.status).toBe('skipped')
    expect(uu.blame).toHaveLength(1)
    const blame = uu.blame[0]!
    expect(blame).toMatchObject({ crate: 'getrandom', version: '0.2.8', stage: 'build', path: ['wharf-fixture-dice 0.1.0', 'getrandom 0.2.8'] })
    expect(blame.error).toMatch(/wasm32-unknown-unknown target is not supported/)
    expect(blame.hint).toMatch(/`js` feature/)
    expect(renderMarkdown(report)).toContain('`getrandom 0.2.8` (wharf-fixture-dice 0.1.0 → getrandom 0.2.8)')
  })

  it('counts getrandom against dependency compatibility, and still finds dual compilation', () => {
    const deps = report.score.breakdown.find((p) => p.name === 'dependency_compatibility')!
    expect(deps.value).toBeLessThan(1)
    expect(deps.detail).toContain('getrandom')
    expect(report.verdicts.dual_compilation.value).toBe(true)
    expect(report.score.breakdown.find((p) => p.name === 'build_coverage')!.value).toBe(0.75)
  })
})

describe('toolchain discovery', () => {
  it('reports targets no toolchain has as unavailable, never as failures', async () => {
    const hostOnly = hostOnlyToolchain(root)
    const report = await runMatrix({ input: fixture('calc'), toolchains: [hostOnly], targetDir: path.join(root, 'host-only-target'), runs: 1 })
    expect(schemaErrors('report', report)).toEqual([])
    expect(report.targets.map((t) => [t.target, t.status])).toEqual([
      ['native', 'pass'],
      ['wasm32-unknown-unknown', 'unavailable'],
      ['wasm32-wasip1', 'unavailable'],
      ['wasm32-wasip2', 'unavailable'],
    ])
    expect(byTarget(report, 'wasm32-wasip1').build.reason).toMatch(/no toolchain has/)
    expect(report.verdicts.dual_compilation).toEqual({ value: false, reason: 'no WASI target could be built on this machine' })
    expect(report.score.breakdown.find((p) => p.name === 'build_coverage')!.detail).toBe('1 of 1 available targets build (3 unavailable here)')
  }, 300_000)

  it('takes each target from the first toolchain that has it', async () => {
    const report = await runMatrix({
      input: fixture('calc'),
      toolchains: [hostOnlyToolchain(path.join(root, 'second')), { source: 'debian', binDir: '/usr/bin' }],
      targets: ['wasm32-wasip1', 'native'],
      targetDir: path.join(root, 'mixed-target'),
      runs: 1,
    })
    expect(report.targets.map((t) => [t.target, t.toolchain?.source, t.toolchain?.triple, t.status])).toEqual([
      ['native', 'rustup', null, 'pass'],
      ['wasm32-wasip1', 'debian', 'wasm32-wasi', 'pass'],
    ])
  }, 300_000)
})
