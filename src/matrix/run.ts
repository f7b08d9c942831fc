/**
 * The matrix for a crate: for each target, build with the toolchain that has
 * it, build the tests, run them under the target's runtime, measure, and
 * blame what broke. Everything happens in a throwaway copy of the crate and
 * a throwaway target directory; nothing of the crate runs outside its build
 * and its tests (and a boundary function it names for the GC probe).
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { WharfError } from '../core/errors.js'
import { timestamp } from '../core/time.js'
import { WHARF_VERSION } from '../core/version.js'
import { wasmKind } from '../core/wasm.js'
import { removeTree } from '../store/index.js'
import { addCleanup } from './children.js'
import { runArtifact } from './artifact.js'
import { blameBuild, blameTest, hintFor } from './blame.js'
import { cargo, cargoMetadata, parsePackageId, type CargoContext, type CargoMetadata, type CargoPackage } from './cargo.js'
import { boundaryEvidence, probeBoundary } from './gc.js'
import { runAllTests, type AllTests } from './libtest.js'
import { componentMetrics, sizeMetrics, wasmMetrics } from './metrics.js'
import { DEFAULTS, type MatrixOptions } from './options.js'
import { findWasmtime, jcoExec, jcoInfo, nativeExec, nodeMainExec, nodeWasiExec, nodeWasmFlags, wasmtimeExec, type Exec, type ExecResult } from './runtime.js'
import { defaultCandidates, discoverToolchains, planTarget, toolchainRef, type TargetPlan, type Toolchain } from './toolchain.js'
import {
  TARGETS,
  type Blame,
  type BuildResult,
  type Report,
  type TargetMetrics,
  type TargetName,
  type TargetReport,
  type TestBinaryResult,
  type Verdicts,
} from './types.js'
import { dualCompilation, gcReadiness, qualityScore, type GcEvidence } from './verdicts.js'
import { scanModule, stripCustomSections } from './wasm-scan.js'

const MAX_TEST_BLAME = 5
const LIB_KINDS = new Set(['lib', 'rlib', 'cdylib', 'dylib', 'staticlib', 'proc-macro'])

interface Ctx {
  options: MatrixOptions
  env: NodeJS.ProcessEnv
  work: string
  targetDir: string
  toolchains: Toolchain[]
  copies: SourceCopies
  rootName: string
  manifest: CargoPackage | null
  wharfMeta: { bench?: string; boundary?: string }
  metadataFor: (plan: TargetPlan) => Promise<CargoMetadata | null>
  builds: Map<string, Promise<BuildOutcome>>
  progress: (message: string) => void
  wasmtime: ReturnType<typeof findWasmtime>
}

/** Runs the matrix over a crate directory or an artifact and returns the report. */
export async function runMatrix(options: MatrixOptions): Promise<Report> {
  const input = path.resolve(options.input)
  let stat: fs.Stats
  try {
    stat = await fs.promises.stat(input)
  } catch {
    throw new WharfError('NOT_FOUND', `${options.input} does not exist`, { hint: 'give a crate directory (with Cargo.toml) or a .wasm file' })
  }
  if (stat.isFile()) {
    return runArtifact(input, options)
  }
  if (!fs.existsSync(path.join(input, 'Cargo.toml'))) {
    throw new WharfError('NOT_FOUND', `${options.input} has no Cargo.toml`, { hint: 'give a crate directory (with Cargo.toml) or a .wasm file' })
  }
  return runCrate(input, options)
}

/**
 * A cargo configuration or manifest in `dir` or a directory above it that
 * neither this user nor root owns. Cargo reads `.cargo/config.toml` in every
 * directory above the one it builds in, and looks upward for a workspace's
 * Cargo.toml: one that another local user planted in a shared parent
 * (`/tmp/.cargo`) would run a `rustc-wrapper` of theirs in this user's build.
 */
export function foreignCargoConfig(dir: string): string | undefined {
  const me = process.getuid?.()
  if (me === undefined) return undefined
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    for (const name of ['.cargo', '.cargo/config.toml', '.cargo/config', 'Cargo.toml']) {
      const found = path.join(at, name)
      let owner: number
      try {
        owner = fs.lstatSync(found).uid
      } catch {
        continue
      }
      if (owner !== me && owner !== 0) return found
    }
    if (path.dirname(at) === at) return undefined
  }
}

