/**
 * A GitHub REST emulator for tests: one HTTP server on loopback that answers the
 * REST API under `/api/v3`, release uploads under `/api/uploads`, git smart HTTP
 * (`git http-backend`) at `/<owner>/<repo>.git`, release downloads and artifact
 * storage, all backed by real bare git repos in a temp directory. Tokens carry a
 * workflow's `permissions:`; every response is checked against GitHub's OpenAPI
 * description and every event payload against GitHub's webhook schemas.
 */
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as gitOps from './git.js'
import { HttpError, errorBody, matchTemplate, type Reply, type RouteDef, type RouteRequest } from './http.js'
import { OpenApiValidator } from './openapi.js'
import { routes } from './routes.js'
import type { HeadCommit, PullStats, Urls } from './shapes.js'
import { runJson } from './shapes.js'
import {
  BOT,
  PERMISSION_SCOPES,
  fullName,
  repoDir,
  serialised,
  timestamp,
  type Access,
  type Account,
  type Artifact,
  type Delivery,
  type Label,
  type Permissions,
  type Pull,
  type Repo,
  type Role,
  type Run,
  type Scope,
  type Team,
  type Token,
} from './state.js'
import { checkWebhook, pullRequestPayload, pushPayload, workflowRunPayload, type PushedCommit } from './webhooks.js'

export interface EmulatorOptions {
  /** The emulator's clock: timestamps of PRs, comments, runs and commits. Tests move it to pass waiting periods. */
  now?: () => Date
  /** How long a new fork takes to become usable (GitHub forks asynchronously). */
  forkDelayMs?: number
}

export interface RequestRecord {
  method: string
  path: string
  status: number
  /** The OpenAPI operation, when the path is a REST route. */
  operationId?: string
  /** Time to the response's headers. */
  ms?: number
}

export interface CreateRepoOptions {
  private?: boolean
  defaultBranch?: string
  description?: string
  collaborators?: Record<string, Role>
  /** Files of a first commit on the default branch. */
  files?: Record<string, string | Buffer>
  /** A local git repo whose branches and tags seed the new one. */
  from?: string
}

export interface MintOptions {
  /** A person's token acting as this user; without it, an installation token (github-actions[bot]). */
  user?: string
  /** An installation token's permissions (exactly these); for a user token, an optional cap. */
  permissions?: Permissions
  /** Repositories (owner/name) an installation token is for; it can still read public repos. */
  repositories?: string[]
}

const RANK: Record<Access | 'none', number> = { none: 0, read: 1, write: 2 }
const ROLE_ACCESS: Record<Role, Access> = { admin: 'write', maintain: 'write', write: 'write', triage: 'read', read: 'read' }

export class Emulator {
  readonly urls: Urls
  readonly root: string
  /** Every request: method, path, status and operation, in order. */
  readonly requests: RequestRecord[] = []
  /** Responses, request bodies and payloads that do not match GitHub's descriptions. A test asserts this stays empty. */
  readonly mismatches: string[] = []
  /** Requests to paths the emulator does not implement (answered 404 with a message naming them). */
  readonly unimplemented: string[] = []
  /** Events GitHub would deliver, oldest first; `takeDeliveries` drains them. */
  readonly deliveries: Delivery[] = []
  readonly validator = new OpenApiValidator()
  now: () => Date
  forkDelayMs: number

  readonly accounts = new Map<string, Account>()
  readonly teams = new Map<string, Team>()
  readonly repos = new Map<string, Repo>()
  readonly tokens = new Map<string, Token>()
  private nextId = 5_000_000
  /** Diff statistics by base and head commit: commits never change, so neither do these. */
  private readonly statsCache = new Map<string, PullStats>()
  private readonly server: http.Server
  private readonly table: RouteDef[]
  private limits: { kind: 'primary' | 'secondary'; remaining: number; seconds: number } | undefined
  private readonly storageKey = randomBytes(16).toString('hex')

  constructor(server: http.Server, root: string, port: number, options: EmulatorOptions) {
    this.server = server
    this.root = root
    const html = `http://127.0.0.1:${port}`
    this.urls = { html, api: `${html}/api/v3`, uploads: `${html}/api/uploads` }
    this.now = options.now ?? (() => new Date())
    this.forkDelayMs = options.forkDelayMs ?? 0
    this.table = routes(this)
    this.account(BOT.login) ?? this.accounts.set(BOT.login.toLowerCase(), { ...BOT, createdAt: '2018-12-12T00:00:00Z' })
  }

