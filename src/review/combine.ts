/**
 * One report per version from the per-target reports of the matrix legs (one
 * validate job per target). Each target's entry comes from the leg that ran
 * it; the verdicts that only need the targets are recomputed over all of
 * them; what only one leg can measure (the speed ratio, which needs native and
 * wasm32-wasip1 on one machine) comes from the leg that measured it.
 */
import { dualCompilation, gcReadiness, qualityScore, SCORE_WEIGHTS, TARGETS, type GcRung, type Report, type ScorePart, type TargetName } from '../matrix/index.js'

export interface LegReport {
  /** The target this leg was asked to run. */
  target: TargetName
  report: Report
}

const RUNG_RANK = (met: boolean | null) => (met === true ? 2 : met === null ? 1 : 0)

/** The per-target reports of one version as one report. Every leg must hold its own target. */
export function combineReports(legs: readonly LegReport[]): Report {
  if (legs.length === 0) throw new Error('combineReports: no reports to combine')
  if (legs.length === 1) return legs[0]!.report
  const first = legs[0]!.report
  const targets = TARGETS.flatMap((name) => {
    const leg = legs.find((l) => l.target === name)
    const entry = leg?.report.targets.find((t) => t.target === name)
    return entry ? [entry] : []
  })
  const measured = legs.map((l) => l.report.verdicts.speed_ratio).find((r) => r.value !== null)
  const ladder = [0, 1, 2, 3].map((i) => {
    const rungs = legs.map((l) => l.report.verdicts.gc_readiness.ladder[i]!)
    return rungs.reduce((best, r) => (RUNG_RANK(r.met) > RUNG_RANK(best.met) ? r : best))
  }) as [GcRung, GcRung, GcRung, GcRung]
  const rung = (i: number) => ({ met: ladder[i]!.met, evidence: ladder[i]!.evidence })
  const hosts = [...new Set(legs.map((l) => l.report.host))]
  return {
    schema: 'wharf:report/v1',
    subject: first.subject,
    host: hosts.join(', '),
    generated_at: legs.map((l) => l.report.generated_at).sort().at(-1)!,
    wharf: first.wharf,
    targets,
    verdicts: {
      dual_compilation: dualCompilation(targets),
      speed_ratio: measured ?? first.verdicts.speed_ratio,
      gc_readiness: gcReadiness({ g1: rung(0), g2: rung(1), g3: rung(2), g4: rung(3) }),
    },
    score: combinedScore(legs, targets),
  }
}

/**
 * Build coverage, test pass rate and size are recomputed over every target;
 * the parts a leg judged from the crate itself (dependencies, metadata,
 * signature) keep the worst value any leg gave them.
 */
function combinedScore(legs: readonly LegReport[], targets: Report['targets']): Report['score'] {
  const recomputed = qualityScore({ targets, dependencies: null, manifest: null, signature: 'none' }).breakdown
  const fromTargets = new Set<ScorePart['name']>(['build_coverage', 'test_pass_rate', 'size'])
  const parts: ScorePart[] = (Object.keys(SCORE_WEIGHTS) as ScorePart['name'][]).map((name) => {
    const own = recomputed.find((p) => p.name === name)!
    const given = legs.map((l) => l.report.score.breakdown.find((p) => p.name === name)).filter((p): p is ScorePart => p !== undefined && p.value !== null)
    if (fromTargets.has(name) && (own.value !== null || given.length === 0)) return own
    if (given.length === 0) return own
    return given.reduce((worst, p) => (p.value! < worst.value! ? p : worst))
  })
  const applicable = parts.filter((p) => p.value !== null)
  const weight = applicable.reduce((n, p) => n + p.weight, 0)
  const total = weight === 0 ? 0 : Math.round((100 * applicable.reduce((n, p) => n + p.weight * p.value!, 0)) / weight)
  return { total, breakdown: parts }
}