async function runCrate(crateDir: string, options: MatrixOptions): Promise<Report> {
  const env = options.env ?? process.env
  const toolchains = discoverToolchains(crateDir, options.toolchains ?? defaultCandidates(env), env)
  if (toolchains.length === 0) {
    throw new WharfError('TOOLCHAIN', 'no Rust toolchain found (neither rustup nor /usr/bin/cargo)', {
      hint: 'install rustup, or on Debian: apt-get install rustc cargo libstd-rust-dev-wasm32 lld',
    })
  }
  const parent = path.resolve(options.workDir ?? os.tmpdir())
  const foreign = foreignCargoConfig(parent)
  if (foreign) {
    throw new WharfError('USAGE', `${foreign} belongs to another user, and cargo would read it when it builds under ${parent}`, {
      hint: 'build in a directory only you can write: pass --work-dir DIR (or set TMPDIR)',
    })
  }
  const work = await fs.promises.mkdtemp(path.join(parent, 'wharf-test-'))
  // A Ctrl-C removes it too (children.ts).
  const forget = options.keep ? () => {} : addCleanup(() => removeTree(work))
  try {
    const targetDir = options.targetDir ? path.resolve(options.targetDir) : path.join(work, 'target')
    const copies = new SourceCopies(crateDir, work)
    const progress = options.onProgress ?? (() => {})
    const metadataCache = new Map<string, Promise<CargoMetadata | null>>()
    const ctx: Ctx = {
      options,
      env,
      work,
      targetDir,
      toolchains,
      copies,
      rootName: path.basename(crateDir),
      manifest: null,
      wharfMeta: {},
      builds: new Map(),
      progress,
      wasmtime: options.wasmtime === false ? null : findWasmtime(env),
      metadataFor: (plan) => {
        const key = `${plan.toolchain.source}|${plan.triple ?? 'host'}`
        let cached = metadataCache.get(key)
        if (!cached) {
          cached = (async () => (await cargoMetadata(await cargoContext(ctx, plan))).metadata)()
          metadataCache.set(key, cached)
        }
        return cached
      },
    }
    const first = await ctx.metadataFor({ toolchain: toolchains[0]!, triple: null })
    if (first) {
      ctx.manifest = first.root
      ctx.rootName = first.root.name
      const wharf = (first.root.metadata?.wharf ?? {}) as Record<string, unknown>
      if (typeof wharf.bench === 'string') ctx.wharfMeta.bench = wharf.bench
      if (typeof wharf.boundary === 'string') ctx.wharfMeta.boundary = wharf.boundary
    }
    const wanted = TARGETS.filter((t) => (options.targets ?? TARGETS).includes(t))
    const reports: TargetReport[] = []
    for (const target of wanted) reports.push(await runTarget(ctx, target))
    const verdicts: Verdicts = {
      dual_compilation: dualCompilation(reports),
      speed_ratio: await speedRatio(ctx, reports),
      gc_readiness: gcReadiness(await gcEvidence(ctx, reports)),
    }
    const score = qualityScore({
      targets: reports,
      dependencies: await dependencyCompatibility(ctx, reports),
      manifest: ctx.manifest,
      signature: options.signature ?? 'none',
    })
    return {
      schema: 'wharf:report/v1',
      subject: { kind: 'crate', name: ctx.rootName, version: ctx.manifest?.version ?? null, path: options.input },
      host: toolchains[0]!.host,
      generated_at: timestamp(new Date()),
      wharf: WHARF_VERSION,
      targets: reports,
      verdicts,
      score,
    }
  } finally {
    forget()
    // Test binaries hold handles in the work dir only while they run; every step has ended by now.
    if (!options.keep) await removeTree(work)
  }
}

/** One copy of the crate per toolchain source, so each cargo writes its own Cargo.lock (1.65 cannot read a v4 lockfile). */
class SourceCopies {
  private copies = new Map<string, Promise<string>>()
  constructor(
    private readonly crateDir: string,
    private readonly work: string,
  ) {}

  /** The package directory inside the copy for `toolchain`. */
  get(toolchain: Toolchain): Promise<string> {
    let copy = this.copies.get(toolchain.source)
    if (!copy) {
      copy = this.make(toolchain)
      this.copies.set(toolchain.source, copy)
    }
    return copy
  }

  private async make(toolchain: Toolchain): Promise<string> {
    const root = workspaceRoot(this.crateDir, toolchain)
    const dest = path.join(this.work, `src-${toolchain.source}`, path.basename(root))
    await fs.promises.cp(root, dest, {
      recursive: true,
      verbatimSymlinks: true,
      // A build directory or git history in the source is neither needed nor wanted in the throwaway copy.
      filter: (src) => {
        const rel = path.relative(root, src)
        if (rel === 'target' || rel.split(path.sep).includes('.git')) return false
        // A FIFO, socket or device is no source file: copying one blocks or fails, so it is refused by name.
        const stat = fs.lstatSync(src)
        if (!stat.isFile() && !stat.isDirectory() && !stat.isSymbolicLink()) {
          throw new WharfError('USAGE', `${rel} in ${root} is a ${specialKind(stat)}, not a file: wharf builds a copy of the crate, and cannot copy that`, {
            hint: 'remove it from the crate directory (a build writes such files under target/, which is not copied)',
          })
        }
        return true
      },
    })
    const lock = path.join(dest, 'Cargo.lock')
    if (fs.existsSync(lock) && (toolchain.version[0] === 1 && toolchain.version[1] < 78)) {
      // Lockfile v4 only changed how git sources are spelled; older cargo reads the same file as v3.
      const text = await fs.promises.readFile(lock, 'utf8')
      if (/^version = 4$/m.test(text)) await fs.promises.writeFile(lock, text.replace(/^version = 4$/m, 'version = 3'))
    }
    return path.join(dest, path.relative(root, this.crateDir))
  }
}

