/**
 * A matrix leg's report artifact, read as the untrusted data it is: the
 * validate run that made it executed the submitter's code, so its zip may be
 * a bomb, name other paths, or hold anything at all. It is accepted only as
 * one bounded file at the one path the leg writes, valid UTF-8 JSON that the
 * report schema accepts, about the version and target the leg tested.
 */
import { unzipSync } from 'fflate'
import { schemaErrors } from '../core/schemas.js'
import type { Report } from '../matrix/index.js'
import { legReportPath, type Leg } from './plan.js'

export interface ReportLimits {
  /** The zip as downloaded. */
  artifactBytes: number
  /** The report file, uncompressed. */
  reportBytes: number
  /** Entries in the zip, directories included. */
  entries: number
}

/** A report of a few targets is tens of kilobytes; these leave room for many test binaries and failures. */
export const REPORT_LIMITS: ReportLimits = { artifactBytes: 2 * 1024 * 1024, reportBytes: 4 * 1024 * 1024, entries: 32 }

export type ReadReport = { ok: true; report: Report } | { ok: false; problem: string }

const refuse = (problem: string): ReadReport => ({ ok: false, problem })

/** The leg's report from its artifact's zip, or why it was refused. */
export function readLegReport(zip: Uint8Array, leg: Leg, limits: ReportLimits = REPORT_LIMITS): ReadReport {
  if (zip.length > limits.artifactBytes) return refuse(`the artifact is ${zip.length} bytes, over the ${limits.artifactBytes}-byte limit for a report`)
  const expected = legReportPath(leg)
  const names: string[] = []
  let problem: string | undefined
  let files: Record<string, Uint8Array>
  try {
    files = unzipSync(zip, {
      // Decide from the headers, before anything is inflated.
      filter(entry) {
        names.push(entry.name)
        if (entry.name.endsWith('/')) return false
        if (entry.name !== expected) problem ??= entryProblem(entry.name, expected)
        else if (entry.originalSize > limits.reportBytes) problem ??= `${entry.name} is ${entry.originalSize} bytes uncompressed, over the ${limits.reportBytes}-byte limit`
        else if (entry.compression !== 0 && entry.compression !== 8) problem ??= `${entry.name} uses zip compression method ${entry.compression}, not stored or deflate`
        return problem === undefined
      },
    })
  } catch (e) {
    return refuse(`the artifact is not a readable zip: ${(e as Error).message}`)
  }
  if (names.length > limits.entries) return refuse(`the artifact holds ${names.length} entries; a report artifact holds one file`)
  if (problem) return refuse(problem)
  const dirs = names.filter((n) => n.endsWith('/'))
  const strayDir = dirs.find((d) => !expected.startsWith(d))
  if (strayDir) return refuse(entryProblem(strayDir, expected))
  if (names.filter((n) => n === expected).length > 1) return refuse(`the artifact holds ${expected} more than once`)
  const bytes = files[expected]
  if (!bytes) return refuse(`the artifact holds no ${expected}`)
  if (bytes.length > limits.reportBytes) return refuse(`${expected} inflates past the ${limits.reportBytes}-byte limit`)

  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (e) {
    return refuse(`${expected} is not UTF-8 JSON: ${(e as Error).message}`)
  }
  const invalid = schemaErrors('report', json)
  if (invalid.length > 0) return refuse(`${expected} does not match the report schema: ${invalid.slice(0, 5).join('; ')}${invalid.length > 5 ? ` (and ${invalid.length - 5} more)` : ''}`)
  const report = json as Report
  const mismatch = subjectProblem(report, leg)
  return mismatch ? refuse(`${expected}: ${mismatch}`) : { ok: true, report }
}

function entryProblem(name: string, expected: string): string {
  const shown = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name)
  if (!name.startsWith('index/reports/') || name.split('/').some((p) => p === '..' || p === '.') || name.includes('\\')) {
    return `the artifact names ${shown}, outside index/reports/; a report artifact holds only ${expected}`
  }
  return `the artifact names ${shown}; a report artifact holds only ${expected}`
}

/** The report must be about what the leg tested: the version's artifact, or the crate at this version on this target. */
function subjectProblem(report: Report, leg: Leg): string | undefined {
  if (leg.kind === 'crate') {
    if (report.subject.kind !== 'crate') return `the report is about an ${report.subject.kind}, but ${leg.package} is a crate`
    if (report.subject.version !== leg.version) return `the report is about version ${String(report.subject.version)}, not ${leg.version}`
    if (!report.targets.some((t) => t.target === leg.target)) return `the report has no result for ${leg.target}`
    return undefined
  }
  if (report.subject.kind !== 'artifact') return `the report is about a ${report.subject.kind}, but ${leg.package} is a prebuilt artifact`
  if (report.subject.sha256 !== leg.sha256) return `the report is about sha256 ${String(report.subject.sha256)}, not the record's artifact ${leg.sha256}`
  if (report.targets.length !== 1) return `an artifact's report has one target, not ${report.targets.length}`
  return undefined
}
