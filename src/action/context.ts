/**
 * The runner's context, read once at the entry into a plain object: the
 * event and its payload, the repository, the API's address. Nothing below
 * the entry reads the environment.
 */
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import type { Submitter } from '../core/submitter.js'
import type { RepoRef } from '../github/index.js'

export interface PullRequestEvent {
  number: number
  author: Submitter
  /** When the pull request was opened, by GitHub's clock. */
  createdAt: Date
  headSha: string
  baseRef: string
  /** `owner/name` the head branch lives in (a fork's, for a fork's pull request). */
  headRepo: string | undefined
}

export interface WorkflowRunEvent {
  id: number
  headSha: string
  /** `owner/name` of the head branch's repository. */
  headRepo: string | undefined
  conclusion: string | null
  /** Numbers of the pull requests GitHub lists (none for a fork's). */
  pullRequests: number[]
}

export interface PushEvent {
  /** The commit the ref was at before the push (all zeros for a new branch). */
  before: string
  after: string
  ref: string
}

export interface RunnerContext {
  eventName: string
  repo: RepoRef
  sha: string
  actor: string
  runId: number | undefined
  workspace: string
  apiUrl: string
  serverUrl: string
  pullRequest: PullRequestEvent | undefined
  workflowRun: WorkflowRunEvent | undefined
  push: PushEvent | undefined
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {})
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined)

function need(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]
  if (!value) throw new WharfError('USAGE', `${name} is not set: the wharf Action runs in a GitHub Actions job`, { hint: 'run it as a step of a workflow job (uses: owner/wharf@version)' })
  return value
}

function pullRequestOf(payload: Json): PullRequestEvent | undefined {
  const pr = obj(payload.pull_request)
  const user = obj(pr.user)
  const number = num(pr.number)
  const login = str(user.login)
  if (number === undefined || !login) return undefined
  const id = num(user.id)
  return {
    number,
    author: { login, ...(id !== undefined ? { id } : {}) },
    createdAt: new Date(str(pr.created_at) ?? NaN),
    headSha: str(obj(pr.head).sha) ?? '',
    baseRef: str(obj(pr.base).ref) ?? '',
    headRepo: str(obj(obj(pr.head).repo).full_name),
  }
}

function workflowRunOf(payload: Json): WorkflowRunEvent | undefined {
  const run = obj(payload.workflow_run)
  const id = num(run.id)
  if (id === undefined) return undefined
  const prs = Array.isArray(run.pull_requests) ? run.pull_requests : []
  return {
    id,
    headSha: str(run.head_sha) ?? '',
    headRepo: str(obj(run.head_repository).full_name),
    conclusion: str(run.conclusion) ?? null,
    pullRequests: prs.map((p) => num(obj(p).number)).filter((n): n is number => n !== undefined),
  }
}

const SHA = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/

function pushOf(eventName: string, payload: Json): PushEvent | undefined {
  if (eventName !== 'push') return undefined
  const before = str(payload.before)
  const after = str(payload.after)
  if (!before || !after || !SHA.test(before) || !SHA.test(after)) return undefined
  return { before, after, ref: str(payload.ref) ?? '' }
}

/** The context from the runner's environment (`GITHUB_*`) and the event payload it points at. */
export function readContext(env: NodeJS.ProcessEnv): RunnerContext {
  const [owner, repo] = need(env, 'GITHUB_REPOSITORY').split('/')
  if (!owner || !repo) throw new WharfError('USAGE', `GITHUB_REPOSITORY "${env.GITHUB_REPOSITORY}" is not owner/name`, { hint: 'run the Action in a GitHub Actions job' })
  let payload: Json = {}
  const eventPath = env.GITHUB_EVENT_PATH
  if (eventPath && fs.existsSync(eventPath)) {
    try {
      payload = obj(JSON.parse(fs.readFileSync(eventPath, 'utf8')))
    } catch (e) {
      throw new WharfError('INVALID_INPUT', `the event payload at ${eventPath} is not JSON: ${(e as Error).message}`, { hint: 'GITHUB_EVENT_PATH must name the event payload the runner wrote' })
    }
  }
  const runId = Number(env.GITHUB_RUN_ID)
  const eventName = need(env, 'GITHUB_EVENT_NAME')
  return {
    eventName,
    repo: { owner, repo },
    sha: env.GITHUB_SHA ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    runId: Number.isSafeInteger(runId) && runId > 0 ? runId : undefined,
    workspace: path.resolve(need(env, 'GITHUB_WORKSPACE')),
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    pullRequest: pullRequestOf(payload),
    workflowRun: workflowRunOf(payload),
    push: pushOf(eventName, payload),
  }
}