function specialKind(stat: fs.Stats): string {
  return stat.isFIFO() ? 'FIFO' : stat.isSocket() ? 'socket' : stat.isCharacterDevice() ? 'character device' : stat.isBlockDevice() ? 'block device' : 'special file'
}

/** The workspace root above `crateDir`, so members that inherit from it still build in the copy. */
function workspaceRoot(crateDir: string, toolchain: Toolchain): string {
  // Synchronous and short: cargo reads manifests only.
  const out = spawnSync(toolchain.cargo, ['locate-project', '--workspace', '--message-format', 'plain'], { cwd: crateDir, env: toolchain.env, encoding: 'utf8', timeout: 60_000 })
  if (out.status !== 0) return crateDir
  const root = path.dirname(out.stdout.trim())
  return crateDir === root || crateDir.startsWith(`${root}${path.sep}`) ? root : crateDir
}

async function cargoContext(ctx: Ctx, plan: TargetPlan): Promise<CargoContext> {
  return {
    toolchain: plan.toolchain,
    triple: plan.triple,
    cwd: await ctx.copies.get(plan.toolchain),
    targetDir: ctx.targetDir,
    timeoutMs: ctx.options.buildTimeoutMs ?? DEFAULTS.buildTimeoutMs,
    offline: ctx.options.offline ?? false,
  }
}

interface Executable {
  name: string
  file: string
}

interface BuildOutcome {
  build: BuildResult
  /** Set when the build passed: `cargo test --no-run`. */
  testBuild: { ok: boolean; wallMs: number; command: string; reason?: string } | null
  executables: Executable[]
  /** The .wasm files (cdylib, bin) the build produced, or native binaries. */
  outputs: { file: string; kind: 'cdylib' | 'bin' }[]
  blame: Blame[]
  cwd: string
  /** The target that ran the build, when another one reuses it. */
  builtFor: TargetName
}

function buildKey(plan: TargetPlan): string {
  return `${plan.toolchain.source}|${plan.triple ?? 'host'}`
}

/** `cargo build` then `cargo test --no-run`, once per toolchain and triple. */
function buildOnce(ctx: Ctx, plan: TargetPlan, target: TargetName): Promise<BuildOutcome> {
  const key = buildKey(plan)
  let outcome = ctx.builds.get(key)
  if (!outcome) {
    outcome = build(ctx, plan, target)
    ctx.builds.set(key, outcome)
  }
  return outcome
}

async function build(ctx: Ctx, plan: TargetPlan, target: TargetName): Promise<BuildOutcome> {
  const cargoCtx = await cargoContext(ctx, plan)
  ctx.progress(`${target}: cargo build (${plan.toolchain.rustcVersion})`)
  const built = await cargo(cargoCtx, 'build')
  const result: BuildOutcome = {
    build: {
      status: built.ok ? 'pass' : 'fail',
      command: built.command,
      wall_ms: round(built.output.wallMs),
      exit_code: built.output.code,
      timed_out: built.output.timedOut,
      artifacts: [],
    },
    testBuild: null,
    executables: [],
    outputs: [],
    blame: [],
    cwd: cargoCtx.cwd,
    builtFor: target,
  }
  for (const a of built.artifacts) {
    for (const file of a.filenames) {
      const wasm = file.endsWith('.wasm')
      if (a.target.kind.includes('cdylib') && (wasm || plan.triple === null)) result.outputs.push({ file, kind: 'cdylib' })
      else if (a.target.kind.includes('bin') && (wasm || a.executable === file)) result.outputs.push({ file, kind: 'bin' })
    }
  }
  result.build.artifacts = result.outputs.map((o) => path.basename(o.file))
  if (!built.ok) {
    result.build.reason = built.output.timedOut ? `timed out after ${cargoCtx.timeoutMs / 1000}s` : 'cargo build failed'
    result.blame.push(blameBuild(target, built.errors, built.output.stderr, await ctx.metadataFor(plan), ctx.rootName))
    return result
  }
  ctx.progress(`${target}: cargo test --no-run`)
  const tests = await cargo(cargoCtx, 'test', ['--no-run'])
  result.testBuild = { ok: tests.ok, wallMs: round(tests.output.wallMs), command: tests.command }
  if (!tests.ok) {
    result.testBuild.reason = tests.output.timedOut ? `timed out after ${cargoCtx.timeoutMs / 1000}s` : 'the tests do not compile'
    result.blame.push(blameBuild(target, tests.errors, tests.output.stderr, await ctx.metadataFor(plan), ctx.rootName))
    return result
  }
  for (const a of tests.artifacts) {
    if (!a.test || !a.executable) continue
    // Named as cargo's own "Running" lines do: unit tests of the library, of a bin, or an integration test.
    const kind = a.target.kind.some((k) => LIB_KINDS.has(k)) ? 'lib' : (a.target.kind[0] ?? 'test')
    result.executables.push({ name: `${kind} ${a.target.name.replace(/-/g, '_')}`, file: a.executable })
  }
  return result
}

