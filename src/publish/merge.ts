/**
 * `wharf merge`: check a proposal against the current main and merge it when
 * accepted, the local stand-in for an auto-merged pull request.
 */
import { WharfError } from '../core/errors.js'
import { runCheck, type CheckResult, type Fetch } from '../check/index.js'
import {
  branchExists,
  deleteBranch,
  diffCommits,
  isAncestor,
  MAIN,
  mergeBase,
  readCommitInfo,
  resolveCommit,
  setBranch,
  syncWorkTree,
  withRepoLock,
  writeCommitWith,
  type Repo,
} from '../git/index.js'

export interface MergeOptions {
  branch: string
  /** The submitter; defaults to the author of the proposal's head commit. */
  author?: string
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
  if (!(await branchExists(repo, options.branch))) {
    throw new WharfError('BAD_REF', `there is no proposal branch "${options.branch}"`, { hint: 'list branches with `git branch`; wharf publish --json prints the branch it made' })
  }
  return withRepoLock(repo.dir, async () => {
    const main = await resolveCommit(repo, MAIN)
    const head = await resolveCommit(repo, options.branch)
    const submitter = options.author ?? (await readCommitInfo(repo, head)).author.name
    const candidate = (await isAncestor(repo, main, head)) ? head : await mergeCommit(repo, main, head, submitter)
    const check = await runCheck({ repo, base: main, head: candidate, author: submitter, fetch: options.fetch, now: options.now })
    if (!check.accepted) return { merged: false, check }
    await setBranch(repo, MAIN, candidate)
    await syncWorkTree(repo, check.changes.map((c) => c.path))
    await deleteBranch(repo, options.branch)
    return { merged: true, commit: candidate, check }
  })
}

/**
 * A merge commit of `head` onto `main` that replays the proposal's own
 * changes on main's tree; a path both sides changed is a conflict.
 */
async function mergeCommit(repo: Repo, main: string, head: string, submitter: string): Promise<string> {
  const base = await mergeBase(repo, main, head)
  const theirs = await diffCommits(repo, base, head)
  const ours = new Set((await diffCommits(repo, base, main)).map((c) => c.path))
  const conflicts = theirs.filter((c) => ours.has(c.path)).map((c) => c.path)
  if (conflicts.length > 0) {
    throw new WharfError('CONFLICT', `the proposal and main both changed ${conflicts.join(', ')}`, { hint: 'publish again from the current main' })
  }
  const { tree } = await readCommitInfo(repo, main)
  return writeCommitWith(repo, {
    parents: [main, head],
    baseTree: tree,
    files: theirs.map((c) => ({ path: c.path, content: null, oid: c.oid, mode: c.mode })),
    message: `Merge ${head.slice(0, 12)} into ${MAIN}`,
    author: { login: submitter },
  })
}
