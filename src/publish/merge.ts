/**
 * `wharf merge`: check a proposal against the current main and, when
 * accepted, land it as one new commit on main, the local stand-in for an
 * auto-merged (squashed) pull request.
 *
 * The commit that lands is written here, never taken from the proposal: its
 * tree is main's tree plus the proposal's judged changes, its first parent
 * is main's tip, and its message records the submitter in a trailer
 * (core/submitter.ts), so main only moves forward from itself and every
 * commit on it was judged.
 */
import { WharfError } from '../core/errors.js'
import { requireSubmitter, withSubmitterTrailer, type Submitter } from '../core/submitter.js'
import { runCheck, type CheckResult, type Fetch, type TeamResolver } from '../check/index.js'
import { advanceMain, branchExists, deleteBranch, MAIN, resolveCommit, syncWorkTree, withRepoLock, writeCommitWith, type Repo } from '../git/index.js'

export interface MergeOptions {
  branch: string
  /** Who submits the proposal: `--author`, the pull-request event or the server's token holder. */
  author: Submitter
  /** Confirms `@org/team` owners (GitHub's team membership API). */
  isTeamMember?: TeamResolver
  fetch?: Fetch
  now?: Date
}

export interface MergeResult {
  merged: boolean
  /** The new tip of main when merged. */
  commit?: string
  check: CheckResult
}

export async function mergeProposal(repo: Repo, options: MergeOptions): Promise<MergeResult> {
  const author = requireSubmitter(options.author, 'merge')
  if (!(await branchExists(repo, options.branch))) {
    throw new WharfError('BAD_REF', `there is no proposal branch "${options.branch}"`, { hint: 'list branches with `git branch`; wharf publish --json prints the branch it made' })
  }
  return withRepoLock(repo.dir, async () => {
    const main = await resolveCommit(repo, MAIN)
    const head = await resolveCommit(repo, options.branch)
    const check = await runCheck({ repo, base: main, head, author, isTeamMember: options.isTeamMember, fetch: options.fetch, now: options.now })
    if (!check.accepted) return { merged: false, check }
    const commit = await writeCommitWith(repo, {
      parents: [main],
      files: check.changes.map((c) => ({ path: c.path, content: null, oid: c.oid, mode: c.mode })),
      message: withSubmitterTrailer(`Merge ${options.branch} (${head.slice(0, 12)})`, author, check.teams),
      author: { login: author.login },
    })
    await advanceMain(repo, main, commit)
    await syncWorkTree(repo, check.changes.map((c) => c.path))
    await deleteBranch(repo, options.branch)
    return { merged: true, commit, check }
  })
}