function emptyMetrics(): TargetMetrics {
  return { wall_ms: { build: null, test_build: null, test_run: null, total: 0 }, size: null, wasm: null, component: null, native: null }
}

function unavailable(target: TargetName, reason: string): TargetReport {
  return {
    target,
    status: 'unavailable',
    toolchain: null,
    runtime: null,
    build: { status: 'unavailable', reason },
    test: { status: 'unavailable', reason },
    blame: [],
    metrics: emptyMetrics(),
  }
}

async function runTarget(ctx: Ctx, target: TargetName): Promise<TargetReport> {
  const native = planTarget(target, ctx.toolchains)
  if (target === 'wasm32-wasip2' && !native) return runAdaptedP2(ctx)
  if (!native) {
    return unavailable(target, `no toolchain has the ${target} standard library (rustup target add ${target}, or apt-get install libstd-rust-dev-wasm32)`)
  }
  const outcome = await buildOnce(ctx, native, target)
  const report: TargetReport = {
    target,
    status: 'pass',
    toolchain: toolchainRef(native),
    runtime: null,
    build: shared(outcome, target),
    test: { status: 'skipped' },
    blame: [...outcome.blame],
    metrics: emptyMetrics(),
  }
  report.metrics.wall_ms.build = outcome.builtFor === target ? (outcome.build.wall_ms ?? null) : 0
  report.metrics.wall_ms.test_build = outcome.builtFor === target ? (outcome.testBuild?.wallMs ?? null) : 0
  await measureOutputs(report, outcome)
  if (outcome.build.status !== 'pass') {
    report.status = 'fail'
    report.test = { status: 'skipped', reason: 'the build failed' }
    return finish(report)
  }
  if (!outcome.testBuild?.ok) {
    report.status = 'fail'
    report.test = { status: 'fail', reason: outcome.testBuild?.reason ?? 'the tests do not compile', command: outcome.testBuild?.command, build_ms: outcome.testBuild?.wallMs }
    return finish(report)
  }
  const exec = chooseExec(ctx, target, outcome)
  if (typeof exec === 'string') {
    report.test = { status: 'not-run', reason: exec, command: outcome.testBuild.command, build_ms: outcome.testBuild.wallMs }
    return finish(report)
  }
  report.runtime = exec.runtime
  ctx.progress(`${target}: running ${outcome.executables.length} test binar${outcome.executables.length === 1 ? 'y' : 'ies'} under ${exec.runtime.name}`)
  const metadata = await ctx.metadataFor(native)
  if (target === 'wasm32-unknown-unknown') await runExitOnly(ctx, report, exec, outcome)
  else await runTests(ctx, report, exec, outcome.executables, outcome.testBuild, metadata)
  if (target === 'wasm32-wasip2' && outcome.executables[0]) {
    // A toolchain with wasm32-wasip2 links test binaries as components: their world is what the runtime had to provide.
    const bytes = await fs.promises.readFile(outcome.executables[0].file)
    if (wasmKind(bytes) === 'component') report.metrics.component = await componentMetrics(bytes)
  }
  return finish(report)
}

function shared(outcome: BuildOutcome, target: TargetName): BuildResult {
  return outcome.builtFor === target ? { ...outcome.build } : { ...outcome.build, reason: `shared with ${outcome.builtFor}`, wall_ms: 0 }
}

function finish(report: TargetReport): TargetReport {
  const w = report.metrics.wall_ms
  w.total = round((w.build ?? 0) + (w.test_build ?? 0) + (w.test_run ?? 0))
  if (report.build.status === 'fail' || report.test.status === 'fail') report.status = 'fail'
  return report
}

