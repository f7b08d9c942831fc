/**
 * `wharf check`: every rule of DESIGN §4 over the difference of two commits
 * of an index repo. Problems in the submission are findings (data); only a
 * repo that cannot be read throws.
 */
import { WharfError } from '../core/errors.js'
import { classifyPath, namespacePath, REGISTRY_PATH } from '../core/layout.js'
import { schemaErrors } from '../core/schemas.js'
import type { NamespaceFile, RegistryFile } from '../core/types.js'
import { diffCommits, readCommitInfo, readJsonAt, resolveCommit, type Change, type Repo } from '../git/index.js'
import { checkArtifacts } from './rules/artifacts.js'
import { checkContent } from './rules/content.js'
import { checkFiles } from './rules/files.js'
import { checkNamespaceClaims } from './rules/namespaces.js'
import { checkRecords } from './rules/records.js'
import type { CheckContext, Fetch, Finding, Subject } from './types.js'

export { RULES, type Fetch, type Finding, type RuleId } from './types.js'
export { formatMarkdown, formatText } from './report.js'
export { urlProblem, fetchLimited } from './fetch.js'
export { artifactFormatProblem } from './rules/artifacts.js'

export interface CheckOptions {
  repo: Repo
  /** Commit or ref the submission is compared against (what main holds). */
  base: string
  /** Commit or ref of the submission. */
  head: string
  /** Login of the submitter; defaults to the author of the head commit. */
  author?: string
  fetch?: Fetch
  now?: Date
}

export interface CheckResult {
  accepted: boolean
  base: string
  head: string
  author: string | undefined
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

export async function runCheck(options: CheckOptions): Promise<CheckResult> {
  const { repo } = options
  const base = await resolveCommit(repo, options.base)
  const head = await resolveCommit(repo, options.head)
  const author = options.author ?? (await readCommitInfo(repo, head)).author.name
  const registry = await readRegistry(repo, base)
  const changes = await diffCommits(repo, base, head)
  const findings: Finding[] = []
  const namespaces = new Map<string, Promise<NamespaceFile | undefined>>()
  const subjects: Subject[] = changes.map((change) => ({ change, where: classifyPath(change.path) }))
  const ctx: CheckContext = {
    repo,
    base,
    head,
    author,
    registry,
    subjects,
    fetch: options.fetch ?? globalThis.fetch,
    now: options.now ?? new Date(),
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
  await checkNamespaceClaims(ctx)
  await checkRecords(ctx)
  await checkArtifacts(ctx)
  return { accepted: findings.length === 0, base, head, author, changes, findings }
}
