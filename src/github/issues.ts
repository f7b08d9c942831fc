/** Comments and labels on pull requests (GitHub serves both through the issues API). */
import { WharfError } from '../core/errors.js'
import { params, type Client } from './client.js'
import { attempt, attemptOptional, statusOf } from './errors.js'
import { toAccount } from './pulls.js'
import type { Comment, Label, RepoRef } from './types.js'

/** GitHub refuses comment bodies longer than this. */
export const MAX_COMMENT_CHARS = 65536

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function toComment(c: Json): Comment {
  return { id: c.id, body: c.body ?? '', author: toAccount(c.user), createdAt: c.created_at, updatedAt: c.updated_at, htmlUrl: c.html_url }
}

/** The hidden line that marks wharf's comment of a kind: `<!-- wharf:KIND -->`. */
export function commentMarker(kind: string): string {
  if (!/^[a-z0-9][a-z0-9._:-]{0,63}$/.test(kind)) {
    throw new WharfError('INVALID_INPUT', `comment marker ${JSON.stringify(kind)} is not a short lower-case word`, { hint: 'use letters, digits, ".", "_", ":" or "-"' })
  }
  return `<!-- wharf:${kind} -->`
}

export interface UpsertCommentOptions {
  /** Which of wharf's comments this is; one comment per pull request and marker. */
  marker: string
  body: string
  /**
   * Whose comment to update: this login's. By default a bot's (the workflow's
   * token comments as a bot), so a marker pasted into someone else's comment is never taken over.
   */
  author?: string
}

export function createIssues(client: Client) {
  const { octokit } = client
  const name = (r: RepoRef, n: number) => `${r.owner}/${r.repo}#${n}`
  return {
    async listComments(repo: RepoRef, number: number): Promise<Comment[]> {
      return attempt(`listing comments of ${name(repo, number)}`, async () =>
        (await octokit.paginate(octokit.rest.issues.listComments, { ...params(repo), issue_number: number, per_page: 100 })).map(toComment),
      )
    },

    /**
     * Creates wharf's comment of this kind on the pull request, or edits the one
     * already there (found by its hidden marker); an unchanged body costs no write.
     */
    async upsertComment(repo: RepoRef, number: number, options: UpsertCommentOptions): Promise<{ id: number; action: 'created' | 'updated' | 'unchanged' }> {
      const marker = commentMarker(options.marker)
      let body = `${marker}\n${options.body}`
      if (body.length > MAX_COMMENT_CHARS) {
        const note = '\n\n… (cut to fit GitHub’s comment size limit; the workflow run has the rest)'
        body = body.slice(0, MAX_COMMENT_CHARS - note.length) + note
      }
      const mine = (c: Comment) =>
        c.body.startsWith(marker) && (options.author ? c.author?.login.toLowerCase() === options.author.toLowerCase() : c.author?.type === 'Bot')
      const existing = (await this.listComments(repo, number)).find(mine)
      if (existing && existing.body === body) return { id: existing.id, action: 'unchanged' }
      if (existing) {
        await attempt(`updating comment ${existing.id} on ${name(repo, number)}`, () => octokit.rest.issues.updateComment({ ...params(repo), comment_id: existing.id, body }))
        return { id: existing.id, action: 'updated' }
      }
      const { data } = await attempt(`commenting on ${name(repo, number)}`, () => octokit.rest.issues.createComment({ ...params(repo), issue_number: number, body }))
      return { id: data.id, action: 'created' }
    },

    async listLabels(repo: RepoRef, number: number): Promise<string[]> {
      return attempt(`listing labels of ${name(repo, number)}`, async () =>
        (await octokit.paginate(octokit.rest.issues.listLabelsOnIssue, { ...params(repo), issue_number: number, per_page: 100 })).map((l) => l.name),
      )
    },

    /** Adds labels (GitHub creates a missing one with a grey colour; `ensureLabel` first to choose it). */
    async addLabels(repo: RepoRef, number: number, labels: string[]): Promise<string[]> {
      if (labels.length === 0) return this.listLabels(repo, number)
      return attempt(`labelling ${name(repo, number)} ${labels.join(', ')}`, async () =>
        (await octokit.rest.issues.addLabels({ ...params(repo), issue_number: number, labels })).data.map((l) => l.name),
      )
    },

    /** Removes a label; false when the pull request did not have it. */
    async removeLabel(repo: RepoRef, number: number, label: string): Promise<boolean> {
      const removed = await attemptOptional(`removing label ${label} from ${name(repo, number)}`, () => octokit.rest.issues.removeLabel({ ...params(repo), issue_number: number, name: label }))
      return removed !== undefined
    },

    /** The repository's label by this name, created with this colour and description when missing. */
    async ensureLabel(repo: RepoRef, label: Label): Promise<{ label: Label; created: boolean }> {
      const found = await attemptOptional(`reading label ${label.name} of ${repo.owner}/${repo.repo}`, () => octokit.rest.issues.getLabel({ ...params(repo), name: label.name }))
      if (found) return { label: { name: found.data.name, color: found.data.color, description: found.data.description ?? null }, created: false }
      try {
        const { data } = await octokit.rest.issues.createLabel({ ...params(repo), name: label.name, color: label.color.replace(/^#/, ''), ...(label.description ? { description: label.description } : {}) })
        return { label: { name: data.name, color: data.color, description: data.description ?? null }, created: true }
      } catch (e) {
        // Created by a concurrent run between the read and the write.
        if (statusOf(e) === 422) return { label, created: false }
        return attempt(`creating label ${label.name} on ${repo.owner}/${repo.repo}`, () => Promise.reject(e))
      }
    },
  }
}