  id(): number {
    return this.nextId++
  }

  stamp(): string {
    return timestamp(this.now())
  }

  // ---------------------------------------------------------------- accounts, teams, tokens

  createUser(login: string, options: { id?: number; name?: string; email?: string } = {}): Account {
    if (options.id !== undefined && this.accountById(options.id)) throw new Error(`emulator: account id ${options.id} is taken`)
    const user: Account = { id: options.id ?? this.id(), login, type: 'User', name: options.name ?? null, email: options.email ?? null, createdAt: this.stamp() }
    this.accounts.set(login.toLowerCase(), user)
    return user
  }

  createOrg(login: string): Account {
    const org: Account = { id: this.id(), login, type: 'Organization', name: null, email: null, createdAt: this.stamp() }
    this.accounts.set(login.toLowerCase(), org)
    return org
  }

  /** Renames an account; its numeric id stays, as on GitHub. */
  renameUser(login: string, newLogin: string): Account {
    const user = this.requireAccount(login)
    this.accounts.delete(login.toLowerCase())
    user.login = newLogin
    this.accounts.set(newLogin.toLowerCase(), user)
    return user
  }

  createTeam(orgLogin: string, slug: string, members: Array<string | { login: string; role?: 'member' | 'maintainer'; state?: 'active' | 'pending' }>): Team {
    const org = this.requireAccount(orgLogin)
    const team: Team = { id: this.id(), slug, name: slug, org, members: new Map() }
    for (const m of members) {
      const entry = typeof m === 'string' ? { login: m } : m
      team.members.set(entry.login.toLowerCase(), { role: entry.role ?? 'member', state: entry.state ?? 'active' })
    }
    this.teams.set(`${orgLogin.toLowerCase()}/${slug}`, team)
    return team
  }

  account(login: string): Account | undefined {
    return this.accounts.get(login.toLowerCase())
  }

  accountById(id: number): Account | undefined {
    for (const a of this.accounts.values()) if (a.id === id) return a
    return undefined
  }

  requireAccount(login: string): Account {
    const account = this.account(login)
    if (!account) throw new Error(`emulator: no account ${login}`)
    return account
  }

  /** A new token: a person's (`user`) or an installation's (github-actions[bot]) with exactly `permissions`. */
  mintToken(options: MintOptions = {}): string {
    const value = `${options.user ? 'ghp' : 'ghs'}_${randomBytes(18).toString('base64url')}`
    for (const scope of Object.keys(options.permissions ?? {})) {
      if (!(PERMISSION_SCOPES as readonly string[]).includes(scope)) throw new Error(`emulator: unknown permission ${scope}`)
    }
    const actor = options.user ? this.requireAccount(options.user) : this.requireAccount(BOT.login)
    this.tokens.set(value, {
      value,
      kind: options.user ? 'user' : 'installation',
      actor,
      permissions: options.permissions,
      repositories: options.repositories,
    })
    return value
  }

  revokeToken(value: string): void {
    this.tokens.delete(value)
  }

  /** The next `count` REST requests answer a rate-limit error whose wait is `seconds`. */
  limitNext(count: number, kind: 'primary' | 'secondary', seconds = 1): void {
    this.limits = { kind, remaining: count, seconds }
  }

  // ---------------------------------------------------------------- repositories

  async createRepo(name: string, options: CreateRepoOptions = {}): Promise<Repo> {
    const [ownerLogin, repoName] = name.split('/')
    if (!ownerLogin || !repoName) throw new Error(`emulator: repository name ${name} is not owner/name`)
    const owner = this.account(ownerLogin) ?? this.createUser(ownerLogin)
    const defaultBranch = options.defaultBranch ?? 'main'
    const dir = repoDir(this.root, owner.login, repoName)
    const repo = this.addRepo(owner, repoName, dir, defaultBranch, options)
    if (options.from) {
      await gitOps.cloneBare(options.from, dir)
      await gitOps.git(dir, ['symbolic-ref', 'HEAD', `refs/heads/${defaultBranch}`])
    } else {
      await gitOps.initBare(dir, defaultBranch)
      if (options.files) {
        const entries: gitOps.TreeEntryInput[] = []
        for (const [file, content] of Object.entries(options.files)) {
          entries.push({ path: file, mode: '100644', sha: await gitOps.writeBlob(dir, Buffer.from(content)) })
        }
        const tree = await gitOps.buildTree(dir, undefined, entries)
        const who = this.gitIdentity(owner)
        const commit = await gitOps.commitTree(dir, tree, [], 'Initial commit\n', who)
        await gitOps.compareAndSwapRef(dir, `refs/heads/${defaultBranch}`, commit, gitOps.ZERO_SHA)
      }
    }
    return repo
  }

