/**
 * The matrix reports of a validate run, read as the untrusted data they are
 * (see artifact.ts): merge reads them to hold a pull request to the quality
 * gates, and release reads them again, after the merge, to commit one report
 * per version under index/reports/. Release finds the run from the push: each
 * commit that added versions names the pull request it merged, which GitHub
 * must confirm (merged, with that very commit as its merge commit); the run is
 * then the newest successful validate run of that pull request's head.
 */
import { readRegistry } from '../check/index.js'
import { stableJson } from '../core/canonical.js'
import { WharfError } from '../core/errors.js'
import { classifyPath, reportDir } from '../core/layout.js'
import { schemaErrors } from '../core/schemas.js'
import { diffCommits, readCommitInfo, type Repo } from '../git/index.js'
import { GitHubErrorCode, type GitHub, type RepoRef, type WorkflowRun } from '../github/index.js'
import { readLegReport, REPORT_LIMITS } from './artifact.js'
import { combineReports, type LegReport } from './combine.js'
import { legArtifactName, planLegs, type Leg } from './plan.js'

export interface RunReports {
  /** Each version's leg reports (by `namespace:name@version`), when every leg's was read. */
  byPackage: Map<string, LegReport[]>
  /** Why a leg's report is missing or refused, one sentence each. */
  problems: string[]
}

/** Every leg's report from the run's artifacts: bounded in size, unzipped with care, schema-checked, about the leg's version and target. */
export async function readRunReports(github: GitHub, repo: RepoRef, runId: number, legs: readonly Leg[]): Promise<RunReports> {
  const byPackage = new Map<string, LegReport[]>()
  const problems: string[] = []
  if (legs.length === 0) return { byPackage, problems }
  const artifacts = await github.runs.listArtifacts(repo, runId)
  for (const leg of legs) {
    const found = artifacts.filter((a) => a.name === legArtifactName(leg) && !a.expired)
    if (found.length !== 1) {
      problems.push(`validate run ${runId} has ${found.length === 0 ? 'no' : found.length} report artifact(s) named ${legArtifactName(leg)}`)
      continue
    }
    const artifact = found[0]!
    if (artifact.sizeInBytes > REPORT_LIMITS.artifactBytes) {
      problems.push(`report artifact ${artifact.name} is ${artifact.sizeInBytes} bytes, over the ${REPORT_LIMITS.artifactBytes}-byte limit`)
      continue
    }
    let zip: Buffer
    try {
      zip = await github.runs.downloadArtifact(repo, artifact.id, { maxBytes: REPORT_LIMITS.artifactBytes, timeoutMs: 60_000 })
    } catch (e) {
      if (e instanceof WharfError && e.code === GitHubErrorCode.TooLarge) {
        problems.push(`report artifact ${artifact.name} is over the ${REPORT_LIMITS.artifactBytes}-byte limit`)
        continue
      }
      throw e
    }
    const read = readLegReport(zip, leg)
    if (!read.ok) {
      problems.push(`report artifact ${artifact.name} is refused: ${read.problem}`)
      continue
    }
    const list = byPackage.get(leg.package) ?? []
    list.push({ target: leg.target, report: read.report })
    byPackage.set(leg.package, list)
  }
  return { byPackage, problems }
}

/** The file name of a version's combined report in its directory under index/reports/. */
export const VERSION_REPORT_FILE = 'report.json'

/** Where a version's combined report is committed: index/reports/<ns>/<name...>/<version>/report.json. */
export function versionReportPath(id: string, version: string): string {
  return `${reportDir(id, version)}/${VERSION_REPORT_FILE}`
}

export interface ValidatedReport {
  /** `namespace:name@version`. */
  package: string
  path: string
  /** The combined report, canonical JSON. */
  content: string
  pullRequest: number
  runId: number
}

export interface ValidatedReports {
  reports: ValidatedReport[]
  /** Versions the push added that get no report, and why. */
  skipped: { package: string; reason: string }[]
}

export interface ValidatedReportsOptions {
  github: GitHub
  /** The index repo on GitHub. */
  index: RepoRef
  /** A clone holding the push's commits. */
  repo: Repo
  /** The push's `before` (undefined: the push made the branch). */
  before: string | undefined
  after: string
  /** The validate workflow's path, `.github/workflows/validate.yml`. */
  workflowPath: string
}

/** A push never walks further than this many commits back looking for the versions it added. */
const MAX_PUSH_COMMITS = 100

