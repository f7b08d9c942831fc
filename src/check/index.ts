/**
 * `wharf check`: every rule of DESIGN §4 over the difference of two commits
 * of an index repo. Problems in the submission are findings (data); only a
 * repo that cannot be read throws.
 */
import { WharfError } from '../core/errors.js'
import { classifyPath, namespacePath, REGISTRY_PATH } from '../core/layout.js'
import { schemaErrors } from '../core/schemas.js'
import { requireSubmitter, type Submitter } from '../core/submitter.js'
import { isOwner, ownerTeams, type NamespaceFile, type RegistryFile } from '../core/types.js'
import {
  malformedTrees,
  ObjectReader,
  planSquash,
  readCommitInfo,
  readJsonAt,
  resolveCommit,
  squashBase,
  type Change,
  type MalformedTree,
  type Repo,
} from '../git/index.js'
import { checkArtifacts } from './rules/artifacts.js'
import { checkContent } from './rules/content.js'
import { checkFederation } from './rules/federation.js'
import { checkFiles } from './rules/files.js'
import { checkNamespaceClaims } from './rules/namespaces.js'
import { checkRecords } from './rules/records.js'
import { RULES, type CheckContext, type Fetch, type Finding, type Subject, type TeamResolver } from './types.js'

export { RULES, type Fetch, type Finding, type RuleId, type TeamResolver } from './types.js'
export { formatMarkdown, formatText } from './report.js'
export { urlProblem, fetchLimited, addressProblem, guardedFetch } from './fetch.js'
export { artifactFormatProblem } from './rules/artifacts.js'
export { delegatedTo } from './rules/federation.js'

export interface CheckOptions {
  repo: Repo
  /** Commit or ref the submission is compared against (what main holds). */
  base: string
  /** Commit or ref of the submission. */
  head: string
  /**
   * Who submits: `--author`, the pull-request event's author or the server's
   * token holder. Never read from a commit, whose author name anyone sets.
   */
  author: Submitter
  /** Confirms `@org/team` owners (GitHub's team membership API); without it a team owner cannot be confirmed. */
  isTeamMember?: TeamResolver
  /**
   * Counts the author as an owner through a team `isTeamMember` may not read,
   * and names that team in `deferredTeams`: for a first judgement that holds
   * no token which may read teams (validate), when a later one that does
   * (merge) judges again before anything lands.
   */
  deferUnreadableTeams?: boolean
  /** When the submission was made (a pull request's creation time); default the head commit's author time, which the submitter sets. */
  submittedAt?: Date
  /** By default check fetches artifacts itself, to public addresses only (fetch.ts). */
  fetch?: Fetch
  now?: Date
}

export interface CheckResult {
  accepted: boolean
  base: string
  head: string
  /** Where the submission branched off base: its changes are counted from here, and land on base as one commit. */
  mergeBase: string | undefined
  author: Submitter
  /** Teams through which the author was found to be an owner (recorded in the commit that lands). */
  teams: string[]
  /** Teams the author was counted an owner through without confirmation (deferUnreadableTeams): a later judgement must confirm them. */
  deferredTeams: string[]
  /** What would land on base. */
  changes: Change[]
  findings: Finding[]
}

export async function readRegistry(repo: Repo, commit: string): Promise<RegistryFile> {
  const registry = await readJsonAt<RegistryFile>(repo, commit, REGISTRY_PATH)
  if (!registry) {
    throw new WharfError('NOT_AN_INDEX', `${repo.dir} has no ${REGISTRY_PATH} at ${commit.slice(0, 12)}`, {
      hint: 'point --index at an index repo made by `wharf init`',
    })
  }
  const problems = schemaErrors('registry', registry)
  if (problems.length > 0) {
    throw new WharfError('NOT_AN_INDEX', `${REGISTRY_PATH} at ${commit.slice(0, 12)} is invalid: ${problems.join('; ')}`, {
      hint: 'a maintainer must repair index/registry.json',
    })
  }
  return registry
}

/**
 * Judges what `head` would land on `base`: its own changes since it branched
 * off, applied to base as one commit (merge squashes). Every tree the
 * submission brings in is checked for well-formedness first, over its raw
 * bytes; a malformed tree ends the check, since no path under it means one
 * thing to every reader.
 */