  addRepo(owner: Account, name: string, dir: string, defaultBranch: string, options: CreateRepoOptions & { forkOf?: Repo; readyAt?: number } = {}): Repo {
    const repo: Repo = {
      id: this.id(),
      owner,
      name,
      private: options.private ?? false,
      description: options.description ?? null,
      defaultBranch,
      dir,
      forkOf: options.forkOf,
      readyAt: options.readyAt ?? 0,
      collaborators: new Map(Object.entries(options.collaborators ?? {}).map(([login, role]) => [login.toLowerCase(), role])),
      labels: new Map(),
      issueCounter: 0,
      pulls: new Map(),
      comments: [],
      releases: [],
      workflows: new Map(),
      runs: [],
      createdAt: this.stamp(),
      pushedAt: this.stamp(),
      queue: Promise.resolve(),
      protectedBranches: new Set(),
    }
    this.repos.set(fullName(repo).toLowerCase(), repo)
    return repo
  }

  repo(name: string): Repo | undefined {
    return this.repos.get(name.toLowerCase())
  }

  requireRepo(name: string): Repo {
    const repo = this.repo(name)
    if (!repo) throw new Error(`emulator: no repository ${name}`)
    return repo
  }

  pull(name: string, number: number): Pull {
    const pull = this.requireRepo(name).pulls.get(number)
    if (!pull) throw new Error(`emulator: no pull request ${name}#${number}`)
    return pull
  }

  /** The clone URL of a repository on the emulator's git host. */
  cloneUrl(name: string): string {
    return `${this.urls.html}/${name}.git`
  }

  /** A user's role on a repository: owner is admin; an org's repos give admin to none but collaborators. */
  role(repo: Repo, user: Account): Role | undefined {
    if (repo.owner.login.toLowerCase() === user.login.toLowerCase()) return 'admin'
    return repo.collaborators.get(user.login.toLowerCase())
  }

  gitIdentity(account: Account): gitOps.GitIdentity {
    const email = account.email ?? `${account.id}+${account.login}@users.noreply.github.com`
    return { name: account.name ?? account.login, email, time: Math.floor(this.now().getTime() / 1000) }
  }

  // ---------------------------------------------------------------- authorisation

  /**
   * Whether `token` may use `scope` at `access` on `repo`, as GitHub decides:
   * an installation token by its permissions (read of public repos always),
   * a user token by the user's role (opening PRs and commenting on public repos
   * by anyone signed in), capped by a fine-grained token's permissions.
   * Throws the HttpError GitHub would answer.
   */
  authorize(token: Token | undefined, repo: Repo, scope: Scope, access: Access, anyUser = false): void {
    if (!token) {
      if (repo.private) throw new HttpError(404, 'Not Found')
      if (access === 'read') return
      throw new HttpError(401, 'Requires authentication')
    }
    const name = fullName(repo)
    if (token.kind === 'installation') {
      const inScope = !token.repositories || token.repositories.some((r) => r.toLowerCase() === name.toLowerCase())
      if (!inScope) {
        if (repo.private) throw new HttpError(404, 'Not Found')
        if (access === 'read') return
        throw new HttpError(403, 'Resource not accessible by integration')
      }
      const granted = scope === 'metadata' ? 'read' : (token.permissions?.[scope] ?? 'none')
      if (RANK[granted] < RANK[access]) {
        if (repo.private && RANK[granted] === 0 && RANK[token.permissions?.contents ?? 'none'] === 0) throw new HttpError(404, 'Not Found')
        throw new HttpError(403, 'Resource not accessible by integration')
      }
      return
    }
    const role = this.role(repo, token.actor)
    if (repo.private && !role) throw new HttpError(404, 'Not Found')
    if (token.permissions && scope !== 'metadata') {
      const granted = token.permissions[scope] ?? 'none'
      if (RANK[granted] < RANK[access]) throw new HttpError(403, 'Resource not accessible by personal access token')
    }
    if (access === 'read') return
    if (anyUser && !repo.private) return
    if (!role || ROLE_ACCESS[role] !== 'write') throw new HttpError(403, `Must have push access to repository ${name}`)
  }

