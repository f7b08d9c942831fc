/**
 * The matrix on crates that fail: `limits` (threads and sockets: fine natively,
 * not on WASI), `panics` (a test that panics, which traps a wasm test binary)
 * and `broken` (does not compile). Each goes through the matrix once; verdicts
 * and counts are checked against plain cargo.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schemaErrors } from '../../src/core/schemas.js'
import { renderMarkdown, runMatrix, type Report, type TargetName, type TargetReport } from '../../src/matrix/index.js'
import { fixture, plainCargo, tempDir, type PlainRun } from './helpers.js'

const byTarget = (report: Report, target: TargetName): TargetReport => report.targets.find((t) => t.target === target)!

let root: string
beforeAll(async () => {
  root = await tempDir('wharf-matrix-failing-')
})
afterAll(async () => {
  await fs.promises.rm(root, { recursive: true, force: true })
})

describe('limits: tests fail on WASI, pass natively', () => {
  let report: Report
  let plain: Record<'native' | 'uu' | 'p1', PlainRun>
  beforeAll(async () => {
    report = await runMatrix({ input: fixture('limits'), targetDir: path.join(root, 'limits-target'), runs: 1 })
    plain = {
      native: plainCargo('limits', 'native', ['test', '--no-fail-fast', '--tests'], root),
      uu: plainCargo('limits', 'wasm32-unknown-unknown', ['test', '--no-fail-fast', '--tests'], root),
      p1: plainCargo('limits', 'wasm32-wasip1', ['test', '--no-fail-fast', '--tests'], root),
    }
  }, 600_000)

  it('agrees with plain cargo on every target', () => {
    expect(schemaErrors('report', report)).toEqual([])
    expect(plain.native.code).toBe(0)
    expect(plain.uu.code).not.toBe(0)
    expect(plain.p1.code).not.toBe(0)
    expect(report.targets.map((t) => [t.target, t.build.status, t.test.status])).toEqual([
      ['native', 'pass', 'pass'],
      ['wasm32-unknown-unknown', 'pass', 'fail'],
      ['wasm32-wasip1', 'pass', 'fail'],
      ['wasm32-wasip2', 'pass', 'fail'],
    ])
    expect(byTarget(report, 'native').test).toMatchObject({ passed: plain.native.totals.passed, failed: 0, ignored: 0 })
  })

  it('gets through every test even though two of them trap the runtime', () => {
    // Plain cargo's run dies at the first test that needs a thread: no libtest summary at all.
    expect(plain.p1.totals.summaries).toBe(0)
    expect(plain.p1.stdout).toMatch(/^test tests::b_parallel_sum_uses_threads \.\.\. $/m)
    for (const target of ['wasm32-wasip1', 'wasm32-wasip2'] as const) {
      const t = byTarget(report, target)
      expect(t.test).toMatchObject({ passed: 2, failed: 2, ignored: 0 })
      expect(t.test.binaries![0]!.aborted).toEqual(['tests::b_parallel_sum_uses_threads', 'tests::c_loopback_echo'])
      // The first run, each trapped test alone, and a run past each.
      expect(t.test.binaries![0]!.runs).toBe(5)
    }
    expect(plain.native.totals.passed).toBe(4)
  })

  it('blames the thread and socket calls with hints', () => {
    const blame = byTarget(report, 'wasm32-wasip1').blame
    expect(blame.map((b) => b.stage)).toEqual(['test', 'test'])
    expect(blame.every((b) => b.crate === 'wharf-fixture-limits')).toBe(true)
    expect(blame[0]!.error).toMatch(/b_parallel_sum_uses_threads panicked: failed to spawn thread/)
    expect(blame[0]!.hint).toMatch(/std::thread::spawn/)
    expect(blame[1]!.error).toMatch(/c_loopback_echo panicked: bind/)
    expect(blame[1]!.hint).toMatch(/std API this wasm target does not provide/)
    expect(byTarget(report, 'wasm32-wasip1').test.first_failure).toMatch(/^tests::b_parallel_sum_uses_threads: failed to spawn thread/)
  })

  it('runs wasm32-unknown-unknown tests for their exit status, without counts', () => {
    const uu = byTarget(report, 'wasm32-unknown-unknown')
    expect(uu.test.passed).toBeUndefined()
    expect(uu.test.binaries![0]!.exit_code).not.toBe(0)
    expect(uu.test.reason).toMatch(/exit of each test binary/)
  })

  it('finds no dual compilation and no speed ratio', () => {
    expect(report.verdicts.dual_compilation.value).toBe(false)
    expect(report.verdicts.speed_ratio.value).toBeNull()
    expect(report.verdicts.gc_readiness.level).toBe('G0')
  })
})

describe('panics: a panicking test', () => {
  let report: Report
  let plainNative: PlainRun
  let plainP1: PlainRun
  let plainShouldPanic: PlainRun
  beforeAll(async () => {
    report = await runMatrix({ input: fixture('panics'), targetDir: path.join(root, 'panics-target'), targets: ['native', 'wasm32-wasip1'], runs: 1 })
    plainNative = plainCargo('panics', 'native', ['test', '--no-fail-fast', '--tests'], root)
    plainP1 = plainCargo('panics', 'wasm32-wasip1', ['test', '--no-fail-fast', '--tests'], root)
    plainShouldPanic = plainCargo('panics', 'wasm32-wasip1', ['test', '--tests', '--', 'tests::d_documents_the_panic', '--exact'], root)
  }, 600_000)

  it('counts natively exactly what libtest counted', () => {
    expect(schemaErrors('report', report)).toEqual([])
    expect(plainNative.code).not.toBe(0)
    const native = byTarget(report, 'native')
    expect(native.status).toBe('fail')
    expect(native.test).toMatchObject({ passed: plainNative.totals.passed, failed: plainNative.totals.failed, ignored: plainNative.totals.ignored })
    expect(native.test).toMatchObject({ passed: 3, failed: 1, ignored: 1 })
    expect(native.test.binaries![0]!.summary).toMatch(/^test result: FAILED\. 3 passed; 1 failed; 1 ignored/)
    expect(native.test.binaries![0]!.failures).toEqual(['tests::b_zero_divisor_is_none'])
  })

  it('under panic=abort, restarts past the trap and counts the rest as libtest does', () => {
    expect(plainP1.code).not.toBe(0)
    expect(plainP1.stdout).toMatch(/^test tests::b_zero_divisor_is_none \.\.\. $/m)
    // libtest itself reports a should_panic test as ignored where panics abort.
    expect(plainShouldPanic.totals).toMatchObject({ passed: 0, failed: 0, ignored: 1 })
    const p1 = byTarget(report, 'wasm32-wasip1')
    expect(p1.status).toBe('fail')
    expect(p1.test).toMatchObject({ passed: 2, failed: 1, ignored: 2 })
    expect(p1.test.binaries![0]).toMatchObject({ aborted: ['tests::b_zero_divisor_is_none'], failures: ['tests::b_zero_divisor_is_none'], summary: null })
  })

  it('blames the crate itself with the panic message and no made-up hint', () => {
    for (const target of ['native', 'wasm32-wasip1'] as const) {
      const [blame] = byTarget(report, target).blame
      expect(blame).toMatchObject({ crate: 'wharf-fixture-panics', version: '0.1.0', stage: 'test', hint: null })
      expect(blame!.error).toMatch(/^test tests::b_zero_divisor_is_none panicked: attempt to divide by zero \(.*src\/lib\.rs:5:\d+\)$/)
    }
  })
})

describe('broken: does not compile', () => {
  let report: Report
  let plain: PlainRun[]
  beforeAll(async () => {
    report = await runMatrix({ input: fixture('broken'), targetDir: path.join(root, 'broken-target'), runs: 1 })
    plain = (['native', 'wasm32-unknown-unknown', 'wasm32-wasip1'] as const).map((t) => plainCargo('broken', t, ['build'], root))
  }, 600_000)

  it('fails every build, as plain cargo does, and blames the crate with rustc\'s first error', () => {
    expect(schemaErrors('report', report)).toEqual([])
    for (const p of plain) {
      expect(p.code).not.toBe(0)
      expect(p.stderr).toMatch(/error\[E0308\]: mismatched types/)
    }
    for (const t of report.targets) {
      expect([t.target, t.status, t.build.status, t.test.status]).toEqual([t.target, 'fail', 'fail', 'skipped'])
      expect(t.blame).toEqual([{ crate: 'wharf-fixture-broken', version: '0.1.0', path: ['wharf-fixture-broken 0.1.0'], error: 'mismatched types', hint: null, stage: 'build' }])
    }
    expect(report.verdicts.dual_compilation.value).toBe(false)
    expect(report.score.breakdown.find((p) => p.name === 'build_coverage')!.value).toBe(0)
    expect(renderMarkdown(report)).toMatch(/### What broke/)
  })
})
