/**
 * Event payloads as GitHub delivers them to workflows (`github.event`), built
 * from the emulator's state and checked against `@octokit/webhooks-schemas`.
 * Webhook objects differ from REST ones (no `user_view_type`, `custom_properties`
 * on repositories, lighter nested repositories), so they have their own builders
 * on top of the REST shapes.
 */
import { createRequire } from 'node:module'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { looseEmail } from './openapi.js'
import type { HeadCommit, PullStats, Urls } from './shapes.js'
import { labelJson, pullJson, repoJson, userJson } from './shapes.js'
import type { Account, Label, Pull, Repo, Run } from './state.js'
import { fullName } from './state.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

let definitions: Record<string, unknown> | undefined
const ajv = looseEmail(addFormats(new Ajv({ strict: false, allErrors: false, logger: false, inlineRefs: false })))
const compiled = new Map<string, ValidateFunction>()

/** What is wrong with a payload by the webhook schema `definition` (e.g. `pull_request$opened`, `push$event`). */
export function checkWebhook(definition: string, payload: unknown): string[] {
  definitions ??= (createRequire(import.meta.url)('@octokit/webhooks-schemas') as { definitions: Record<string, unknown> }).definitions
  if (!(definition in definitions)) return [`no webhook schema named ${definition}`]
  let validate = compiled.get(definition)
  if (!validate) {
    validate = ajv.compile(standalone(definitions, definition))
    compiled.set(definition, validate)
  }
  if (validate(payload)) return []
  return (validate.errors ?? []).slice(0, 8).map((e) => `${definition}: ${e.instancePath || '(root)'} ${e.message} ${JSON.stringify(e.params)}`)
}

/** One definition with only the definitions it reaches: compiling the whole schema takes seconds per event. */
function standalone(all: Record<string, unknown>, root: string): object {
  const picked: Record<string, unknown> = {}
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit)
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/definitions/')) {
        const name = value.slice('#/definitions/'.length)
        if (!(name in picked)) {
          picked[name] = all[name]
          visit(all[name])
        }
      } else visit(value)
    }
  }
  picked[root] = all[root]
  visit(all[root])
  const strip = ({ $schema: _, ...rest }: Record<string, unknown>) => rest
  return { definitions: Object.fromEntries(Object.entries(picked).map(([k, v]) => [k, strip(v as Record<string, unknown>)])), $ref: `#/definitions/${root}` }
}

export function webhookUser(urls: Urls, user: Account): Record<string, unknown> {
  const { user_view_type: _, ...rest } = userJson(urls, user)
  return { ...rest, name: user.name ?? user.login, email: user.email }
}

export function webhookRepo(urls: Urls, repo: Repo): Record<string, unknown> {
  const { network_count: _n, subscribers_count: _s, parent: _p, source: _src, ...rest } = repoJson(urls, repo)
  return { ...rest, owner: webhookUser(urls, repo.owner), custom_properties: {} }
}

const REPO_LITE_KEYS = [
  'archive_url', 'assignees_url', 'blobs_url', 'branches_url', 'collaborators_url', 'comments_url', 'commits_url', 'compare_url',
  'contents_url', 'contributors_url', 'deployments_url', 'description', 'downloads_url', 'events_url', 'fork', 'forks_url',
  'full_name', 'git_commits_url', 'git_refs_url', 'git_tags_url', 'hooks_url', 'html_url', 'id', 'issue_comment_url',
  'issue_events_url', 'issues_url', 'keys_url', 'labels_url', 'languages_url', 'merges_url', 'milestones_url', 'name', 'node_id',
  'notifications_url', 'owner', 'private', 'pulls_url', 'releases_url', 'stargazers_url', 'statuses_url', 'subscribers_url',
  'subscription_url', 'tags_url', 'teams_url', 'trees_url', 'url',
]

/** The lighter repository a `workflow_run` payload nests (`repository-lite`). */
function webhookRepoLite(urls: Urls, repo: Repo): Record<string, unknown> {
  const full = webhookRepo(urls, repo)
  return Object.fromEntries(REPO_LITE_KEYS.map((k) => [k, full[k]]))
}

function webhookPull(urls: Urls, pull: Pull, baseSha: string, stats: PullStats): Record<string, unknown> {
  const json = pullJson(urls, pull, baseSha, stats)
  const branch = (repo: Repo, ref: string, sha: string) => ({ label: `${repo.owner.login}:${ref}`, ref, sha, user: webhookUser(urls, repo.owner), repo: webhookRepo(urls, repo) })
  return {
    ...json,
    user: webhookUser(urls, pull.user),
    merged_by: pull.mergedBy ? webhookUser(urls, pull.mergedBy) : null,
    head: branch(pull.headRepo, pull.headRef, pull.headSha),
    base: branch(pull.repo, pull.baseRef, baseSha),
  }
}

