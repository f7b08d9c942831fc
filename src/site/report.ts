/**
 * A compatibility report (`wharf test`'s JSON, schemas/report.schema.json)
 * read for a page. Reports come from the registry's own CI, but what they
 * quote (compiler errors, test names, panics) comes from the crate: every
 * field is read defensively, clipped, and later escaped like any other text.
 */
import type { Blob } from '../api/index.js'
import { clip } from './html.js'

export interface TargetView {
  target: string
  status: string
  build: string
  test: string
  passed?: number
  failed?: number
  ignored?: number
  firstFailure?: string
  wallMs?: number
  size?: { raw: number; gzip?: number; stripped?: number }
  runtime?: string
  toolchain?: string
  features: string[]
  peakPages?: number
  peakRssKb?: number
  blame: BlameView[]
  reason?: string
}

export interface BlameView {
  crate: string
  version?: string
  path: string[]
  error: string
  hint?: string
  stage: string
}

export interface ScorePartView {
  name: string
  weight?: number
  value?: number
  points?: number
  detail: string
}

export interface MatrixView {
  /** The report file, for a link to the raw JSON. */
  path: string
  generatedAt?: string
  host?: string
  targets: TargetView[]
  dual?: { value: boolean; reason: string }
  speed?: { value: number; basis: string; target?: string }
  gc?: { level: string; ladder: { level: string; met: boolean | null; evidence: string }[] }
  score?: { total: number; breakdown: ScorePartView[] }
  /** The WIT world of the component a target built (jco's text). */
  wit?: string
}

const TEXT_MAX = 400
const WIT_MAX = 20_000

type Json = Record<string, unknown>
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const str = (v: unknown, max = TEXT_MAX): string | undefined => (typeof v === 'string' ? clip(v, max) : undefined)
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const count = (v: unknown): number | undefined => (Number.isInteger(v) && (v as number) >= 0 ? (v as number) : undefined)

function parseJson(blob: Blob): Json | undefined {
  try {
    return obj(JSON.parse(blob.bytes.toString('utf8')))
  } catch {
    return undefined
  }
}

function target(raw: Json): TargetView {
  const build = obj(raw.build) ?? {}
  const test = obj(raw.test) ?? {}
  const metrics = obj(raw.metrics) ?? {}
  const size = obj(metrics.size)
  const wasm = obj(metrics.wasm)
  const runtime = obj(raw.runtime)
  const toolchain = obj(raw.toolchain)
  return {
    target: str(raw.target, 64) ?? '?',
    status: str(raw.status, 32) ?? 'unknown',
    build: str(build.status, 32) ?? 'unknown',
    test: str(test.status, 32) ?? 'unknown',
    passed: count(test.passed),
    failed: count(test.failed),
    ignored: count(test.ignored),
    firstFailure: str(test.first_failure),
    wallMs: num(obj(metrics.wall_ms)?.total),
    size: count(size?.raw) !== undefined ? { raw: count(size!.raw)!, gzip: count(size!.gzip), stripped: count(size!.stripped) } : undefined,
    runtime: runtime ? [str(runtime.name, 32), str(runtime.version, 64)].filter(Boolean).join(' ') : undefined,
    toolchain: str(toolchain?.rustc, 120),
    features: arr(wasm?.features).flatMap((f) => (typeof f === 'string' ? [clip(f, 32)] : [])).slice(0, 20),
    peakPages: count(obj(wasm?.memory)?.peak_pages),
    peakRssKb: count(obj(metrics.native)?.peak_rss_kb),
    blame: arr(raw.blame)
      .map(obj)
      .filter((b): b is Json => b !== undefined)
      .slice(0, 10)
      .map((b) => ({
        crate: str(b.crate, 120) ?? '?',
        version: str(b.version, 64),
        path: arr(b.path).flatMap((p) => (typeof p === 'string' ? [clip(p, 120)] : [])).slice(0, 12),
        error: str(b.error) ?? '',
        hint: str(b.hint),
        stage: str(b.stage, 16) ?? 'build',
      })),
    reason: str(build.reason) ?? str(test.reason),
  }
}

/** The matrix of a version: its first `wharf:report/v1` report, or undefined when it has none. */
export function readMatrix(reports: readonly Blob[]): MatrixView | undefined {
  for (const blob of reports) {
    if (!blob.path.endsWith('.json')) continue
    const report = parseJson(blob)
    if (report?.schema !== 'wharf:report/v1') continue
    const verdicts = obj(report.verdicts) ?? {}
    const dual = obj(verdicts.dual_compilation)
    const speed = obj(verdicts.speed_ratio)
    const gc = obj(verdicts.gc_readiness)
    const score = obj(report.score)
    const targets = arr(report.targets)
      .map(obj)
      .filter((t): t is Json => t !== undefined)
      .slice(0, 16)
      .map(target)
    const wit = arr(report.targets)
      .map((t) => str(obj(obj(obj(t)?.metrics)?.component)?.wit, WIT_MAX))
      .find((w) => w)
    const total = count(score?.total)
    return {
      path: blob.path,
      generatedAt: str(report.generated_at, 40),
      host: str(report.host, 120),
      targets,
      dual: typeof dual?.value === 'boolean' ? { value: dual.value, reason: str(dual.reason) ?? '' } : undefined,
      speed: num(speed?.value) !== undefined ? { value: num(speed!.value)!, basis: str(speed!.basis) ?? '', target: str(speed!.wasm_target, 64) } : undefined,
      gc: str(gc?.level, 8)
        ? {
            level: str(gc!.level, 8)!,
            ladder: arr(gc!.ladder)
              .map(obj)
              .filter((r): r is Json => r !== undefined)
              .slice(0, 8)
              .map((r) => ({ level: str(r.level, 8) ?? '?', met: typeof r.met === 'boolean' ? r.met : null, evidence: str(r.evidence) ?? '' })),
          }
        : undefined,
      score:
        total !== undefined && total <= 100
          ? {
              total,
              breakdown: arr(score!.breakdown)
                .map(obj)
                .filter((p): p is Json => p !== undefined)
                .slice(0, 12)
                .map((p) => ({ name: str(p.name, 64) ?? '?', weight: num(p.weight), value: num(p.value), points: num(p.points), detail: str(p.detail) ?? '' })),
            }
          : undefined,
      wit,
    }
  }
  return undefined
}

/** The status the matrix gives a target, for a badge: its own status, or undefined when the target was not in the run. */
export function targetStatus(matrix: MatrixView | undefined, name: string): string | undefined {
  return matrix?.targets.find((t) => t.target === name)?.status
}
