/**
 * What the matrix runs for a submission: one leg per added version and
 * target. Components and other prebuilt artifacts are one leg (their bytes
 * decide their target); crates run every target the registry requires and
 * the record names, or all four when neither says.
 */
import { WharfError } from '../core/errors.js'
import { reportDir } from '../core/layout.js'
import { checkName, checkNamespace } from '../core/names.js'
import { checkVersion } from '../core/versions.js'
import type { PackageKind, Policy, VersionRecord } from '../core/types.js'
import { readJsonAt, type Change, type Repo } from '../git/index.js'
import { TARGETS, type TargetName } from '../matrix/index.js'
import { classifyPath } from '../core/layout.js'

/** GitHub runs at most 256 jobs from one matrix. */
export const MAX_LEGS = 256

export interface Leg {
  /** Unique in the submission and safe in an artifact name: `ns.name.version.target`. */
  key: string
  /** `namespace:name@version`. */
  package: string
  id: string
  version: string
  kind: PackageKind
  target: TargetName
  /** sha256 of the artifact the leg tests, as the record says. */
  sha256: string
}

/** A package reference `namespace:name@version`, checked. */
export function parsePackageRef(ref: string): { id: string; version: string } {
  const at = ref.lastIndexOf('@')
  const colon = ref.indexOf(':')
  const id = at > 0 ? ref.slice(0, at) : ''
  const version = at > 0 ? ref.slice(at + 1) : ''
  const problem = colon <= 0 || !id ? 'it is not namespace:name@version' : (checkNamespace(id.slice(0, colon)) ?? checkName(id.slice(colon + 1)) ?? checkVersion(version))
  if (problem) throw new WharfError('INVALID_INPUT', `package "${ref}": ${problem}`, { hint: 'name a version as namespace:name@version, e.g. acme:hello@1.0.0' })
  return { id, version }
}

/** Where a leg's report lies in its report artifact: index/reports/<ns>/<name...>/<version>/<target>.json (the index gets one combined report per version, versionReportPath). */
export function legReportPath(leg: Pick<Leg, 'id' | 'version' | 'target'>): string {
  return `${reportDir(leg.id, leg.version)}/${leg.target}.json`
}

/** The artifact name a leg's report is uploaded under. */
export function legArtifactName(leg: Pick<Leg, 'key'>): string {
  return `wharf-report-${leg.key}`
}

/** Targets a version's matrix runs. */
export function legTargets(record: Pick<VersionRecord, 'kind' | 'targets'>, policy: Policy): TargetName[] {
  const named = record.targets.filter((t): t is TargetName => (TARGETS as readonly string[]).includes(t))
  if (record.kind !== 'crate') return [named[0] ?? 'wasm32-wasip2']
  const required = (policy.quality_gates?.required_targets ?? []) as TargetName[]
  const wanted = new Set<TargetName>([...required, ...named])
  return wanted.size === 0 ? [...TARGETS] : TARGETS.filter((t) => wanted.has(t))
}

/** The legs for every version record the change set adds (read at `head`). */
export async function planLegs(repo: Repo, head: string, changes: readonly Change[], policy: Policy): Promise<Leg[]> {
  const legs: Leg[] = []
  for (const change of changes) {
    const where = classifyPath(change.path)
    if (change.status !== 'added' || where.kind !== 'record') continue
    const record = await readJsonAt<VersionRecord>(repo, head, change.path)
    if (!record) continue
    const artifact = record.artifacts[0]
    if (!artifact) continue
    for (const target of legTargets(record, policy)) {
      legs.push({
        key: `${where.name.replace(':', '.').replaceAll('/', '.')}.${where.version}.${target}`,
        package: `${where.name}@${where.version}`,
        id: where.name,
        version: where.version,
        kind: record.kind,
        target,
        sha256: artifact.sha256,
      })
    }
  }
  if (legs.length > MAX_LEGS) {
    throw new WharfError('REJECTED', `the submission needs ${legs.length} matrix jobs, more than the ${MAX_LEGS} GitHub runs from one workflow`, {
      hint: 'split it into smaller pull requests',
    })
  }
  return legs
}