  // ---------------------------------------------------------------- events

  deliver(name: string, definition: string | undefined, payload: Record<string, unknown>, repo: Repo, causedBy: Delivery['causedBy']): Delivery {
    if (definition) for (const problem of checkWebhook(definition, payload)) this.mismatches.push(`event ${problem}`)
    const delivery: Delivery = { id: this.id(), name, payload, repo: fullName(repo), causedBy }
    this.deliveries.push(delivery)
    return delivery
  }

  /** The events delivered since the last call, oldest first. */
  takeDeliveries(): Delivery[] {
    return this.deliveries.splice(0)
  }

  causedBy(token: Token | undefined): Delivery['causedBy'] {
    if (!token) return { kind: 'system', login: 'system' }
    return { kind: token.kind, login: token.actor.login }
  }

  async pullStats(pull: Pull): Promise<PullStats> {
    const baseSha = await this.baseSha(pull)
    const key = `${pull.repo.dir}:${baseSha}..${pull.headSha}`
    const cached = this.statsCache.get(key)
    if (cached) return cached
    const files = await gitOps.changedFiles(pull.repo.dir, baseSha, pull.headSha)
    const commits = (await gitOps.revList(pull.repo.dir, `${baseSha}..${pull.headSha}`)).length
    const stats = {
      commits,
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      changedFiles: files.length,
    }
    this.statsCache.set(key, stats)
    return stats
  }

  async baseSha(pull: Pull): Promise<string> {
    return (await gitOps.resolveRef(pull.repo.dir, `refs/heads/${pull.baseRef}`)) ?? gitOps.ZERO_SHA
  }

  async deliverPull(action: Parameters<typeof pullRequestPayload>[1], pull: Pull, sender: Account, token: Token | undefined, extra: Parameters<typeof pullRequestPayload>[6] = {}): Promise<void> {
    const payload = pullRequestPayload(this.urls, action, pull, await this.baseSha(pull), await this.pullStats(pull), sender, extra)
    this.deliver('pull_request', `pull_request$${action}`, payload, pull.repo, this.causedBy(token))
  }

  /** Recomputes `refs/pull/N/merge` (the test merge GitHub checks out for pull_request runs) and `mergeable`. */
  async refreshTestMerge(pull: Pull): Promise<void> {
    const dir = pull.repo.dir
    const base = await gitOps.resolveRef(dir, `refs/heads/${pull.baseRef}`)
    if (!base || pull.state !== 'open') return
    const tree = await gitOps.mergeTree(dir, base, pull.headSha)
    pull.mergeable = tree !== undefined
    if (!tree) {
      await gitOps.deleteRef(dir, `refs/pull/${pull.number}/merge`).catch(() => {})
      return
    }
    const message = `Merge ${pull.headSha} into ${base}\n`
    const commit = await gitOps.commitTree(dir, tree, [base, pull.headSha], message, this.gitIdentity(pull.user), { name: 'GitHub', email: 'noreply@github.com', time: Math.floor(this.now().getTime() / 1000) })
    await gitOps.git(dir, ['update-ref', `refs/pull/${pull.number}/merge`, commit])
  }

  /**
   * After refs of `repo` moved (a push, a merge, an API ref update): push events,
   * pull requests whose head moved (`synchronize`), test merges of PRs on a moved base.
   */
  async refsChanged(repo: Repo, updates: Array<{ ref: string; before: string; after: string }>, token: Token | undefined): Promise<void> {
    if (updates.length === 0) return
    repo.pushedAt = this.stamp()
    const actor = token?.actor ?? this.requireAccount(BOT.login)
    for (const update of updates) {
      if (!update.ref.startsWith('refs/heads/') && !update.ref.startsWith('refs/tags/')) continue
      const forced = !/^0+$/.test(update.before) && !/^0+$/.test(update.after) && !(await gitOps.isAncestor(repo.dir, update.before, update.after))
      const commits = await this.pushedCommits(repo, update.ref, update.before, update.after)
      this.deliver('push', 'push$event', pushPayload(this.urls, repo, { ...update, forced }, commits, actor, actor), repo, this.causedBy(token))
      if (!update.ref.startsWith('refs/heads/')) continue
      const branch = update.ref.slice('refs/heads/'.length)
      for (const r of this.repos.values()) {
        for (const pull of r.pulls.values()) {
          if (pull.state !== 'open') continue
          if (pull.headRepo === repo && pull.headRef === branch && !/^0+$/.test(update.after)) {
            const before = pull.headSha
            pull.headSha = update.after
            pull.updatedAt = this.stamp()
            await gitOps.fetchInto(r.dir, repo.dir, update.after, `refs/pull/${pull.number}/head`)
            await this.refreshTestMerge(pull)
            await this.deliverPull('synchronize', pull, actor, token, { before, after: update.after })
          } else if (pull.repo === repo && pull.baseRef === branch) {
            await this.refreshTestMerge(pull)
          }
        }
      }
    }
  }