export function pullRequestPayload(
  urls: Urls,
  action: 'opened' | 'synchronize' | 'labeled' | 'unlabeled' | 'closed' | 'reopened',
  pull: Pull,
  baseSha: string,
  stats: PullStats,
  sender: Account,
  extra: { label?: Label; before?: string; after?: string } = {},
): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    action,
    number: pull.number,
    pull_request: webhookPull(urls, pull, baseSha, stats),
    repository: webhookRepo(urls, pull.repo),
    sender: webhookUser(urls, sender),
  }
  if (extra.label) payload.label = labelJson(urls, pull.repo, extra.label)
  if (action === 'synchronize') {
    payload.before = extra.before
    payload.after = extra.after
  }
  return payload
}

export interface PushedCommit extends HeadCommit {
  added: string[]
  removed: string[]
  modified: string[]
}

export function pushPayload(
  urls: Urls,
  repo: Repo,
  update: { ref: string; before: string; after: string; forced: boolean },
  commits: PushedCommit[],
  pusher: Account,
  sender: Account,
): Record<string, unknown> {
  const commit = (c: PushedCommit) => ({
    id: c.id,
    tree_id: c.treeId,
    distinct: true,
    message: c.message,
    timestamp: c.timestamp,
    url: `${urls.html}/${fullName(repo)}/commit/${c.id}`,
    author: c.author,
    committer: c.committer,
    added: c.added,
    removed: c.removed,
    modified: c.modified,
  })
  const zero = /^0+$/
  return {
    ref: update.ref,
    before: update.before,
    after: update.after,
    created: zero.test(update.before),
    deleted: zero.test(update.after),
    forced: update.forced,
    base_ref: null,
    compare: `${urls.html}/${fullName(repo)}/compare/${update.before.slice(0, 12)}...${update.after.slice(0, 12)}`,
    commits: commits.slice(-20).map(commit),
    head_commit: commits.length > 0 ? commit(commits[commits.length - 1]!) : null,
    repository: webhookRepo(urls, repo),
    pusher: { name: pusher.login, email: pusher.email ?? `${pusher.id}+${pusher.login}@users.noreply.github.com` },
    sender: webhookUser(urls, sender),
  }
}

function workflowJson(urls: Urls, run: Run): Record<string, unknown> {
  const name = fullName(run.repo)
  return {
    badge_url: `${urls.html}/${name}/workflows/${encodeURIComponent(run.workflow.name)}/badge.svg`,
    created_at: run.workflow.createdAt,
    html_url: `${urls.html}/${name}/blob/${run.repo.defaultBranch}/${run.workflow.path}`,
    id: run.workflow.id,
    name: run.workflow.name,
    node_id: Buffer.from(`0:Workflow${run.workflow.id}`).toString('base64'),
    path: run.workflow.path,
    state: 'active',
    updated_at: run.workflow.createdAt,
    url: `${urls.api}/repos/${name}/actions/workflows/${run.workflow.id}`,
  }
}

export function workflowRunPayload(urls: Urls, run: Run, runJsonValue: Record<string, unknown>, headCommit: HeadCommit | null, sender: Account): Record<string, unknown> {
  const { head_repository: _h, repository: _r, pull_requests: _p, actor: _a, triggering_actor: _t, head_commit: _c, ...rest } = runJsonValue
  const repoRef = (repo: Repo) => ({ id: repo.id, url: `${urls.api}/repos/${fullName(repo)}`, name: repo.name })
  return {
    action: 'completed',
    repository: webhookRepo(urls, run.repo),
    sender: webhookUser(urls, sender),
    workflow: workflowJson(urls, run),
    workflow_run: {
      ...rest,
      actor: webhookUser(urls, run.actor),
      triggering_actor: webhookUser(urls, run.triggeringActor),
      head_commit: headCommit
        ? { id: headCommit.id, tree_id: headCommit.treeId, message: headCommit.message, timestamp: headCommit.timestamp, author: headCommit.author, committer: headCommit.committer }
        : null,
      head_repository: webhookRepoLite(urls, run.headRepo),
      repository: webhookRepoLite(urls, run.repo),
      pull_requests: run.pullRequests.map((p) => ({
        url: `${urls.api}/repos/${fullName(p.repo)}/pulls/${p.number}`,
        id: p.id,
        number: p.number,
        head: { ref: p.headRef, sha: p.headSha, repo: repoRef(p.headRepo) },
        base: { ref: p.baseRef, sha: p.headSha, repo: repoRef(p.repo) },
      })),
      referenced_workflows: [],
    },
  }
}

export function workflowDispatchPayload(urls: Urls, repo: Repo, ref: string, workflowPath: string, inputs: Record<string, unknown>, sender: Account): Record<string, unknown> {
  return { inputs, ref, repository: webhookRepo(urls, repo), sender: webhookUser(urls, sender), workflow: workflowPath }
}

/** `schedule` has no webhook (Actions makes it): `{ schedule, workflow, repository }`, the repository checked as a webhook repository. */
export function schedulePayload(urls: Urls, repo: Repo, cron: string, workflowPath: string): Record<string, unknown> {
  return { schedule: cron, workflow: workflowPath, repository: webhookRepo(urls, repo) }
}
