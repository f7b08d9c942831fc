/** The quality gates over a report, one table row per gate, and a leg's report artifact read as untrusted data. */
import { zipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import type { QualityGates } from '../../src/core/types.js'
import type { Report } from '../../src/matrix/index.js'
import { blockingGates, evaluateGates, readLegReport, type Leg } from '../../src/review/index.js'
import { matrixReport } from '../site/fixture.js'

const report = (speed: number | null = 1.55) => matrixReport({ score: 72, speed }) as Report

describe('evaluateGates', () => {
  const rows: Array<[string, QualityGates, boolean, RegExp]> = [
    ['required targets that passed', { required_targets: ['native', 'wasm32-wasip1'] }, true, /native: pass; wasm32-wasip1: pass/],
    ['a required target that failed', { required_targets: ['wasm32-unknown-unknown'] }, false, /wasm32-unknown-unknown: build fail|tests/],
    ['a component target among the required', { required_targets: ['wasm32-wasip2', 'native'] }, true, /wasm32-wasip2: pass/],
    ['dual compilation', { require_dual_compilation: true }, true, /native and wasm32-wasip1/],
    ['a score at the minimum', { min_score: 72 }, true, /^score 72$/],
    ['a score under the minimum', { min_score: 73 }, false, /^score 72$/],
    ['an artifact under the size limit', { max_artifact_bytes: 201_000 }, true, /^201000 bytes$/],
    ['an artifact over the size limit', { max_artifact_bytes: 200_999 }, false, /^201000 bytes$/],
    ['a speed ratio under the limit', { max_speed_ratio: 2 }, true, /^1\.55x native \(wasm32-wasip1, median of 3 runs\)$/],
    ['a speed ratio over the limit', { max_speed_ratio: 1.5 }, false, /^1\.55x native/],
  ]
  for (const [name, gates, met, measured] of rows) {
    it(name, () => {
      const [result, ...rest] = evaluateGates(report(), gates, [])
      expect(rest).toEqual([])
      expect(result!.met).toBe(met)
      expect(result!.measured).toMatch(measured)
      expect(blockingGates([result!])).toHaveLength(met ? 0 : 1)
    })
  }

  it('treats an unmeasured speed ratio as met, and says why', () => {
    const [result] = evaluateGates(report(null), { max_speed_ratio: 1 }, [])
    expect(result).toMatchObject({ met: true, measured: expect.stringMatching(/^not measured: /) })
  })

  it("waives an unmet gate by its label, the policy's own or the default, case-insensitively", () => {
    const gates: QualityGates = { min_score: 90, max_speed_ratio: 1, waiver_labels: { min_score: 'score-ok' } }
    const results = evaluateGates(report(), gates, ['SCORE-OK', 'wharf: waive max-speed-ratio'])
    expect(results.map((r) => [r.gate, r.met, r.waived, r.waiverLabel])).toEqual([
      ['min_score', false, true, 'score-ok'],
      ['max_speed_ratio', false, true, 'wharf: waive max-speed-ratio'],
    ])
    expect(blockingGates(results)).toEqual([])
    expect(blockingGates(evaluateGates(report(), gates, ['wharf: waive min-score']))).toHaveLength(2)
  })
})

describe('readLegReport', () => {
  const leg: Leg = { key: 'acme.calc.1.2.0.native', package: 'acme:calc@1.2.0', id: 'acme:calc', version: '1.2.0', kind: 'crate', target: 'native', sha256: 'a'.repeat(64) }
  const file = 'index/reports/acme/calc/1.2.0/native.json'
  const zip = (entries: Record<string, string | Uint8Array>) => zipSync(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v])))

  it('accepts the one report at its path, about the version and target the leg ran', () => {
    const read = readLegReport(zip({ [file]: JSON.stringify(report()) }), leg)
    expect(read).toMatchObject({ ok: true, report: { subject: { version: '1.2.0' } } })
  })
  const refused: Array<[string, Uint8Array, RegExp]> = [
    ['a path that climbs out', zip({ [file]: JSON.stringify(report()), '../../etc/passwd': 'x' }), /outside index\/reports\//],
    ['another report path', zip({ 'index/reports/acme/calc/1.2.0/wasm32-wasip1.json': JSON.stringify(report()) }), /holds only index\/reports\/acme\/calc\/1\.2\.0\/native\.json/],
    ['a zip bomb', zip({ [file]: new Uint8Array(8 * 1024 * 1024) }), /over the \d+-byte limit/],
    ['not JSON', zip({ [file]: '{' }), /not UTF-8 JSON/],
    ['JSON the schema refuses', zip({ [file]: JSON.stringify({ ...report(), score: 'high' }) }), /does not match the report schema/],
    ['a report of another version', zip({ [file]: JSON.stringify({ ...report(), subject: { ...report().subject, version: '9.9.9' } }) }), /not 1\.2\.0/],
    ['not a zip', new TextEncoder().encode('PK but not really'), /not a readable zip/],
  ]
  for (const [name, bytes, problem] of refused) {
    it(`refuses ${name}`, () => {
      const read = readLegReport(bytes, leg)
      expect(read.ok).toBe(false)
      expect(read.ok ? '' : read.problem).toMatch(problem)
    })
  }
})
