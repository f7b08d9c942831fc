/**
 * Judging a pull request with the registry's rules: the change it would
 * land (its test merge against the base branch, `refs/pull/N/merge`) checked
 * as submitted by its author, known by login and numeric id.
 */
import { RULES, runCheck, type Finding, type TeamResolver } from '../check/index.js'
import { WharfError } from '../core/errors.js'
import { classifyPath } from '../core/layout.js'
import type { Submitter } from '../core/submitter.js'
import { fetchRef, readCommitInfo, type Change, type Repo } from '../git/index.js'
import { GitHubErrorCode, type GitHub } from '../github/index.js'

export interface Judgement {
  accepted: boolean
  /** The base branch's tip the test merge was made on. */
  base: string
  /** The test merge commit. */
  merge: string
  author: Submitter
  changes: Change[]
  /** What fails the submission. */
  findings: Finding[]
  /** A new namespace's waiting period: not a failure, a time after which it may merge. */
  waiting: Finding[]
  /** `@org/team` owners whose membership could not be read with the token given. */
  unconfirmedTeams: string[]
  /** Of those, the teams the author was counted an owner through, for merge to confirm (JudgeOptions.deferTeams). */
  deferredTeams: string[]
  /** The owning teams the author was found to belong to: the merge commit records them (Wharf-Submitter-Team), as audit reads them. */
  teams: string[]
  /** `namespace:name@version` of each version the pull request adds. */
  packages: string[]
}

/** Team membership through GitHub; a team the token may not read is recorded as unconfirmed, and its answer is undefined. */
export function teamResolver(github: GitHub, unconfirmed: Set<string>): TeamResolver {
  return async (team, login) => {
    const m = /^@([^/]+)\/(.+)$/.exec(team)
    if (!m) return false
    try {
      return await github.users.isTeamMember(m[1]!, m[2]!, login)
    } catch (e) {
      if (e instanceof WharfError && (e.code === GitHubErrorCode.Forbidden || e.code === GitHubErrorCode.Unauthorized)) {
        unconfirmed.add(team)
        return undefined
      }
      throw e
    }
  }
}

export interface JudgeOptions {
  repo: Repo
  /** Where to fetch the test merge from (`origin`, a checkout's remote). */
  remote: string
  token: string
  number: number
  /** The head sha the pull request is judged at: the test merge must be of this head. */
  headSha: string
  author: Submitter
  submittedAt: Date
  now: Date
  teams: GitHub
  /**
   * Counts the author an owner through a team `teams` may not read, named in
   * `deferredTeams`: validate's judgement, which holds no token that may read
   * teams, leaves them to merge's, which judges again with its team token.
   */
  deferTeams?: boolean
}

export async function judgePullRequest(options: JudgeOptions): Promise<Judgement> {
  const { repo } = options
  const merge = await fetchRef(repo, { remote: options.remote, ref: `refs/pull/${options.number}/merge`, token: options.token, depth: 0 })
  const info = await readCommitInfo(repo, merge)
  if (info.parents.length !== 2 || info.parents[1] !== options.headSha) {
    throw new WharfError('CONFLICT', `pull request #${options.number}'s test merge is not of its head ${options.headSha.slice(0, 12)} (it merges ${info.parents[1]?.slice(0, 12) ?? 'nothing'})`, {
      hint: 'the head moved or GitHub is still computing the merge; the next run judges the new head',
    })
  }
  const base = info.parents[0]!
  const unconfirmed = new Set<string>()
  const result = await runCheck({
    repo,
    base,
    head: merge,
    author: options.author,
    submittedAt: options.submittedAt,
    now: options.now,
    isTeamMember: teamResolver(options.teams, unconfirmed),
    deferUnreadableTeams: options.deferTeams === true,
  })
  const findings = result.findings.filter((f) => f.rule !== RULES.waitingPeriod)
  const waiting = result.findings.filter((f) => f.rule === RULES.waitingPeriod)
  const packages = result.changes.flatMap((c) => {
    const where = classifyPath(c.path)
    return where.kind === 'record' && c.status === 'added' ? [`${where.name}@${where.version}`] : []
  })
  return { accepted: findings.length === 0, base, merge, author: options.author, changes: result.changes, findings, waiting, unconfirmedTeams: [...unconfirmed].sort(), deferredTeams: result.deferredTeams, teams: result.teams, packages }
}