  private async pushedCommits(repo: Repo, ref: string, before: string, after: string): Promise<PushedCommit[]> {
    if (/^0+$/.test(after)) return []
    // A new branch's commits are those no other branch or tag has.
    const short = ref.replace(/^refs\/(heads|tags)\//, '')
    const range = /^0+$/.test(before) ? [after, '--not', `--exclude=${short}`, '--branches', `--exclude=${short}`, '--tags'] : [`${before}..${after}`]
    const shas = (await gitOps.git(repo.dir, ['rev-list', '--reverse', '--max-count=20', ...range]).catch(() => '')).split('\n').filter(Boolean)
    const commits: PushedCommit[] = []
    for (const sha of shas) {
      const info = await gitOps.readCommit(repo.dir, sha)
      if (!info) continue
      const files = info.parents[0] ? await gitOps.changedFiles(repo.dir, info.parents[0], sha) : []
      commits.push({
        ...headCommitOf(info),
        added: files.filter((f) => f.status === 'added').map((f) => f.filename),
        removed: files.filter((f) => f.status === 'removed').map((f) => f.filename),
        modified: files.filter((f) => f.status !== 'added' && f.status !== 'removed').map((f) => f.filename),
      })
    }
    return commits
  }

  // ---------------------------------------------------------------- Actions: runs and artifacts (the runner's side)

  /** Records a workflow run starting (the runner calls this); REST answers it from then on. */
  startRun(options: { repo: string; workflowPath: string; workflowName: string; event: string; headSha: string; headBranch: string | null; actor: string; pullRequests?: number[]; displayTitle?: string; headRepo?: string }): Run {
    const repo = this.requireRepo(options.repo)
    let workflow = repo.workflows.get(options.workflowPath)
    if (!workflow) {
      workflow = { id: this.id(), name: options.workflowName, path: options.workflowPath, createdAt: this.stamp() }
      repo.workflows.set(options.workflowPath, workflow)
    }
    const actor = this.account(options.actor) ?? this.requireAccount(BOT.login)
    const run: Run = {
      id: this.id(),
      repo,
      workflow,
      name: options.workflowName,
      displayTitle: options.displayTitle ?? options.workflowName,
      event: options.event,
      status: 'in_progress',
      conclusion: null,
      headSha: options.headSha,
      headBranch: options.headBranch,
      headRepo: options.headRepo ? this.requireRepo(options.headRepo) : repo,
      runNumber: repo.runs.filter((r) => r.workflow === workflow).length + 1,
      runAttempt: 1,
      actor,
      triggeringActor: actor,
      pullRequests: (options.pullRequests ?? []).map((n) => this.pull(options.repo, n)),
      createdAt: this.stamp(),
      updatedAt: this.stamp(),
      artifacts: [],
    }
    repo.runs.push(run)
    return run
  }

  /** Marks a run completed and delivers `workflow_run` `completed`. */
  async completeRun(run: Run, conclusion: NonNullable<Run['conclusion']>): Promise<void> {
    run.status = 'completed'
    run.conclusion = conclusion
    run.updatedAt = this.stamp()
    const headCommit = await this.headCommit(run.repo, run.headSha)
    const json = runJson(this.urls, run, headCommit)
    this.deliver('workflow_run', 'workflow_run$completed', workflowRunPayload(this.urls, run, json, headCommit, run.triggeringActor), run.repo, { kind: 'system', login: 'system' })
  }

  async headCommit(repo: Repo, sha: string): Promise<HeadCommit | null> {
    const info = await gitOps.readCommit(repo.dir, sha)
    return info ? headCommitOf(info) : null
  }

  /** Stores a zipped artifact against a run (what actions/upload-artifact's service does). */
  async addArtifact(run: Run, name: string, zip: Buffer): Promise<Artifact> {
    if (run.artifacts.some((a) => a.name === name)) throw new Error(`an artifact named ${name} already exists in run ${run.id}`)
    const id = this.id()
    const file = path.join(this.root, '_storage', 'artifacts', String(id))
    await fs.promises.mkdir(path.dirname(file), { recursive: true })
    await fs.promises.writeFile(file, zip)
    const created = this.now()
    const artifact: Artifact = {
      id,
      name,
      size: zip.length,
      digest: createHash('sha256').update(zip).digest('hex'),
      file,
      createdAt: timestamp(created),
      expiresAt: timestamp(new Date(created.getTime() + 90 * 86_400_000)),
      run,
    }
    run.artifacts.push(artifact)
    return artifact
  }

  findRun(id: number): Run | undefined {
    for (const repo of this.repos.values()) for (const run of repo.runs) if (run.id === id) return run
    return undefined
  }

  // ---------------------------------------------------------------- storage (signed, short-lived URLs)

  storageUrl(kind: 'artifacts' | 'releases', id: number): string {
    const expires = Math.floor(Date.now() / 1000) + 300
    const sig = createHash('sha256').update(`${this.storageKey}:${kind}:${id}:${expires}`).digest('hex').slice(0, 32)
    return `${this.urls.html}/_storage/${kind}/${id}?expires=${expires}&sig=${sig}`
  }

  private storageFile(kind: string, id: string, query: URLSearchParams): string | undefined {
    const expires = Number(query.get('expires'))
    const sig = createHash('sha256').update(`${this.storageKey}:${kind}:${id}:${expires}`).digest('hex').slice(0, 32)
    if (sig !== query.get('sig') || expires < Date.now() / 1000) return undefined
    if (kind === 'artifacts') return this.findArtifactFile(Number(id))
    for (const repo of this.repos.values()) for (const release of repo.releases) for (const asset of release.assets) if (asset.id === Number(id)) return asset.file
    return undefined
  }

  private findArtifactFile(id: number): string | undefined {
    for (const repo of this.repos.values()) for (const run of repo.runs) for (const a of run.artifacts) if (a.id === id) return a.file
    return undefined
  }

  // ---------------------------------------------------------------- HTTP

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    await fs.promises.rm(this.root, { recursive: true, force: true })
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.urls.html)
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, status: 0 }
    this.requests.push(record)
    // GitHub's Date header is GitHub's clock; here it is the emulator's, so a test that moves the clock moves it for clients too.
    res.setHeader('date', this.now().toUTCString())
    const started = performance.now()
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => http.ServerResponse
    res.writeHead = ((...args: unknown[]) => {
      const result = writeHead(...args)
      record.status = res.statusCode
      record.ms = Math.round(performance.now() - started)
      return result
    }) as typeof res.writeHead
    try {
      if (url.pathname.startsWith('/api/v3/')) return await this.rest(req, res, url, url.pathname.slice('/api/v3'.length), record)
      if (url.pathname.startsWith('/api/uploads/')) return await this.rest(req, res, url, url.pathname.slice('/api/uploads'.length), record)
      if (url.pathname.startsWith('/_storage/')) return await this.storage(res, url)
      const download = /^\/([^/]+)\/([^/]+)\/releases\/download\/([^/]+)\/([^/]+)$/.exec(url.pathname)
      if (download && req.method === 'GET') return this.releaseDownload(req, res, download.slice(1).map(decodeURIComponent) as [string, string, string, string])
      const gitPath = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(url.pathname)
      if (gitPath) return await this.gitHttp(req, res, url, gitPath[1]!, gitPath[2]!, gitPath[3]!)
      this.unimplemented.push(`${req.method} ${url.pathname}`)
      send(res, 404, errorBody(404, `The emulator does not implement ${req.method} ${url.pathname}`))
    } catch (e) {
      if (!res.headersSent) send(res, 500, errorBody(500, `emulator error: ${(e as Error).stack ?? e}`))
      else res.destroy()
    }
  }

  private async rest(req: http.IncomingMessage, res: http.ServerResponse, url: URL, apiPath: string, record: RequestRecord): Promise<void> {
    const method = req.method ?? 'GET'
    let route: RouteDef | undefined
    let params: Record<string, string> | undefined
    for (const def of this.table) {
      if (def.method !== method) continue
      params = matchTemplate(def.template, apiPath)
      if (params) {
        route = def
        break
      }
    }
    if (!route || !params) {
      this.unimplemented.push(`${method} ${apiPath}`)
      send(res, 404, errorBody(404, `The emulator does not implement ${method} ${apiPath}`))
      return
    }
    record.operationId = this.validator.operation(method, route.template)?.operationId
    const rawBody = await readBody(req)
    const reply = await this.answer(route, params, req, url, rawBody)
    const problems = this.validator.checkResponse(method, route.template, reply.status, reply.body, reply.headers ?? {})
    for (const p of problems) this.mismatches.push(`response ${method} ${apiPath}: ${p}`)
    send(res, reply.status, reply.body, reply.headers)
  }

  private async answer(route: RouteDef, params: Record<string, string>, req: http.IncomingMessage, url: URL, rawBody: Buffer): Promise<Reply> {
    try {
      if (this.limits && this.limits.remaining > 0) {
        this.limits.remaining--
        const { kind, seconds } = this.limits
        const reset = Math.floor(Date.now() / 1000) + seconds
        if (kind === 'primary') {
          throw new HttpError(403, 'API rate limit exceeded for installation.', {}, { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset), 'x-ratelimit-resource': 'core' })
        }
        throw new HttpError(403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', {}, { 'retry-after': String(seconds) })
      }
      const token = this.tokenOf(req.headers.authorization)
      if (req.headers.authorization && !token) throw new HttpError(401, 'Bad credentials')
      const isUpload = url.pathname.startsWith('/api/uploads/')
      let body: unknown
      if (!isUpload && rawBody.length > 0) {
        try {
          body = JSON.parse(rawBody.toString('utf8'))
        } catch {
          throw new HttpError(400, 'Problems parsing JSON')
        }
        const problems = this.validator.checkRequest(req.method ?? 'GET', route.template, body)
        if (problems.length > 0) {
          this.mismatches.push(...problems.map((p) => `request ${req.method} ${url.pathname}: ${p}`))
          throw new HttpError(422, 'Invalid request.', { errors: problems })
        }
      }
      let repo: Repo | undefined
      if (params.owner && params.repo) {
        repo = this.repo(`${params.owner}/${params.repo}`)
        if (!repo) throw new HttpError(404, 'Not Found')
        this.authorize(token, repo, 'metadata', 'read')
        if (route.scope) {
          try {
            this.authorize(token, repo, route.scope, route.access, route.anyUser)
          } catch (e) {
            if (!route.altScope) throw e
            this.authorize(token, repo, route.altScope, route.access, route.anyUser)
          }
        }
      } else if (route.scope === 'members' && token?.kind === 'installation' && RANK[token.permissions?.members ?? 'none'] < RANK.read) {
        throw new HttpError(403, 'Resource not accessible by integration')
      }
      const request: RouteRequest = {
        method: req.method ?? 'GET',
        template: route.template,
        params,
        query: url.searchParams,
        body,
        rawBody,
        headers: req.headers,
        token,
        repo: repo as Repo,
        actor: token?.actor,
        url,
      }
      return await route.handler(request)
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, body: errorBody(e.status, e.message, e.extra), headers: e.headers }
      throw e
    }
  }

  tokenOf(authorization: string | undefined): Token | undefined {
    if (!authorization) return undefined
    const [scheme, value] = authorization.split(/\s+/, 2)
    if (!value) return undefined
    if (/^(token|bearer)$/i.test(scheme ?? '')) return this.tokens.get(value)
    if (/^basic$/i.test(scheme ?? '')) {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      const user = colon < 0 ? decoded : decoded.slice(0, colon)
      const password = colon < 0 ? '' : decoded.slice(colon + 1)
      return this.tokens.get(password) ?? this.tokens.get(user)
    }
    return undefined
  }

  private async gitHttp(req: http.IncomingMessage, res: http.ServerResponse, url: URL, owner: string, name: string, endpoint: string): Promise<void> {
    const repo = this.repo(`${owner}/${name}`)
    const service = endpoint === 'info/refs' ? url.searchParams.get('service') : endpoint
    if (!repo || Date.now() < repo.readyAt || (service !== 'git-upload-pack' && service !== 'git-receive-pack')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Repository not found.\n')
      return
    }
    const token = this.tokenOf(req.headers.authorization)
    const write = service === 'git-receive-pack'
    if (!token && (repo.private || write)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' }).end('Authentication required.\n')
      return
    }
    try {
      this.authorize(token, repo, 'contents', write ? 'write' : 'read')
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 403
      const who = token?.actor.login ?? 'anonymous'
      res.writeHead(status === 404 ? 404 : 403, { 'content-type': 'text/plain' }).end(status === 404 ? 'Repository not found.\n' : `Permission to ${fullName(repo)}.git denied to ${who}.\n`)
      return
    }
    const cgi = () =>
      gitOps.httpBackend(
        this.root,
        {
          method: req.method ?? 'GET',
          pathInfo: `/${repo.owner.login}/${repo.name}.git/${endpoint}`,
          query: url.search.slice(1),
          contentType: req.headers['content-type'],
          contentEncoding: req.headers['content-encoding'] as string | undefined,
          gitProtocol: req.headers['git-protocol'] as string | undefined,
          remoteUser: token?.actor.login,
        },
        req,
      )
    if (!(write && req.method === 'POST')) {
      const out = await cgi()
      res.writeHead(out.status, out.headers)
      await pipeline(out.body, res)
      return
    }
    await serialised(repo, async () => {
      const before = await gitOps.listRefs(repo.dir, 'refs/')
      const out = await cgi()
      // The report is small; hold it until the events of this push exist, so a pusher that
      // looks right after its push finds them (GitHub delivers within moments).
      const chunks: Buffer[] = []
      for await (const chunk of out.body) chunks.push(chunk as Buffer)
      const after = await gitOps.listRefs(repo.dir, 'refs/')
      const updates: Array<{ ref: string; before: string; after: string }> = []
      for (const ref of new Set([...before.keys(), ...after.keys()])) {
        const b = before.get(ref) ?? gitOps.ZERO_SHA
        const a = after.get(ref) ?? gitOps.ZERO_SHA
        if (a !== b) updates.push({ ref, before: b, after: a })
      }
      await this.refsChanged(repo, updates, token)
      res.writeHead(out.status, out.headers).end(Buffer.concat(chunks))
    })
  }

  private releaseDownload(req: http.IncomingMessage, res: http.ServerResponse, [owner, name, tag, file]: [string, string, string, string]): void {
    const repo = this.repo(`${owner}/${name}`)
    const token = this.tokenOf(req.headers.authorization)
    let visible = !!repo
    if (repo) {
      try {
        this.authorize(token, repo, 'contents', 'read')
      } catch {
        visible = false
      }
    }
    const release = visible ? repo!.releases.find((r) => r.tag === tag && !r.draft) : undefined
    const asset = release?.assets.find((a) => a.name === file)
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found')
      return
    }
    asset.downloadCount++
    res.writeHead(302, { location: this.storageUrl('releases', asset.id) }).end()
  }

  private async storage(res: http.ServerResponse, url: URL): Promise<void> {
    const [, , kind, id] = url.pathname.split('/')
    const file = kind && id ? this.storageFile(kind, id, url.searchParams) : undefined
    if (!file) {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<Error><Code>AuthenticationFailed</Code></Error>')
      return
    }
    const stat = await fs.promises.stat(file)
    res.writeHead(200, { 'content-type': kind === 'artifacts' ? 'application/zip' : 'application/octet-stream', 'content-length': String(stat.size) })
    await pipeline(fs.createReadStream(file), res)
  }
}

function headCommitOf(info: gitOps.CommitInfo): HeadCommit {
  return {
    id: info.sha,
    treeId: info.tree,
    message: info.message,
    timestamp: info.committer.date,
    author: { name: info.author.name, email: info.author.email },
    committer: { name: info.committer.name, email: info.committer.email },
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  const all: Record<string, string> = { 'x-github-api-version-selected': '2022-11-28', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', ...headers }
  if (text) all['content-type'] = 'application/json; charset=utf-8'
  res.writeHead(status, all).end(text)
}

function readBody(req: http.IncomingMessage, limit = 2 * 1024 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) req.destroy(new Error('body too large'))
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Starts an emulator on 127.0.0.1, port 0, with its repos in a new temp directory. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-gh-emu-'))
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const emulator = new Emulator(server, root, (server.address() as AddressInfo).port, options)
  server.on('request', (req, res) => void emulator.handle(req, res))
  return emulator
}

export type { Label }
