/** Pull requests: read, list, files, create, merge with the expected head, reviews. */
import { WharfError } from '../core/errors.js'
import { params, type Client } from './client.js'
import { GitHubErrorCode, attempt, describeFailure, statusOf } from './errors.js'
import type { Account, PullFile, PullRequest, RepoRef, Review, ReviewState } from './types.js'

/** GitHub lists at most this many files of a pull request. */
export const MAX_PULL_FILES = 3000

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export function toAccount(user: Json | null | undefined): Account | null {
  if (!user) return null
  return { login: String(user.login), id: Number(user.id), type: user.type === 'Bot' || user.type === 'Organization' ? user.type : 'User' }
}

function toPull(p: Json): PullRequest {
  const tip = (b: Json) => ({ ref: String(b.ref), sha: String(b.sha), repo: b.repo ? String(b.repo.full_name) : null })
  return {
    number: p.number,
    title: p.title,
    body: p.body ?? null,
    state: p.state === 'closed' ? 'closed' : 'open',
    draft: p.draft === true,
    merged: p.merged === true || p.merged_at != null,
    mergeable: typeof p.mergeable === 'boolean' ? p.mergeable : null,
    author: toAccount(p.user) ?? { login: 'ghost', id: 10137, type: 'User' },
    head: tip(p.head),
    base: tip(p.base),
    labels: (p.labels ?? []).map((l: Json) => String(l.name)),
    createdAt: p.created_at,
    updatedAt: p.updated_at,
    mergedAt: p.merged_at ?? null,
    mergeCommitSha: p.merge_commit_sha ?? null,
    htmlUrl: p.html_url,
  }
}

function toReview(r: Json): Review {
  return { id: r.id, reviewer: toAccount(r.user), state: r.state as ReviewState, body: r.body ?? '', commitId: r.commit_id ?? null, submittedAt: r.submitted_at ?? null }
}

export interface CreatePullOptions {
  title: string
  /** `branch` in the same repository, or `owner:branch` from a fork. */
  head: string
  base: string
  body?: string
  draft?: boolean
  maintainerCanModify?: boolean
}

export interface MergeOptions {
  /** The head sha the caller checked: GitHub merges only if the head is still this commit. */
  expectedHeadSha: string
  method?: 'merge' | 'squash' | 'rebase'
  title?: string
  message?: string
}

export function createPulls(client: Client) {
  const { octokit } = client
  const name = (r: RepoRef, n?: number) => `${r.owner}/${r.repo}${n === undefined ? '' : `#${n}`}`
  return {
    async get(repo: RepoRef, number: number): Promise<PullRequest> {
      return attempt(`reading pull request ${name(repo, number)}`, async () => toPull((await octokit.rest.pulls.get({ ...params(repo), pull_number: number })).data))
    },

    /** Every open pull request (optionally only those into `base`), oldest first. */
    async listOpen(repo: RepoRef, options: { base?: string } = {}): Promise<PullRequest[]> {
      return attempt(`listing open pull requests of ${name(repo)}`, async () => {
        const pulls = await octokit.paginate(octokit.rest.pulls.list, { ...params(repo), state: 'open', per_page: 100, sort: 'created', direction: 'asc', ...(options.base ? { base: options.base } : {}) })
        return pulls.map((p) => toPull({ ...p, merged: false }))
      })
    },

    /** The files the pull request changes (GitHub lists at most 3,000; `truncated` says when there are more). */
    async listFiles(repo: RepoRef, number: number): Promise<{ files: PullFile[]; truncated: boolean }> {
      return attempt(`listing files of ${name(repo, number)}`, async () => {
        const files = await octokit.paginate(octokit.rest.pulls.listFiles, { ...params(repo), pull_number: number, per_page: 100 })
        return {
          files: files.map((f) => ({ filename: f.filename, status: f.status, previousFilename: f.previous_filename, sha: f.sha, additions: f.additions, deletions: f.deletions })),
          truncated: files.length >= MAX_PULL_FILES,
        }
      })
    },

    async create(repo: RepoRef, options: CreatePullOptions): Promise<PullRequest> {
      return attempt(`opening a pull request on ${name(repo)} from ${options.head}`, async () => {
        const { data } = await octokit.rest.pulls.create({
          ...params(repo),
          title: options.title,
          head: options.head,
          base: options.base,
          ...(options.body !== undefined ? { body: options.body } : {}),
          ...(options.draft !== undefined ? { draft: options.draft } : {}),
          ...(options.maintainerCanModify !== undefined ? { maintainer_can_modify: options.maintainerCanModify } : {}),
        })
        return toPull(data)
      })
    },

    /**
     * Merges only if the head is still `expectedHeadSha`. A moved head is
     * GITHUB_HEAD_CHANGED (check again, then merge); conflicts or a closed PR are
     * GITHUB_NOT_MERGEABLE.
     */
    async merge(repo: RepoRef, number: number, options: MergeOptions): Promise<{ sha: string }> {
      if (!/^[0-9a-f]{40}$/.test(options.expectedHeadSha)) {
        throw new WharfError('INVALID_INPUT', `merging ${name(repo, number)}: expected head sha ${JSON.stringify(options.expectedHeadSha)} is not a 40-hex commit id`, { hint: 'pass the head sha that was checked' })
      }
      try {
        const { data } = await octokit.rest.pulls.merge({
          ...params(repo),
          pull_number: number,
          sha: options.expectedHeadSha,
          merge_method: options.method ?? 'merge',
          ...(options.title !== undefined ? { commit_title: options.title } : {}),
          ...(options.message !== undefined ? { commit_message: options.message } : {}),
        })
        return { sha: data.sha }
      } catch (e) {
        const what = `merging ${name(repo, number)}`
        if (statusOf(e) === 409 && /head branch was modified/i.test(String((e as Error).message))) {
          throw new WharfError(GitHubErrorCode.HeadChanged, `${what}: its head is no longer ${options.expectedHeadSha.slice(0, 12)}`, {
            hint: 'new commits were pushed after the check; check the new head, then merge',
            cause: e,
          })
        }
        throw describeFailure(e, what)
      }
    },

    async listReviews(repo: RepoRef, number: number): Promise<Review[]> {
      return attempt(`listing reviews of ${name(repo, number)}`, async () =>
        (await octokit.paginate(octokit.rest.pulls.listReviews, { ...params(repo), pull_number: number, per_page: 100 })).map(toReview),
      )
    },

    /**
     * Each reviewer's standing review, as GitHub decides a review state: the
     * latest APPROVED, CHANGES_REQUESTED or DISMISSED; a later COMMENTED changes
     * nothing. Reviewers who only commented appear as COMMENTED.
     */
    async latestReviews(repo: RepoRef, number: number): Promise<Review[]> {
      const byReviewer = new Map<number, Review>()
      for (const review of await this.listReviews(repo, number)) {
        if (!review.reviewer || review.state === 'PENDING') continue
        const previous = byReviewer.get(review.reviewer.id)
        if (review.state === 'COMMENTED' && previous && previous.state !== 'COMMENTED') continue
        byReviewer.set(review.reviewer.id, review)
      }
      return [...byReviewer.values()]
    },
  }
}