/** Which runtime runs this target's tests, or why none can. */
function chooseExec(ctx: Ctx, target: TargetName, outcome: BuildOutcome): Exec | string {
  const statsDir = ctx.work
  if (target === 'native') return nativeExec(outcome.cwd, nativeTestEnv(ctx, outcome), ctx.toolchains[0]!.host)
  if (target === 'wasm32-unknown-unknown') {
    // Without wasm-bindgen's host a test binary can still run when it imports nothing of it and exports rustc's C `main`.
    for (const e of outcome.executables) {
      const scan = scanModule(fs.readFileSync(e.file))
      if (scan.imports.some((i) => i.module.startsWith('__wbindgen') || i.name.startsWith('__wbg_') || i.name.startsWith('__wbindgen'))) {
        return 'tests built only: they need wasm-bindgen-test and a JavaScript host'
      }
      if (!scan.exports.some((x) => x.name === 'main' && x.kind === 'func')) return 'tests built only: the test binary has no `main` entry to call'
    }
    return nodeMainExec(outcome.cwd, statsDir, ctx.env)
  }
  if (ctx.wasmtime) return wasmtimeExec(ctx.wasmtime, outcome.cwd, ctx.env)
  if (target === 'wasm32-wasip1') return nodeWasiExec(outcome.cwd, statsDir, ctx.env)
  return jcoExec(outcome.cwd, ctx.work, ctx.env)
}

/** What `cargo test` puts in a test binary's environment that tests commonly read. */
function nativeTestEnv(ctx: Ctx, outcome: BuildOutcome): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...ctx.toolchains[0]!.env, CARGO_MANIFEST_DIR: outcome.cwd, CARGO_PKG_NAME: ctx.rootName }
  if (ctx.manifest) env.CARGO_PKG_VERSION = ctx.manifest.version
  return env
}

async function runTests(ctx: Ctx, report: TargetReport, exec: Exec, executables: Executable[], testBuild: { wallMs: number; command: string }, metadata: CargoMetadata | null): Promise<void> {
  const timeoutMs = ctx.options.testTimeoutMs ?? DEFAULTS.testTimeoutMs
  const binaries: TestBinaryResult[] = []
  let peakRss: number | null = null
  let peakPages: number | null = null
  let firstFailure: string | undefined
  let runMs = 0
  for (const e of executables) {
    let first = true
    const all = await runAllTests(async (args) => {
      const out = await exec.run(e.file, args, { timeoutMs, measureRss: first })
      if (first && out.peakRssKb !== null) peakRss = Math.max(peakRss ?? 0, out.peakRssKb)
      if (out.stats?.memory_pages != null) peakPages = Math.max(peakPages ?? 0, out.stats.memory_pages)
      first = false
      return { stdout: out.stdout, stderr: out.stderr, code: out.code, timedOut: out.timedOut, wallMs: out.wallMs }
    })
    runMs += all.wallMs
    binaries.push(binaryResult(e.name, all))
    const failed = all.failed > 0 || all.crashed !== null || all.stopped !== null || all.timedOut || (all.exitCode !== 0 && all.summary === null && all.aborted.length === 0)
    if (failed) {
      if (all.panics.length > 0) {
        firstFailure ??= `${all.panics[0]!.test}: ${all.panics[0]!.message}`
        // One entry per failed test, up to a handful: each may have its own cause.
        for (const p of all.panics.slice(0, MAX_TEST_BLAME)) report.blame.push(blameTest(report.target, p.test, p.message, p.location, metadata, ctx.rootName))
      } else if (all.crashed || all.stopped || all.timedOut) {
        const why = all.timedOut ? `timed out after ${timeoutMs / 1000}s` : (all.crashed ?? all.stopped)!
        firstFailure ??= `${e.name}: ${why}`
        report.blame.push({ crate: ctx.rootName, version: ctx.manifest?.version ?? null, path: [rootLabel(ctx)], error: `${e.name}: ${why}`, hint: hintFor(ctx.rootName, report.target, why), stage: 'test' })
      }
    }
  }
  const failed = binaries.some((b) => b.failed > 0) || binaries.some((b) => b.exit_code !== 0 && b.failed === 0 && b.aborted.length === 0)
  report.test = {
    status: failed ? 'fail' : 'pass',
    command: testBuild.command,
    build_ms: testBuild.wallMs,
    run_ms: round(runMs),
    passed: binaries.reduce((n, b) => n + b.passed, 0),
    failed: binaries.reduce((n, b) => n + b.failed, 0),
    ignored: binaries.reduce((n, b) => n + b.ignored, 0),
    binaries,
  }
  if (firstFailure) report.test.first_failure = firstFailure
  report.metrics.wall_ms.test_run = round(runMs)
  if (report.target === 'native') report.metrics.native = { peak_rss_kb: peakRss }
  else if (report.metrics.wasm) report.metrics.wasm.memory.peak_pages = peakPages
  else if (peakPages !== null) {
    // Nothing built a .wasm of its own: the memory figures come from the test binary.
    report.metrics.wasm = wasmMetrics(fs.readFileSync(executables[0]!.file), peakPages)
  }
}

function rootLabel(ctx: Ctx): string {
  return ctx.manifest ? `${ctx.manifest.name} ${ctx.manifest.version}` : ctx.rootName
}

