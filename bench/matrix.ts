/**
 * `wharf test` on the passing fixture (test/fixtures/crates/calc), all four
 * targets from a cold target directory, next to the same external commands
 * typed by hand: cargo build and cargo test --no-run per target, every test
 * binary under its runtime, jco new and jco run for wasip2, and the timed
 * runs behind the speed ratio. The difference is what wharf itself costs:
 * copying the crate, cargo metadata, scans, compression, the GC probe,
 * clean-up. Target: under 10%.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { componentNew, preview1AdapterCommandPath } from '@bytecodealliance/jco'
import { DEFAULTS, runMatrix, type Report } from '../src/matrix/index.js'
import { jcoInfo, nodeWasmFlags, runnerScript } from '../src/matrix/runtime.js'
import { discoverToolchains, planTarget, type TargetPlan } from '../src/matrix/toolchain.js'
import { stripCustomSections } from '../src/matrix/wasm-scan.js'
import { table } from './_util.js'

const CRATE = path.resolve('test/fixtures/crates/calc')
const ITERATIONS = 3
const RUNS = DEFAULTS.runs
const BENCH_ARGS = ['bench_collatz', '--include-ignored']

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const out = spawnSync(file, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (out.error) throw out.error
  return out.stdout
}

function testExecutables(cargoJson: string): string[] {
  return cargoJson
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { reason?: string; executable?: string | null; profile?: { test?: boolean } })
    .filter((m) => m.reason === 'compiler-artifact' && m.executable && m.profile?.test)
    .map((m) => m.executable!)
}

interface Prepared {
  root: string
  copies: Map<string, string>
}

/** A copy of the crate per toolchain and an empty target dir: set up before the clock starts, as a person's checkout would be. */
function prepare(plans: TargetPlan[]): Prepared {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-plain-'))
  const copies = new Map<string, string>()
  for (const plan of plans) {
    if (copies.has(plan.toolchain.source)) continue
    const dir = path.join(root, plan.toolchain.source, 'calc')
    fs.cpSync(CRATE, dir, { recursive: true, filter: (src) => !/\/(target|Cargo\.lock)$/.test(src) })
    copies.set(plan.toolchain.source, dir)
  }
  return { root, copies }
}

/** The external commands wharf runs for the matrix, one after the other, timed as a whole and by phase. */
async function plainMatrix(): Promise<{ total: number; phases: Record<string, number> }> {
  const toolchains = discoverToolchains(CRATE)
  const native = planTarget('native', toolchains)!
  const uu = planTarget('wasm32-unknown-unknown', toolchains)!
  const p1 = planTarget('wasm32-wasip1', toolchains)!
  const { root, copies } = prepare([native, uu, p1])
  const node = [...nodeWasmFlags().flags]
  const jco = jcoInfo().bin
  const phases: Record<string, number> = {}
  const phase = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    const start = performance.now()
    const result = await fn()
    phases[name] = (phases[name] ?? 0) + performance.now() - start
    return result
  }
  const build = (plan: TargetPlan) => {
    const cwd = copies.get(plan.toolchain.source)!
    const env = { ...plan.toolchain.env, CARGO_TARGET_DIR: path.join(root, 'target') }
    const target = plan.triple ? ['--target', plan.triple] : []
    sh(plan.toolchain.cargo, ['build', ...target], cwd, env)
    return { cwd, exes: testExecutables(sh(plan.toolchain.cargo, ['test', ...target, '--no-run', '--message-format=json'], cwd, env)) }
  }
  const start = performance.now()
  const n = await phase('builds', () => build(native))
  await phase('tests', () => n.exes.forEach((exe) => sh(exe, [], n.cwd, native.toolchain.env)))
  const u = await phase('builds', () => build(uu))
  await phase('tests', () => u.exes.forEach((exe) => sh(process.execPath, [...node, runnerScript('node-main.mjs'), exe], u.cwd, process.env)))
  const w = await phase('builds', () => build(p1))
  const wasi = (exe: string, args: string[] = []) => sh(process.execPath, [...node, runnerScript('node-wasi.mjs'), exe, ...args], w.cwd, process.env)
  await phase('tests', () => w.exes.forEach((exe) => wasi(exe)))
  await phase('wasip2 (jco)', async () => {
    const adapter = fs.readFileSync(preview1AdapterCommandPath())
    for (const [i, exe] of w.exes.entries()) {
      // The same bytes wharf adapts: the module without its debug sections.
      const component = path.join(root, `p2-${i}.wasm`)
      fs.writeFileSync(component, await componentNew(stripCustomSections(fs.readFileSync(exe), (s) => s === 'name'), [['wasi_snapshot_preview1', adapter]]))
      sh(process.execPath, [jco, 'run', component], w.cwd, { ...process.env, JCO_RUN_ARGS: node.join(' ') })
    }
  })
  await phase('speed runs', () => {
    for (let i = 0; i < RUNS; i++) n.exes.forEach((exe) => sh(exe, BENCH_ARGS, n.cwd, native.toolchain.env))
    for (let i = 0; i < RUNS; i++) w.exes.forEach((exe) => wasi(exe, BENCH_ARGS))
  })
  const total = performance.now() - start
  fs.rmSync(root, { recursive: true, force: true })
  return { total, phases }
}

async function wharfMatrix(): Promise<{ total: number; report: Report }> {
  const start = performance.now()
  const report = await runMatrix({ input: CRATE, runs: RUNS })
  return { total: performance.now() - start, report }
}

export async function run(): Promise<void> {
  // One untimed round warms the page cache, Node's module cache and jco's compiled wasm-tools.
  await wharfMatrix()
  await plainMatrix()
  const wharf: number[] = []
  const plain: number[] = []
  let report: Report | undefined
  let phases: Record<string, number> = {}
  for (let i = 0; i < ITERATIONS; i++) {
    // Alternating order spreads whatever drifts (disk cache, CPU clock) over both sides.
    if (i % 2 === 0) {
      const w = await wharfMatrix()
      wharf.push(w.total)
      report = w.report
      const p = await plainMatrix()
      plain.push(p.total)
      phases = p.phases
    } else {
      const p = await plainMatrix()
      plain.push(p.total)
      const w = await wharfMatrix()
      wharf.push(w.total)
    }
  }
  const w = median(wharf)
  const p = median(plain)
  const failed = report!.targets.filter((t) => t.status !== 'pass')
  if (failed.length > 0) throw new Error(`bench fixture failed on ${failed.map((t) => t.target).join(', ')}`)
  table([
    {
      fixture: 'calc, 4 targets, cold target dir',
      'wharf test, median s': (w / 1000).toFixed(2),
      'plain commands, median s': (p / 1000).toFixed(2),
      'overhead %': (((w - p) / p) * 100).toFixed(1),
      'target %': '< 10',
    },
  ])
  table(
    report!.targets.map((t) => ({
      target: t.target,
      'build s': ((t.metrics.wall_ms.build ?? 0) / 1000).toFixed(2),
      'test build s': ((t.metrics.wall_ms.test_build ?? 0) / 1000).toFixed(2),
      'test run s': ((t.metrics.wall_ms.test_run ?? 0) / 1000).toFixed(2),
      runtime: t.runtime?.name ?? '-',
    })),
  )
  table(Object.entries(phases).map(([name, ms]) => ({ 'plain phase': name, s: (ms / 1000).toFixed(2) })))
  console.log(`runs per side for the speed ratio: ${RUNS}; speed ratio measured: ${report!.verdicts.speed_ratio.value}×`)
}