export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const { repo } = options
  const author = requireSubmitter(options.author, 'check')
  const base = await resolveCommit(repo, options.base)
  const head = await resolveCommit(repo, options.head)
  const registry = await readRegistry(repo, base)
  const from = await squashBase(repo, base, head)
  const findings: Finding[] = []
  const teams = new Set<string>()
  const deferred = new Set<string>()
  const result = (changes: Change[]): CheckResult => ({ accepted: findings.length === 0, base, head, mergeBase: from, author, teams: [...teams].sort(), deferredTeams: [...deferred].sort(), changes, findings })

  const malformed = await malformedIn(repo, head, from)
  for (const { path, problem } of malformed) {
    findings.push({
      rule: RULES.malformedTree,
      file: path || '.',
      message: `the tree ${path ? `of ${path}/` : 'at the root'} is malformed: ${problem.message}`,
      hint: 'git fsck refuses this tree; commit the files with git itself (git add, git commit) rather than writing tree objects by hand',
    })
  }
  if (malformed.length > 0) return result([])

  const plan = await planSquash(repo, base, head, from)
  const namespaces = new Map<string, Promise<NamespaceFile | undefined>>()
  const memberships = new Map<string, Promise<boolean | undefined>>()
  const subjects: Subject[] = plan.changes.map((change) => ({ change, where: classifyPath(change.path) }))
  const conflicts = new Set(plan.conflicts)
  for (const subject of subjects) {
    if (!conflicts.has(subject.change.path)) continue
    subject.skip = true
    findings.push({
      rule: RULES.conflict,
      file: subject.change.path,
      message: `${subject.change.path} was changed both by the submission and on ${options.base} since the submission branched off`,
      hint: `make the submission again on the current ${options.base}`,
    })
  }
  const ctx: CheckContext = {
    repo,
    base,
    head,
    author,
    registry,
    subjects,
    fetch: options.fetch,
    now: options.now ?? new Date(),
    async submittedAt() {
      return options.submittedAt ?? new Date((await readCommitInfo(repo, head)).author.timestamp * 1000)
    },
    async owns(owners) {
      if (isOwner(owners, author)) return true
      if (!options.isTeamMember) return false
      const unreadable: string[] = []
      for (const team of ownerTeams(owners)) {
        let member = memberships.get(team)
        if (!member) memberships.set(team, (member = options.isTeamMember(team, author.login)))
        const answer = await member
        if (answer) {
          teams.add(team)
          return true
        }
        if (answer === undefined) unreadable.push(team)
      }
      if (!options.deferUnreadableTeams || unreadable.length === 0) return false
      for (const team of unreadable) deferred.add(team)
      return true
    },
    ownersHint(owners) {
      const names = owners.map((o) => ('login' in o ? o.login : o.team)).join(', ') || 'none'
      const unconfirmed = options.isTeamMember ? [] : ownerTeams(owners)
      return unconfirmed.length ? `${names}; team membership (${unconfirmed.join(', ')}) cannot be confirmed here: it needs GitHub's API` : names
    },
    namespaceAtBase(ns) {
      let pending = namespaces.get(ns)
      if (!pending) namespaces.set(ns, (pending = readJsonAt<NamespaceFile>(repo, base, namespacePath(ns))))
      return pending
    },
    report: (finding) => findings.push(finding),
  }
  // Order matters: each family marks the files it refused, and later families skip them.
  await checkFiles(ctx)
  await checkContent(ctx)
  await checkFederation(ctx)
  await checkNamespaceClaims(ctx)
  await checkRecords(ctx)
  await checkArtifacts(ctx)
  return result(plan.changes)
}

/** The malformed trees `head` brings in over `from`, read over their raw bytes. */
async function malformedIn(repo: Repo, head: string, from: string | undefined): Promise<MalformedTree[]> {
  const reader = new ObjectReader(repo.dir)
  try {
    return malformedTrees(reader, (await readCommitInfo(repo, head)).tree, from ? (await readCommitInfo(repo, from)).tree : undefined)
  } finally {
    reader.close()
  }
}
