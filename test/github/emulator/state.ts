/**
 * The emulator's state: accounts, teams, repositories (each a real bare git repo
 * on disk), pull requests, comments, labels, reviews, releases, workflow runs
 * and artifacts, tokens, and the events GitHub would deliver. Plain data; the
 * routes change it, the shapes module renders it as GitHub's JSON.
 */
import path from 'node:path'

export type Role = 'admin' | 'maintain' | 'write' | 'triage' | 'read'
export type Access = 'read' | 'write'

/** Permission keys of a workflow's `permissions:` block, plus `members` (an app's organization permission). */
export const PERMISSION_SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'metadata',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
  'members',
] as const
export type Scope = (typeof PERMISSION_SCOPES)[number]
export type Permissions = Partial<Record<Scope, Access | 'none'>>

export interface Account {
  id: number
  login: string
  type: 'User' | 'Organization' | 'Bot'
  name: string | null
  email: string | null
  createdAt: string
}

export interface Team {
  id: number
  slug: string
  name: string
  org: Account
  members: Map<string, { role: 'member' | 'maintainer'; state: 'active' | 'pending' }>
}

export interface Label {
  id: number
  name: string
  color: string
  description: string | null
  default: boolean
}

export interface Comment {
  id: number
  issue: number
  user: Account
  body: string
  createdAt: string
  updatedAt: string
}

export interface Review {
  id: number
  user: Account
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING'
  body: string
  commitId: string
  submittedAt: string
}

export interface Pull {
  id: number
  number: number
  repo: Repo
  title: string
  body: string | null
  user: Account
  headRepo: Repo
  headRef: string
  headSha: string
  baseRef: string
  state: 'open' | 'closed'
  draft: boolean
  merged: boolean
  mergedAt: string | null
  mergedBy: Account | null
  mergeCommitSha: string | null
  /** null while unknown, as GitHub answers before it has computed the test merge. */
  mergeable: boolean | null
  labels: Label[]
  reviews: Review[]
  createdAt: string
  updatedAt: string
  closedAt: string | null
  maintainerCanModify: boolean
}

export interface Asset {
  id: number
  name: string
  label: string | null
  contentType: string
  size: number
  digest: string
  uploader: Account
  createdAt: string
  updatedAt: string
  downloadCount: number
  file: string
}

export interface Release {
  id: number
  tag: string
  name: string | null
  body: string | null
  draft: boolean
  prerelease: boolean
  target: string
  author: Account
  createdAt: string
  publishedAt: string | null
  assets: Asset[]
}

export interface Workflow {
  id: number
  name: string
  path: string
  createdAt: string
}

export interface Artifact {
  id: number
  name: string
  size: number
  digest: string
  file: string
  createdAt: string
  expiresAt: string
  run: Run
}

export interface Run {
  id: number
  repo: Repo
  workflow: Workflow
  name: string
  displayTitle: string
  event: string
  status: 'queued' | 'in_progress' | 'completed'
  conclusion: 'success' | 'failure' | 'cancelled' | 'skipped' | 'neutral' | null
  headSha: string
  headBranch: string | null
  headRepo: Repo
  runNumber: number
  runAttempt: number
  actor: Account
  triggeringActor: Account
  pullRequests: Pull[]
  createdAt: string
  updatedAt: string
  artifacts: Artifact[]
}

export interface Repo {
  id: number
  owner: Account
  name: string
  private: boolean
  description: string | null
  defaultBranch: string
  /** The bare git repo. */
  dir: string
  forkOf: Repo | undefined
  /** A fork is created asynchronously on GitHub; until ready its git data answers 409. */
  readyAt: number
  collaborators: Map<string, Role>
  labels: Map<string, Label>
  issueCounter: number
  pulls: Map<number, Pull>
  comments: Comment[]
  releases: Release[]
  workflows: Map<string, Workflow>
  runs: Run[]
  createdAt: string
  pushedAt: string
  /** Serialises ref changes (pushes, merges, API ref updates) on this repo. */
  queue: Promise<unknown>
  /** Branches a protection rule covers: the git refs API may not move them (GitHub answers 422). */
  protectedBranches: Set<string>
}

export interface Token {
  value: string
  /** `installation`: an app's token (a workflow's GITHUB_TOKEN); `user`: a person's token. */
  kind: 'installation' | 'user'
  /** Who acts: github-actions[bot] for a GITHUB_TOKEN, else the user. */
  actor: Account
  /** For an installation token: exactly these permissions. For a user token: an optional cap (a fine-grained token). */
  permissions: Permissions | undefined
  /** Repositories (full names) the token may write to; undefined: all the actor can reach. */
  repositories: string[] | undefined
}

/** One event GitHub would deliver, with what caused it (a GITHUB_TOKEN's events start no workflow runs). */
export interface Delivery {
  id: number
  name: string
  payload: Record<string, unknown>
  repo: string
  causedBy: { kind: 'installation' | 'user' | 'system'; login: string }
}

export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function fullName(repo: Repo): string {
  return `${repo.owner.login}/${repo.name}`
}

export function repoDir(root: string, owner: string, name: string): string {
  return path.join(root, owner, `${name}.git`)
}

/** Runs `work` after every earlier job queued on `repo`: one ref change at a time, as GitHub serialises pushes. */
export function serialised<T>(repo: Repo, work: () => Promise<T>): Promise<T> {
  const next = repo.queue.then(work, work)
  repo.queue = next.catch(() => {})
  return next
}

export const BOT: Omit<Account, 'createdAt'> = { id: 41898282, login: 'github-actions[bot]', type: 'Bot', name: null, email: null }