function binaryResult(name: string, all: AllTests): TestBinaryResult {
  return {
    name,
    passed: all.passed,
    failed: all.failed,
    ignored: all.ignored,
    summary: all.summary,
    aborted: all.aborted,
    failures: all.failures,
    runs: all.runs,
    exit_code: all.exitCode,
    wall_ms: round(all.wallMs),
  }
}

/** wasm32-unknown-unknown: each test binary's `main` runs once; it can only say pass (returns 0) or fail (traps). */
async function runExitOnly(ctx: Ctx, report: TargetReport, exec: Exec, outcome: BuildOutcome): Promise<void> {
  const timeoutMs = ctx.options.testTimeoutMs ?? DEFAULTS.testTimeoutMs
  const binaries: TestBinaryResult[] = []
  let runMs = 0
  let peakPages: number | null = null
  for (const e of outcome.executables) {
    const out = await exec.run(e.file, [], { timeoutMs })
    runMs += out.wallMs
    if (out.stats?.memory_pages != null) peakPages = Math.max(peakPages ?? 0, out.stats.memory_pages)
    const ok = out.code === 0
    binaries.push({ name: e.name, passed: 0, failed: ok ? 0 : 1, ignored: 0, summary: null, aborted: [], failures: ok ? [] : [e.name], runs: 1, exit_code: out.code, wall_ms: round(out.wallMs) })
    if (!ok) {
      const why = out.timedOut ? `timed out after ${timeoutMs / 1000}s` : (out.stats?.trap ?? out.stderr.trim().split('\n').at(-1) ?? `exit ${out.code}`)
      report.blame.push({ crate: ctx.rootName, version: ctx.manifest?.version ?? null, path: [rootLabel(ctx)], error: `${e.name}: a test failed (${why})`, hint: null, stage: 'test' })
    }
  }
  const failed = binaries.some((b) => b.exit_code !== 0)
  report.test = {
    status: failed ? 'fail' : 'pass',
    reason: 'wasm32-unknown-unknown has no stdout: the verdict is the exit of each test binary, without per-test counts',
    command: outcome.testBuild?.command,
    build_ms: outcome.testBuild?.wallMs,
    run_ms: round(runMs),
    binaries,
  }
  report.metrics.wall_ms.test_run = round(runMs)
  if (report.metrics.wasm) report.metrics.wasm.memory.peak_pages = peakPages
}

/** wasip2 on a toolchain without it: the p1 test binaries, turned into components with jco's WASI adapter. */
async function runAdaptedP2(ctx: Ctx): Promise<TargetReport> {
  const target: TargetName = 'wasm32-wasip2'
  const p1 = planTarget('wasm32-wasip1', ctx.toolchains)
  if (!p1) return unavailable(target, 'no toolchain has wasm32-wasip2, nor wasm32-wasip1 to adapt')
  let jco: ReturnType<typeof jcoInfo>
  try {
    jco = jcoInfo()
  } catch {
    return unavailable(target, 'no toolchain has wasm32-wasip2, and jco (@bytecodealliance/jco) is not installed to adapt the wasm32-wasip1 build (npm ci)')
  }
  const adapter = `jco ${jco.version} wasi_snapshot_preview1.command adapter`
  const outcome = await buildOnce(ctx, p1, target)
  const report: TargetReport = {
    target,
    status: 'pass',
    toolchain: toolchainRef(p1, adapter),
    runtime: null,
    build: shared(outcome, target),
    test: { status: 'skipped' },
    blame: outcome.blame.map((b) => ({ ...b })),
    metrics: emptyMetrics(),
  }
  report.metrics.wall_ms.build = outcome.builtFor === target ? (outcome.build.wall_ms ?? null) : 0
  report.metrics.wall_ms.test_build = outcome.builtFor === target ? (outcome.testBuild?.wallMs ?? null) : 0
  if (outcome.build.status !== 'pass') {
    report.test = { status: 'skipped', reason: 'the build failed' }
    return finish(report)
  }
  if (!outcome.testBuild?.ok) {
    report.test = { status: 'fail', reason: outcome.testBuild?.reason ?? 'the tests do not compile', command: outcome.testBuild?.command }
    return finish(report)
  }
  ctx.progress(`${target}: adapting ${outcome.executables.length} p1 module(s) into components`)
  const { componentNew, preview1AdapterCommandPath } = await import('@bytecodealliance/jco')
  const adapterBytes = await fs.promises.readFile(preview1AdapterCommandPath())
  const start = performance.now()
  const components: Executable[] = []
  const dir = await fs.promises.mkdtemp(path.join(ctx.work, 'p2-'))
  let sample: Uint8Array | null = null
  for (const e of outcome.executables) {
    // Debug info is most of a debug build and means nothing to the adapter; the name section stays for trap traces.
    const module = stripCustomSections(await fs.promises.readFile(e.file), (name) => name === 'name')
    const component = await componentNew(module, [['wasi_snapshot_preview1', adapterBytes]])
    const file = path.join(dir, `${path.basename(e.file, '.wasm')}.component.wasm`)
    await fs.promises.writeFile(file, component)
    components.push({ name: e.name, file })
    sample ??= component
  }
  const adaptMs = performance.now() - start
  report.build = { ...report.build, artifacts: components.map((c) => path.basename(c.file)) }
  report.metrics.wall_ms.test_build = round((report.metrics.wall_ms.test_build ?? 0) + adaptMs)
  const cdylib = outcome.outputs.find((o) => o.kind === 'cdylib' || o.kind === 'bin')
  if (cdylib) await measureOutputs(report, outcome)
  if (sample) {
    report.metrics.component = await componentMetrics(sample)
    report.metrics.wasm ??= wasmMetrics(sample)
  }
  const exec = ctx.wasmtime ? wasmtimeExec(ctx.wasmtime, outcome.cwd, ctx.env) : jcoExec(outcome.cwd, ctx.work, ctx.env)
  report.runtime = exec.runtime
  ctx.progress(`${target}: running ${components.length} component(s) under ${exec.runtime.name}`)
  await runTests(ctx, report, exec, components, { wallMs: round(adaptMs), command: `${outcome.testBuild.command} && jco new FILE.wasm --wasi-command` }, await ctx.metadataFor(p1))
  return finish(report)
}

