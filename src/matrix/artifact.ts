/**
 * The matrix for a built artifact (a core module or a component): no sources,
 * so no builds and no tests. What it can say: whether the bytes validate,
 * which target they were built for, their size, features, imports and
 * exports, the WIT world of a component, and the GC-readiness rungs that
 * bytes alone decide.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { timestamp } from '../core/time.js'
import { WHARF_VERSION } from '../core/version.js'
import { inferTarget, inspectWasm, wasmKind } from '../core/wasm.js'
import { addCleanup } from './children.js'
import { componentMetrics, sizeMetrics, wasmMetrics } from './metrics.js'
import { boundaryEvidence, probeBoundary } from './gc.js'
import { DEFAULTS, type MatrixOptions } from './options.js'
import { nodeWasmFlags, validateWithGc } from './runtime.js'
import type { Report, TargetName, TargetReport } from './types.js'
import { gcReadiness, qualityScore, type GcEvidence } from './verdicts.js'
import { scanModule } from './wasm-scan.js'

export async function runArtifact(file: string, options: MatrixOptions): Promise<Report> {
  const bytes = await fs.promises.readFile(file)
  const kind = wasmKind(bytes)
  if (!kind) {
    throw new WharfError('INVALID_ARTIFACT', `${options.input} is not a WebAssembly module or component`, {
      hint: 'give a .wasm file, or the crate directory to build',
    })
  }
  let inspection = inspectWasm(bytes)
  const unreadable = parseProblem(bytes, kind)
  if (inspection.ok && unreadable) inspection = { ok: false, reason: unreadable }
  const target: TargetName = inferTarget(kind, kind === 'component' || unreadable ? [] : scanModule(bytes).imports.map((i) => i.module))
  const { flags } = nodeWasmFlags()
  const report: TargetReport = {
    target,
    status: inspection.ok ? 'pass' : 'fail',
    toolchain: null,
    runtime: { name: 'node', version: process.version, command: `node ${flags.join(' ')}` },
    build: inspection.ok
      ? { status: 'pass', reason: `a prebuilt ${kind}: it validates`, artifacts: [path.basename(file)] }
      : { status: 'fail', reason: inspection.reason, artifacts: [path.basename(file)] },
    test: { status: 'not-run', reason: 'an artifact carries no tests; give the crate directory to run them' },
    blame: [],
    metrics: { wall_ms: { build: null, test_build: null, test_run: null, total: 0 }, size: null, wasm: null, component: null, native: null },
  }
  const evidence: GcEvidence = {
    g1: { met: false, evidence: 'the artifact does not validate' },
    g2: { met: false, evidence: 'the artifact does not validate' },
    g3: { met: null, evidence: 'not probed' },
    g4: { met: false, evidence: 'the artifact does not validate' },
  }
  let name = path.basename(file).replace(/\.wasm$/, '')
  if (inspection.ok) {
    report.metrics.size = sizeMetrics(bytes, path.basename(file), kind === 'component' ? 'component' : 'artifact')
    report.metrics.wasm = wasmMetrics(bytes)
    const work = await fs.promises.mkdtemp(path.join(options.workDir ?? os.tmpdir(), 'wharf-test-'))
    // A Ctrl-C removes it too (children.ts).
    const forget = options.keep ? () => {} : addCleanup(() => fs.promises.rm(work, { recursive: true, force: true }))
    try {
      // The engine validates core modules; a component is judged by the core modules inside it.
      const modules = kind === 'component' ? componentModules(bytes) : [bytes]
      const files = await Promise.all(
        modules.map(async (m, i) => {
          const f = path.join(work, `module-${i}.wasm`)
          await fs.promises.writeFile(f, m)
          return f
        }),
      )
      const validation = await validateWithGc(files, options.testTimeoutMs ?? DEFAULTS.testTimeoutMs)
      const invalid = validation.results.filter((r) => !r.valid)
      evidence.g1 = !validation.gcEnabled
        ? { met: null, evidence: 'this engine has no GC proposal to validate against' }
        : invalid.length > 0
          ? { met: false, evidence: `does not validate with GC enabled: ${invalid[0]!.error}` }
          : { met: true, evidence: `${modules.length} core module(s) validate in V8 (Node ${process.version}) with the GC proposal enabled` }
      if (kind === 'component') {
        try {
          report.metrics.component = await componentMetrics(bytes)
          // jco prints `root:component` for a component that does not name its package: the file name says more.
          const pkg = /^package\s+([^;@\s]+)/m.exec(report.metrics.component.wit)?.[1]
          if (pkg && pkg !== 'root:component') name = pkg
        } catch (e) {
          report.status = 'fail'
          report.build = { status: 'fail', reason: `jco cannot read the component's WIT: ${(e as Error).message.split('\n')[0]}`, artifacts: [path.basename(file)] }
        }
        evidence.g2 = boundaryEvidence(bytes, report.metrics.component?.resources ?? [])
        evidence.g3 = { met: null, evidence: 'the boundary probe runs on core modules only' }
      } else {
        evidence.g2 = boundaryEvidence(bytes)
        evidence.g3 = options.boundary
          ? await probeBoundary(file, options.boundary, options.testTimeoutMs ?? DEFAULTS.testTimeoutMs)
          : { met: null, evidence: 'no boundary function named (--boundary)' }
      }
      const gc = report.metrics.wasm.features.includes('gc')
      evidence.g4 = { met: gc, evidence: gc ? 'GC types or instructions present' : 'no struct/array types or GC instructions' }
    } finally {
      forget()
      if (!options.keep) await fs.promises.rm(work, { recursive: true, force: true })
    }
  }
  const targets = [report]
  return {
    schema: 'wharf:report/v1',
    subject: { kind: 'artifact', name, version: null, path: options.input, sha256: sha256Hex(bytes) },
    // Nothing was compiled, so no rustc names the host; this is its triple's spelling of Node's names.
    host: `${{ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686' }[os.arch() as string] ?? os.arch()}-${os.platform() === 'linux' ? 'unknown-linux-gnu' : os.platform()}`,
    generated_at: timestamp(new Date()),
    wharf: WHARF_VERSION,
    targets,
    verdicts: {
      dual_compilation: { value: false, reason: 'an artifact alone cannot show that the crate also builds natively' },
      speed_ratio: { value: null, wasm_target: null, basis: 'an artifact has no tests to time', runs: 0, native_ms: null, wasm_ms: null },
      gc_readiness: gcReadiness(evidence),
    },
    score: qualityScore({ targets, dependencies: null, manifest: null, signature: options.signature ?? 'none' }),
  }
}

/**
 * Why the scans below cannot read `bytes`, or undefined: a core module
 * inside a component, which the top-level walk does not read, may run past
 * its end or hold what no scan knows. The bytes are the submitter's.
 */
function parseProblem(bytes: Uint8Array, kind: 'module' | 'component'): string | undefined {
  try {
    for (const module of kind === 'component' ? componentModules(bytes) : [bytes]) scanModule(module)
    wasmMetrics(bytes)
    return undefined
  } catch (e) {
    if (e instanceof RangeError) return `it does not parse: ${e.message}`
    throw e
  }
}

/** The core modules embedded in a component, nested components included. */
function componentModules(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  let offset = 8
  while (offset < bytes.length) {
    const id = bytes[offset]!
    let size = 0
    let shift = 0
    let pos = offset + 1
    for (;;) {
      const b = bytes[pos++]!
      size += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) break
      shift += 7
    }
    const body = bytes.subarray(pos, pos + size)
    if (id === 1) out.push(body)
    else if (id === 4) out.push(...componentModules(body))
    offset = pos + size
  }
  return out
}
