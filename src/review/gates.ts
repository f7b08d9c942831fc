/**
 * The registry's quality gates (`policy.quality_gates`) over a compatibility
 * report: pure, so every gate is a table test. Each gate says what it asks,
 * what the report measured, whether that holds, and whether a maintainer's
 * label waived it (Julia's override labels).
 *
 * The report is what the pull request's own validate run measured, and that
 * run executes the submitter's code: gates are the registry's quality bar for
 * honest submissions, not a security boundary (check, re-run by merge with the
 * registry's own code, is that).
 */
import type { QualityGateId, QualityGates } from '../core/types.js'
import type { Report, TargetReport } from '../matrix/index.js'

export interface GateResult {
  gate: QualityGateId
  /** What the registry asks, in words: "at most 2.5x native". */
  requirement: string
  /** What the report measured: "3.1x (median of 5 runs)". */
  measured: string
  met: boolean
  /** Unmet, but a maintainer's label waived it. */
  waived: boolean
  /** The label that waives this gate. */
  waiverLabel: string
}

/** The order gates are evaluated and shown in. */
export const GATE_IDS: readonly QualityGateId[] = ['required_targets', 'require_dual_compilation', 'min_score', 'max_artifact_bytes', 'max_speed_ratio']

/** The label that waives `gate` under this policy. */
export function waiverLabel(gates: QualityGates, gate: QualityGateId): string {
  return gates.waiver_labels?.[gate] ?? `wharf: waive ${gate.replaceAll('_', '-')}`
}

/** Built and passed its tests (or had none to run, as an artifact). */
export function targetPassed(t: TargetReport | undefined): boolean {
  return !!t && t.status === 'pass' && t.build.status === 'pass' && (t.test.status === 'pass' || t.test.status === 'not-run')
}

function describeTarget(t: TargetReport | undefined): string {
  if (!t) return 'not tested'
  if (targetPassed(t)) return 'pass'
  if (t.status === 'unavailable') return `unavailable${t.build.reason ? ` (${t.build.reason})` : ''}`
  if (t.build.status !== 'pass') return `build ${t.build.status}`
  const failed = t.test.failed ?? 0
  return `tests ${t.test.status}${failed ? ` (${failed} failed)` : ''}`
}

/** The largest wasm module or component the report measured, in bytes (test binaries are not artifacts). */
export function artifactBytes(report: Report): number | undefined {
  const sizes = report.targets.map((t) => t.metrics.size).filter((s) => s !== null && s.kind !== 'test').map((s) => s!.raw)
  return sizes.length === 0 ? undefined : Math.max(...sizes)
}

/**
 * Every gate the policy sets, evaluated against the report. `labels` are the
 * pull request's labels; a gate whose waiver label is among them is waived.
 * A measure the report cannot have (no wasm artifact to size, no speed ratio
 * for an artifact without tests) does not apply and is met, and says why.
 */
export function evaluateGates(report: Report, gates: QualityGates, labels: readonly string[]): GateResult[] {
  const has = new Set(labels.map((l) => l.toLowerCase()))
  const results: GateResult[] = []
  const add = (gate: QualityGateId, requirement: string, measured: string, met: boolean) => {
    const label = waiverLabel(gates, gate)
    results.push({ gate, requirement, measured, met, waived: !met && has.has(label.toLowerCase()), waiverLabel: label })
  }
  for (const gate of GATE_IDS) {
    switch (gate) {
      case 'required_targets': {
        const required = gates.required_targets ?? []
        if (required.length === 0) break
        const states = required.map((name) => ({ name, target: report.targets.find((t) => t.target === name) }))
        add(gate, `${required.join(', ')} must build and pass`, states.map((s) => `${s.name}: ${describeTarget(s.target)}`).join('; '), states.every((s) => targetPassed(s.target)))
        break
      }
      case 'require_dual_compilation': {
        if (!gates.require_dual_compilation) break
        const dual = report.verdicts.dual_compilation
        add(gate, 'native and a WASI target both build and pass', dual.reason, dual.value)
        break
      }
      case 'min_score': {
        if (gates.min_score === undefined) break
        add(gate, `score at least ${gates.min_score}`, `score ${report.score.total}`, report.score.total >= gates.min_score)
        break
      }
      case 'max_artifact_bytes': {
        if (gates.max_artifact_bytes === undefined) break
        const bytes = artifactBytes(report)
        add(gate, `artifact at most ${gates.max_artifact_bytes} bytes`, bytes === undefined ? 'no wasm artifact to measure' : `${bytes} bytes`, bytes === undefined || bytes <= gates.max_artifact_bytes)
        break
      }
      case 'max_speed_ratio': {
        if (gates.max_speed_ratio === undefined) break
        const ratio = report.verdicts.speed_ratio
        const measured = ratio.value === null ? `not measured: ${ratio.basis}` : `${ratio.value}x native (${ratio.wasm_target}, median of ${ratio.runs} runs)`
        add(gate, `wasm at most ${gates.max_speed_ratio}x native time`, measured, ratio.value === null || ratio.value <= gates.max_speed_ratio)
        break
      }
    }
  }
  return results
}

/** Gates that stop a merge: unmet and not waived. */
export function blockingGates(results: readonly GateResult[]): GateResult[] {
  return results.filter((r) => !r.met && !r.waived)
}
