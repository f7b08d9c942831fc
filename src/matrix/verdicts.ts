/** Verdicts drawn from the per-target results: dual compilation, GC readiness, the quality score. */
import type { CargoPackage } from './cargo.js'
import type { GcRung, Score, ScorePart, TargetReport, Verdicts } from './types.js'

const WASI_TARGETS = new Set(['wasm32-wasip1', 'wasm32-wasip2'])

function passed(t: TargetReport | undefined): boolean {
  return !!t && t.status === 'pass' && t.build.status === 'pass' && (t.test.status === 'pass' || t.test.status === 'not-run')
}

/** Native and at least one WASI target both build and pass their tests. */
export function dualCompilation(targets: TargetReport[]): Verdicts['dual_compilation'] {
  const native = targets.find((t) => t.target === 'native')
  const wasi = targets.filter((t) => WASI_TARGETS.has(t.target))
  if (!native) return { value: false, reason: 'native was not in the matrix' }
  if (native.status === 'unavailable') return { value: false, reason: 'no toolchain for native' }
  if (!passed(native)) return { value: false, reason: 'native does not build and pass its tests' }
  const good = wasi.filter(passed)
  if (good.length === 0) {
    const tried = wasi.filter((t) => t.status !== 'unavailable')
    return { value: false, reason: tried.length === 0 ? 'no WASI target could be built on this machine' : `native passes; ${tried.map((t) => t.target).join(' and ')} do${tried.length === 1 ? 'es' : ''} not` }
  }
  return { value: true, reason: `native and ${good.map((t) => t.target).join(', ')} build and pass` }
}

export interface GcEvidence {
  /** G1: tests passed (or the artifact validated) in an engine with the GC proposal on. */
  g1: { met: boolean | null; evidence: string }
  /** G2: externref/funcref on the boundary, or exported resources. */
  g2: { met: boolean | null; evidence: string }
  g3: { met: boolean | null; evidence: string }
  g4: { met: boolean | null; evidence: string }
}

/** The ladder, and the highest rung reached with every rung below it met. */
export function gcReadiness(e: GcEvidence): Verdicts['gc_readiness'] {
  const ladder: GcRung[] = [
    { level: 'G1', ...e.g1 },
    { level: 'G2', ...e.g2 },
    { level: 'G3', ...e.g3 },
    { level: 'G4', ...e.g4 },
  ]
  let level: Verdicts['gc_readiness']['level'] = 'G0'
  for (const rung of ladder) {
    if (rung.met !== true) break
    level = rung.level
  }
  return { level, ladder }
}

export const SCORE_WEIGHTS: Record<ScorePart['name'], number> = {
  build_coverage: 30,
  test_pass_rate: 25,
  dependency_compatibility: 15,
  metadata_completeness: 10,
  signature_level: 10,
  size: 10,
}

export type SignatureLevel = 'none' | 'signed' | 'provenance'

export interface ScoreInput {
  targets: TargetReport[]
  /** Dependencies in the wasm tree, and those known or seen to break wasm builds; null when unknown. */
  dependencies: { total: number; incompatible: string[] } | null
  /** The package's manifest, for crates. */
  manifest: CargoPackage | null
  signature: SignatureLevel
}

/** Bytes of gzip-compressed stripped wasm that still score full marks, and those that score nothing (log scale between). */
const SIZE_FULL = 64 * 1024
const SIZE_ZERO = 4 * 1024 * 1024

/** A 0-100 score with its breakdown; parts that do not apply (value null) are left out of the total, not counted as zero. */
export function qualityScore(input: ScoreInput): Score {
  const parts: ScorePart[] = []
  const part = (name: ScorePart['name'], value: number | null, detail: string) => {
    const weight = SCORE_WEIGHTS[name]
    const v = value === null ? null : Math.max(0, Math.min(1, value))
    parts.push({ name, weight, value: v === null ? null : round(v, 3), points: v === null ? 0 : round(weight * v, 1), detail })
  }

  const tried = input.targets.filter((t) => t.status !== 'unavailable')
  const built = tried.filter((t) => t.build.status === 'pass')
  part('build_coverage', tried.length === 0 ? null : built.length / tried.length, `${built.length} of ${tried.length} available targets build${tried.length < input.targets.length ? ` (${input.targets.length - tried.length} unavailable here)` : ''}`)

  let ok = 0
  let bad = 0
  for (const t of input.targets) {
    if (t.test.status !== 'pass' && t.test.status !== 'fail') continue
    // A run that can only report its exit (wasm32-unknown-unknown) counts as one result.
    if (t.test.passed === undefined || t.test.failed === undefined) t.test.status === 'pass' ? ok++ : bad++
    else {
      ok += t.test.passed
      bad += t.test.failed
    }
  }
  const anyTestRan = input.targets.some((t) => t.test.status === 'pass' || t.test.status === 'fail')
  if (input.manifest === null && !anyTestRan) part('test_pass_rate', null, 'an artifact carries no tests')
  else part('test_pass_rate', ok + bad === 0 ? 0 : ok / (ok + bad), ok + bad === 0 ? 'no tests ran' : `${ok} of ${ok + bad} test results passed across targets`)

  if (!input.dependencies) part('dependency_compatibility', null, 'dependency tree unknown')
  else {
    const { total, incompatible } = input.dependencies
    part(
      'dependency_compatibility',
      total === 0 ? 1 : 1 - incompatible.length / total,
      total === 0 ? 'no dependencies' : `${total - incompatible.length} of ${total} dependencies wasm-compatible${incompatible.length ? ` (not: ${incompatible.join(', ')})` : ''}`,
    )
  }

  if (!input.manifest) part('metadata_completeness', null, 'an artifact carries no package manifest')
  else {
    const m = input.manifest
    const fields: [string, boolean][] = [
      ['description', !!m.description],
      ['license', !!(m.license || m.licenseFile)],
      ['repository', !!m.repository],
      ['readme', !!m.readme],
      ['keywords or categories', m.keywords.length + m.categories.length > 0],
      ['documentation or homepage', !!(m.documentation || m.homepage)],
    ]
    const present = fields.filter(([, has]) => has)
    const missing = fields.filter(([, has]) => !has).map(([name]) => name)
    part('metadata_completeness', present.length / fields.length, missing.length ? `missing: ${missing.join(', ')}` : 'all of description, license, repository, readme, keywords, documentation')
  }

  const signature = { none: 0, signed: 0.7, provenance: 1 }[input.signature]
  part('signature_level', signature, input.signature === 'none' ? 'unsigned (the registry sets the level when it signs the record)' : input.signature === 'signed' ? 'signed record' : 'signed record with build provenance')

  const sizes = input.targets.map((t) => t.metrics.size).filter((s) => s !== null && s.kind !== 'test')
  if (sizes.length === 0) part('size', null, 'no wasm artifact to measure (a library builds no .wasm of its own)')
  else {
    const gzip = Math.min(...sizes.map((s) => s!.gzip))
    const value = gzip <= SIZE_FULL ? 1 : gzip >= SIZE_ZERO ? 0 : 1 - Math.log(gzip / SIZE_FULL) / Math.log(SIZE_ZERO / SIZE_FULL)
    part('size', value, `${Math.round(gzip / 1024)} KiB gzipped, stripped`)
  }

  const applicable = parts.filter((p) => p.value !== null)
  const weight = applicable.reduce((n, p) => n + p.weight, 0)
  const total = weight === 0 ? 0 : Math.round((100 * applicable.reduce((n, p) => n + p.weight * p.value!, 0)) / weight)
  return { total, breakdown: parts }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