/** The pull request a merge commit's message names: a squash's `Title (#N)` or a merge's `Merge pull request #N from ...`. */
export function pullRequestNamed(message: string): number | undefined {
  const first = message.split('\n', 1)[0]!.trim()
  const m = /\(#(\d{1,9})\)$/.exec(first) ?? /^Merge pull request #(\d{1,9}) /.exec(first)
  return m ? Number(m[1]) : undefined
}

/**
 * One combined report per version the push `before..after` added, from the
 * validate run of the pull request that added it; versions without one (a
 * direct push, an expired or refused artifact) are listed with the reason.
 */
export async function validatedReports(options: ValidatedReportsOptions): Promise<ValidatedReports> {
  const { github, index, repo } = options
  const reports: ValidatedReport[] = []
  const skipped: ValidatedReports['skipped'] = []
  let commit: string | undefined = options.after
  for (let walked = 0; commit && commit !== options.before; walked++) {
    if (walked >= MAX_PUSH_COMMITS) {
      skipped.push({ package: '*', reason: `the push holds more than ${MAX_PUSH_COMMITS} commits; reports were looked for in the newest ${MAX_PUSH_COMMITS} only` })
      break
    }
    const info = await readCommitInfo(repo, commit)
    const parent = info.parents[0]
    const changes = (await diffCommits(repo, parent, commit)).filter((c) => c.status === 'added' && classifyPath(c.path).kind === 'record')
    if (changes.length > 0) await reportsOfCommit(options, commit, info.message, changes, reports, skipped)
    commit = parent
  }
  return { reports, skipped }
}

async function reportsOfCommit(
  { github, index, repo, workflowPath }: ValidatedReportsOptions,
  commit: string,
  message: string,
  changes: Awaited<ReturnType<typeof diffCommits>>,
  reports: ValidatedReport[],
  skipped: ValidatedReports['skipped'],
): Promise<void> {
  const packages = changes.map((c) => {
    const where = classifyPath(c.path)
    return where.kind === 'record' ? `${where.name}@${where.version}` : c.path
  })
  const skip = (reason: string): void => void skipped.push(...packages.map((p) => ({ package: p, reason })))
  const number = pullRequestNamed(message)
  if (number === undefined) return skip(`commit ${commit.slice(0, 12)} names no pull request (pushed to main directly)`)
  const pr = await github.pulls.get(index, number).catch((e: unknown) => {
    if (e instanceof WharfError && e.code === GitHubErrorCode.NotFound) return undefined
    throw e
  })
  // The message is only a hint: GitHub must say this pull request's merge made this commit.
  if (!pr || !pr.merged || pr.mergeCommitSha !== commit) return skip(`commit ${commit.slice(0, 12)} names #${number}, which GitHub does not record as merged by it`)
  const runs = await github.runs.listForSha(index, pr.head.sha, { event: 'pull_request', workflowPath })
  const run: WorkflowRun | undefined = runs.find((r) => r.status === 'completed' && r.conclusion === 'success')
  if (!run) return skip(`#${number} has no successful ${workflowPath} run of its head ${pr.head.sha.slice(0, 12)}`)
  const registry = await readRegistry(repo, commit)
  const legs = await planLegs(repo, commit, changes, registry.policy)
  const read = await readRunReports(github, index, run.id, legs)
  for (const pkg of packages) {
    const legsOf = legs.filter((l) => l.package === pkg)
    const problems = read.problems.filter((p) => legsOf.some((l) => p.includes(legArtifactName(l))))
    const found = read.byPackage.get(pkg) ?? []
    if (legsOf.length === 0) {
      skipped.push({ package: pkg, reason: 'its record names no artifact to test' })
      continue
    }
    if (problems.length > 0 || found.length !== legsOf.length) {
      skipped.push({ package: pkg, reason: problems.join('; ') || `run ${run.id} holds ${found.length} of its ${legsOf.length} leg reports` })
      continue
    }
    const combined = combineReports(found)
    const invalid = schemaErrors('report', combined)
    if (invalid.length > 0) {
      skipped.push({ package: pkg, reason: `its combined report does not match the report schema: ${invalid.slice(0, 3).join('; ')}` })
      continue
    }
    const { id, version } = legsOf[0]!
    reports.push({ package: pkg, path: versionReportPath(id, version), content: stableJson(combined), pullRequest: number, runId: run.id })
  }
}