/** Size, features and imports of what the build produced: a cdylib or bin for wasm targets. */
async function measureOutputs(report: TargetReport, outcome: BuildOutcome): Promise<void> {
  if (report.target === 'native') return
  const output = outcome.outputs.find((o) => o.kind === 'cdylib' && o.file.endsWith('.wasm')) ?? outcome.outputs.find((o) => o.file.endsWith('.wasm'))
  if (!output) return
  const bytes = await fs.promises.readFile(output.file)
  report.metrics.size = sizeMetrics(bytes, path.basename(output.file), output.kind)
  report.metrics.wasm = wasmMetrics(bytes)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** median(wasm) / median(native) over the same tests (or the declared bench), N runs each. */
async function speedRatio(ctx: Ctx, reports: TargetReport[]): Promise<Verdicts['speed_ratio']> {
  const runs = Math.max(1, ctx.options.runs ?? DEFAULTS.runs)
  const bench = ctx.wharfMeta.bench
  const basis = bench ? `declared bench "${bench}" ([package.metadata.wharf] bench)` : 'the test suite'
  const none = (why: string): Verdicts['speed_ratio'] => ({ value: null, wasm_target: null, basis: `${basis}: ${why}`, runs, native_ms: null, wasm_ms: null })
  const native = reports.find((r) => r.target === 'native')
  const wasm = reports.find((r) => r.target === 'wasm32-wasip1' && r.test.status === 'pass')
  if (!native) return none('native is not in the matrix')
  if (native.test.status !== 'pass') return none('native tests did not pass')
  if (!reports.some((r) => r.target === 'wasm32-wasip1')) return none('wasm32-wasip1 is not in the matrix')
  if (!wasm) return none('wasm32-wasip1 tests did not pass')
  const nativePlan = planTarget('native', ctx.toolchains)!
  const wasmPlan = planTarget('wasm32-wasip1', ctx.toolchains)!
  const nativeBuild = await ctx.builds.get(buildKey(nativePlan))!
  const wasmBuild = await ctx.builds.get(buildKey(wasmPlan))!
  const nativeExecutor = chooseExec(ctx, 'native', nativeBuild) as Exec
  const wasmExecutor = chooseExec(ctx, 'wasm32-wasip1', wasmBuild) as Exec
  const args = bench ? [bench, '--include-ignored'] : []
  const timeoutMs = ctx.options.testTimeoutMs ?? DEFAULTS.testTimeoutMs
  ctx.progress(`speed: ${runs} runs each of native and wasm32-wasip1`)
  // Time inside the engine where the runner reports it (node:wasi): compiling the module is not running the code.
  const time = (out: ExecResult) => out.stats?.exec_ms ?? out.wallMs
  const sample = async (exec: Exec, executables: Executable[]) => {
    const times: number[] = []
    for (let i = 0; i < runs; i++) {
      let total = 0
      for (const e of executables) {
        const out = await exec.run(e.file, args, { timeoutMs })
        if (out.code !== 0) return null
        total += time(out)
      }
      times.push(total)
    }
    return median(times)
  }
  const nativeMs = await sample(nativeExecutor, nativeBuild.executables)
  const wasmMs = await sample(wasmExecutor, wasmBuild.executables)
  if (nativeMs === null || wasmMs === null) return none('a timed run failed')
  return {
    value: nativeMs > 0 ? round(wasmMs / nativeMs, 2) : null,
    wasm_target: 'wasm32-wasip1',
    basis: `${basis}: ${wasmExecutor.runtime.name === 'node-wasi' ? 'time inside the engine once compiled' : `${wasmExecutor.runtime.name} wall time`} vs native process wall time`,
    runs,
    native_ms: round(nativeMs, 2),
    wasm_ms: round(wasmMs, 2),
  }
}

async function gcEvidence(ctx: Ctx, reports: TargetReport[]): Promise<GcEvidence> {
  const wasi = reports.filter((r) => (r.target === 'wasm32-wasip1' || r.target === 'wasm32-wasip2') && r.test.status === 'pass')
  const tried = reports.filter((r) => (r.target === 'wasm32-wasip1' || r.target === 'wasm32-wasip2') && r.status !== 'unavailable')
  let g1: GcEvidence['g1']
  if (wasi.length === 0) g1 = { met: tried.length === 0 ? null : false, evidence: tried.length === 0 ? 'no WASI target ran here' : 'no WASI target passed its tests' }
  else {
    const gcRuntime = wasi.find((r) => r.runtime && runtimeHasGc(ctx, r.runtime.name))
    g1 = gcRuntime
      ? { met: true, evidence: `${gcRuntime.target} tests passed on ${gcRuntime.runtime!.name} ${gcRuntime.runtime!.version} with the GC proposal enabled` }
      : { met: null, evidence: 'tests passed, but on an engine without the GC proposal' }
  }
  // The boundary: what the crate exports from a .wasm of its own (a cdylib), else nothing to judge.
  const withBoundary = reports.find((r) => r.metrics.size && r.metrics.wasm && r.metrics.size.kind !== 'test')
  let g2: GcEvidence['g2'] = { met: false, evidence: 'the crate builds no wasm module of its own (no cdylib or bin), so it has no boundary to type' }
  let boundaryFile: string | null = null
  if (withBoundary) {
    const outcome = await findOutcome(ctx, withBoundary.target)
    const file = outcome?.outputs.find((o) => o.file.endsWith('.wasm'))?.file ?? null
    boundaryFile = file
    if (file) g2 = boundaryEvidence(fs.readFileSync(file), withBoundary.metrics.component?.resources ?? [])
  }
  const boundary = ctx.options.boundary ?? ctx.wharfMeta.boundary
  const probeable = boundaryFile !== null && wasmKind(fs.readFileSync(boundaryFile)) === 'module'
  const g3: GcEvidence['g3'] =
    !boundary || !boundaryFile || !probeable
      ? { met: null, evidence: !boundary ? 'no boundary function declared ([package.metadata.wharf] boundary)' : boundaryFile ? 'the boundary probe runs on core modules only' : 'no wasm module to probe' }
      : await probeBoundary(boundaryFile, boundary, ctx.options.testTimeoutMs ?? DEFAULTS.testTimeoutMs)
  const scanned = reports.map((r) => r.metrics.wasm).filter((w) => w !== null)
  const gcUsed = scanned.some((w) => w!.features.includes('gc'))
  const g4: GcEvidence['g4'] = { met: gcUsed, evidence: gcUsed ? 'GC types or instructions present' : 'no struct/array types or GC instructions (expected for Rust today)' }
  return { g1, g2, g3, g4 }
}

function runtimeHasGc(ctx: Ctx, name: string): boolean {
  if (name === 'wasmtime') return (ctx.wasmtime?.major ?? 0) >= 47
  return nodeWasmFlags().gc
}

async function findOutcome(ctx: Ctx, target: TargetName): Promise<BuildOutcome | null> {
  const plan = target === 'wasm32-wasip2' ? (planTarget(target, ctx.toolchains) ?? planTarget('wasm32-wasip1', ctx.toolchains)) : planTarget(target, ctx.toolchains)
  if (!plan) return null
  return (await ctx.builds.get(buildKey(plan))) ?? null
}

/** The wasm32-unknown-unknown tree (the strictest target) against blame and the known causes. */
async function dependencyCompatibility(ctx: Ctx, reports: TargetReport[]): Promise<{ total: number; incompatible: string[] } | null> {
  const metadata = await ctx.metadataFor({ toolchain: ctx.toolchains[0]!, triple: 'wasm32-unknown-unknown' })
  if (!metadata) return null
  const reachable = new Set<string>()
  const stack = [metadata.root.id]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (reachable.has(id)) continue
    reachable.add(id)
    stack.push(...(metadata.nodes.get(id)?.deps ?? []))
  }
  reachable.delete(metadata.root.id)
  const blamed = new Set(reports.flatMap((r) => r.blame.filter((b) => b.stage === 'build').map((b) => b.crate)))
  const incompatible: string[] = []
  for (const id of reachable) {
    const pkg = metadata.packages.get(id)
    const name = pkg?.name ?? parsePackageId(id)?.name ?? id
    if (blamed.has(name) || (pkg && (pkg.links || ['mio', 'ring', 'socket2'].includes(name)))) incompatible.push(name)
  }
  return { total: reachable.size, incompatible: incompatible.sort() }
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
