/**
 * What `release` has shipped, remembered across runs: the ref
 * `refs/wharf/released` of the index repo names the last commit of main up
 * to which every version shipped. GitHub keeps one pending run per
 * concurrency group and cancels it when a newer push queues, so the push of a
 * cancelled run never gets a run of its own; the next run starts from this
 * ref rather than from its own push's `before`, and ships those versions too.
 * It is no branch or tag: nothing checks it out and no workflow starts on it.
 * A version that cannot ship holds the ref where it is, so every later run
 * tries it again (and fails, in sight) until it ships or a maintainer moves
 * the ref past it.
 */
import type { GitHub, RepoRef } from '../github/index.js'
import { isAncestor, type Repo } from '../git/index.js'

export const RELEASED_REF = 'refs/wharf/released'

/** Whether `ancestor` is `oid` or behind it in this clone; false when either is not here (a rewritten history). */
async function behind(repo: Repo, ancestor: string, oid: string): Promise<boolean> {
  try {
    return await isAncestor(repo, ancestor, oid)
  } catch {
    return false
  }
}

export interface ReleaseStart {
  /** Where the run starts: the push's `before`, or the ref when it is older (versions of cancelled runs since). */
  before: string
  /** The ref's commit, when the ref exists. */
  released?: string
}

/** Where a release of the push `before..after` starts (the all-zero `before` of a new branch stays as it is). */
export async function releaseStart(github: GitHub, index: RepoRef, repo: Repo, before: string): Promise<ReleaseStart> {
  const released = (await github.git.getRef(index, RELEASED_REF))?.sha
  if (!released) return { before }
  const older = !/^0{40}$/.test(before) && released !== before && (await behind(repo, released, before))
  return { before: older ? released : before, released }
}

/**
 * Moves the ref to `after` once every version up to it shipped: made on the
 * first run, moved forward after, and left alone when it is already past
 * `after` (a re-run of an older push). A ref this clone's history does not
 * hold (main was rewritten) is moved by force: the run shipped what it read.
 */
export async function markReleased(github: GitHub, index: RepoRef, repo: Repo, start: ReleaseStart, after: string): Promise<'made' | 'moved' | 'kept'> {
  const { released } = start
  if (!released) {
    await github.git.createRef(index, RELEASED_REF, after)
    return 'made'
  }
  if (released === after || (await behind(repo, after, released))) return 'kept'
  await github.git.updateRef(index, RELEASED_REF, after, { force: !(await behind(repo, released, after)) })
  return 'moved'
}
