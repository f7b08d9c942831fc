/**
 * The REST endpoints the emulator implements: only those `src/github/` calls.
 * Pull requests, reviews, comments, labels, users, teams and Actions runs here;
 * repositories, forks, the Git Data API and releases in routes-git.ts.
 */
import type { Emulator } from './emulator.js'
import * as gitOps from './git.js'
import { HttpError, intParam, jsonBody, notFound, paginate, validationFailed, type RouteDef, type RouteRequest } from './http.js'
import { gitRoutes } from './routes-git.js'
import {
  artifactJson,
  commentJson,
  labelJson,
  publicUserJson,
  pullJson,
  pullSimpleJson,
  reviewJson,
  runJson,
  userJson,
} from './shapes.js'
import { fullName, serialised, type Account, type Label, type Pull, type Repo, type Review } from './state.js'

export function routes(emu: Emulator): RouteDef[] {
  return [...pullRoutes(emu), ...issueRoutes(emu), ...userRoutes(emu), ...actionsRoutes(emu), ...gitRoutes(emu)]
}

export function pullOf(req: RouteRequest, name = 'pull_number'): Pull {
  const pull = req.repo.pulls.get(intParam(req, name))
  if (!pull) throw notFound()
  return pull
}

function actorOf(req: RouteRequest): Account {
  if (!req.actor) throw new HttpError(401, 'Requires authentication')
  return req.actor
}

function pullRoutes(emu: Emulator): RouteDef[] {
  const full = async (pull: Pull) => pullJson(emu.urls, pull, await emu.baseSha(pull), await emu.pullStats(pull))
  return [
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/pulls',
      scope: 'pull-requests',
      access: 'read',
      async handler(req) {
        const state = req.query.get('state') ?? 'open'
        const head = req.query.get('head')
        const base = req.query.get('base')
        let pulls = [...req.repo.pulls.values()].filter((p) => state === 'all' || p.state === state)
        if (head) pulls = pulls.filter((p) => `${p.headRepo.owner.login}:${p.headRef}`.toLowerCase() === head.toLowerCase())
        if (base) pulls = pulls.filter((p) => p.baseRef === base)
        pulls.sort((a, b) => (req.query.get('direction') === 'asc' ? a.number - b.number : b.number - a.number))
        const page = paginate(req, pulls)
        const body = []
        for (const p of page.items) body.push(pullSimpleJson(emu.urls, p, await emu.baseSha(p)))
        return { status: 200, body, headers: page.headers }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/pulls/{pull_number}',
      scope: 'pull-requests',
      access: 'read',
      async handler(req) {
        return { status: 200, body: await full(pullOf(req)) }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/pulls',
      scope: 'pull-requests',
      access: 'write',
      anyUser: true,
      async handler(req) {
        const actor = actorOf(req)
        const body = jsonBody(req)
        const base = String(body.base ?? '')
        const headSpec = String(body.head ?? '')
        const [headOwner, headRef] = headSpec.includes(':') ? (headSpec.split(':', 2) as [string, string]) : [req.repo.owner.login, headSpec]
        const headRepo = headRepoFor(emu, req.repo, headOwner, body.head_repo as string | undefined)
        if (!body.title) throw validationFailed('PullRequest', 'title', 'missing_field')
        if (!(await gitOps.resolveRef(req.repo.dir, `refs/heads/${base}`))) throw validationFailed('PullRequest', 'base', 'invalid')
        const headSha = headRepo && (await gitOps.resolveRef(headRepo.dir, `refs/heads/${headRef}`))
        if (!headRepo || !headSha) throw validationFailed('PullRequest', 'head', 'invalid')
        for (const p of req.repo.pulls.values()) {
          if (p.state === 'open' && p.headRepo === headRepo && p.headRef === headRef && p.baseRef === base) {
            throw validationFailed('PullRequest', 'head', 'custom', `A pull request already exists for ${headRepo.owner.login}:${headRef}.`)
          }
        }
        return serialised(req.repo, async () => {
          const number = ++req.repo.issueCounter
          await gitOps.fetchInto(req.repo.dir, headRepo.dir, headSha, `refs/pull/${number}/head`)
          const baseSha = (await gitOps.resolveRef(req.repo.dir, `refs/heads/${base}`))!
          if (await gitOps.isAncestor(req.repo.dir, headSha, baseSha)) {
            await gitOps.deleteRef(req.repo.dir, `refs/pull/${number}/head`)
            req.repo.issueCounter--
            throw validationFailed('PullRequest', 'base', 'custom', `No commits between ${base} and ${headRef}`)
          }
          const pull: Pull = {
            id: emu.id(),
            number,
            repo: req.repo,
            title: String(body.title),
            body: typeof body.body === 'string' ? body.body : null,
            user: actor,
            headRepo,
            headRef,
            headSha,
            baseRef: base,
            state: 'open',
            draft: body.draft === true,
            merged: false,
            mergedAt: null,
            mergedBy: null,
            mergeCommitSha: null,
            mergeable: null,
            labels: [],
            reviews: [],
            createdAt: emu.stamp(),
            updatedAt: emu.stamp(),
            closedAt: null,
            maintainerCanModify: body.maintainer_can_modify !== false && headRepo !== req.repo,
          }
          req.repo.pulls.set(number, pull)
          await emu.refreshTestMerge(pull)
          await emu.deliverPull('opened', pull, actor, req.token)
          return { status: 201, body: await full(pull) }
        })
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/pulls/{pull_number}/files',
      scope: 'pull-requests',
      access: 'read',
      async handler(req) {
        const pull = pullOf(req)
        const base = pull.merged && pull.mergeCommitSha ? `${pull.mergeCommitSha}^1` : await emu.baseSha(pull)
        const files = (await gitOps.changedFiles(req.repo.dir, base, `refs/pull/${pull.number}/head`)).slice(0, 3000)
        const page = paginate(req, files)
        const name = fullName(pull.headRepo)
        const body = page.items.map((f) => {
          const entry: Record<string, unknown> = {
            sha: f.sha,
            filename: f.filename,
            status: f.status,
            additions: f.additions,
            deletions: f.deletions,
            changes: f.additions + f.deletions,
            blob_url: `${emu.urls.html}/${name}/blob/${pull.headSha}/${encodeURI(f.filename)}`,
            raw_url: `${emu.urls.html}/${name}/raw/${pull.headSha}/${encodeURI(f.filename)}`,
            contents_url: `${emu.urls.api}/repos/${name}/contents/${encodeURI(f.filename)}?ref=${pull.headSha}`,
          }
          if (f.previousFilename) entry.previous_filename = f.previousFilename
          return entry
        })
        return { status: 200, body, headers: page.headers }
      },
    },
    {
      method: 'PUT',
      template: '/repos/{owner}/{repo}/pulls/{pull_number}/merge',
      scope: 'contents',
      access: 'write',
      async handler(req) {
        const actor = actorOf(req)
        const pull = pullOf(req)
        const body = jsonBody(req)
        return serialised(req.repo, async () => {
          if (pull.state !== 'open') throw new HttpError(405, 'Pull Request is not mergeable')
          if (typeof body.sha === 'string' && body.sha !== pull.headSha) throw new HttpError(409, 'Head branch was modified. Review and try the merge again.')
          const dir = req.repo.dir
          const baseRef = `refs/heads/${pull.baseRef}`
          const base = await gitOps.resolveRef(dir, baseRef)
          if (!base) throw new HttpError(405, 'Base branch does not exist')
          const method = String(body.merge_method ?? 'merge')
          const title = typeof body.commit_title === 'string' ? body.commit_title : undefined
          const extra = typeof body.commit_message === 'string' ? body.commit_message : undefined
          const author = emu.gitIdentity(actor)
          const committer = { name: 'GitHub', email: 'noreply@github.com', time: author.time }
          let commit: string | undefined
          if (method === 'rebase') {
            let tip = base
            for (const sha of await gitOps.revList(dir, `${base}..${pull.headSha}`)) {
              const info = (await gitOps.readCommit(dir, sha))!
              const tree = await gitOps.mergeTree(dir, tip, sha, info.parents[0])
              if (!tree) throw new HttpError(405, 'Pull Request is not mergeable')
              const original = { name: info.author.name, email: info.author.email, time: Date.parse(info.author.date) / 1000 }
              tip = await gitOps.commitTree(dir, tree, [tip], info.message, original, committer)
            }
            commit = tip
          } else {
            const tree = await gitOps.mergeTree(dir, base, pull.headSha)
            if (!tree) throw new HttpError(405, 'Pull Request is not mergeable')
            if (method === 'squash') {
              const message = `${title ?? `${pull.title} (#${pull.number})`}\n\n${extra ?? ''}`.trimEnd() + '\n'
              commit = await gitOps.commitTree(dir, tree, [base], message, author, committer)
            } else {
              const message = `${title ?? `Merge pull request #${pull.number} from ${pull.headRepo.owner.login}/${pull.headRef}`}\n\n${extra ?? pull.title}\n`
              commit = await gitOps.commitTree(dir, tree, [base, pull.headSha], message, author, committer)
            }
          }
          if (!(await gitOps.compareAndSwapRef(dir, baseRef, commit, base))) throw new HttpError(409, 'Base branch was modified. Review and try the merge again.')
          pull.state = 'closed'
          pull.merged = true
          pull.mergedAt = emu.stamp()
          pull.closedAt = pull.mergedAt
          pull.updatedAt = pull.mergedAt
          pull.mergedBy = actor
          pull.mergeCommitSha = commit
          await emu.refsChanged(req.repo, [{ ref: baseRef, before: base, after: commit }], req.token)
          await emu.deliverPull('closed', pull, actor, req.token)
          return { status: 200, body: { sha: commit, merged: true, message: 'Pull Request successfully merged' } }
        })
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews',
      scope: 'pull-requests',
      access: 'read',
      handler(req) {
        const pull = pullOf(req)
        const page = paginate(req, pull.reviews)
        return { status: 200, body: page.items.map((r) => reviewJson(emu.urls, pull, r)), headers: page.headers }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews',
      scope: 'pull-requests',
      access: 'write',
      anyUser: true,
      handler(req) {
        const actor = actorOf(req)
        const pull = pullOf(req)
        const body = jsonBody(req)
        const states: Record<string, Review['state']> = { APPROVE: 'APPROVED', REQUEST_CHANGES: 'CHANGES_REQUESTED', COMMENT: 'COMMENTED' }
        const state = states[String(body.event ?? '')] ?? 'PENDING'
        if (actor.login === pull.user.login && state !== 'COMMENTED' && state !== 'PENDING') {
          throw new HttpError(422, 'Unprocessable Entity', { errors: [`Can not ${state === 'APPROVED' ? 'approve' : 'request changes on'} your own pull request`] })
        }
        const review: Review = { id: emu.id(), user: actor, state, body: String(body.body ?? ''), commitId: String(body.commit_id ?? pull.headSha), submittedAt: emu.stamp() }
        pull.reviews.push(review)
        return { status: 200, body: reviewJson(emu.urls, pull, review) }
      },
    },
  ]
}

/** The repository `owner:branch` names for a PR on `base`: base itself, or `owner`'s repo in the same fork network. */
function headRepoFor(emu: Emulator, base: Repo, owner: string, explicitName: string | undefined): Repo | undefined {
  if (owner.toLowerCase() === base.owner.login.toLowerCase() && !explicitName) return base
  const network = (r: Repo) => {
    let root = r
    while (root.forkOf) root = root.forkOf
    return root
  }
  for (const repo of emu.repos.values()) {
    if (repo.owner.login.toLowerCase() !== owner.toLowerCase()) continue
    if (explicitName && repo.name !== explicitName) continue
    if (network(repo) === network(base)) return repo
  }
  return undefined
}

function issueRoutes(emu: Emulator): RouteDef[] {
  const labelsOf = (req: RouteRequest) => pullOf(req, 'issue_number').labels.map((l) => labelJson(emu.urls, req.repo, l))
  const MAX_BODY = 65536
  const commentBody = (req: RouteRequest) => {
    const body = String(jsonBody(req).body ?? '')
    if (!body) throw validationFailed('IssueComment', 'body', 'missing_field')
    if (body.length > MAX_BODY) throw validationFailed('IssueComment', 'body', 'custom', `Body is too long (maximum is ${MAX_BODY} characters)`)
    return body
  }
  return [
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'read',
      handler(req) {
        const number = pullOf(req, 'issue_number').number
        const page = paginate(
          req,
          req.repo.comments.filter((c) => c.issue === number),
        )
        return { status: 200, body: page.items.map((c) => commentJson(emu.urls, req.repo, c)), headers: page.headers }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'write',
      anyUser: true,
      handler(req) {
        const actor = actorOf(req)
        const number = pullOf(req, 'issue_number').number
        const body = commentBody(req)
        const comment = { id: emu.id(), issue: number, user: actor, body, createdAt: emu.stamp(), updatedAt: emu.stamp() }
        req.repo.comments.push(comment)
        return { status: 201, body: commentJson(emu.urls, req.repo, comment) }
      },
    },
    {
      method: 'PATCH',
      template: '/repos/{owner}/{repo}/issues/comments/{comment_id}',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'write',
      anyUser: true,
      handler(req) {
        const actor = actorOf(req)
        const comment = req.repo.comments.find((c) => c.id === intParam(req, 'comment_id'))
        if (!comment) throw notFound()
        if (req.token?.kind === 'user' && comment.user.id !== actor.id && emu.role(req.repo, actor) === undefined) throw new HttpError(403, 'Must have admin rights to Repository.')
        comment.body = commentBody(req)
        comment.updatedAt = emu.stamp()
        return { status: 200, body: commentJson(emu.urls, req.repo, comment) }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/issues/{issue_number}/labels',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'read',
      handler(req) {
        const page = paginate(req, labelsOf(req))
        return { status: 200, body: page.items, headers: page.headers }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/issues/{issue_number}/labels',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'write',
      async handler(req) {
        const pull = pullOf(req, 'issue_number')
        const body = req.body as { labels?: unknown } | string[] | undefined
        const names = Array.isArray(body) ? body : Array.isArray(body?.labels) ? body.labels : undefined
        if (!names || names.length === 0 || names.some((n) => typeof n !== 'string' || n === '')) throw validationFailed('Label', 'labels', 'invalid')
        for (const name of names as string[]) {
          if (pull.labels.some((l) => l.name.toLowerCase() === name.toLowerCase())) continue
          // GitHub creates a label that does not exist yet when it is added to an issue.
          const label = req.repo.labels.get(name.toLowerCase()) ?? createLabel(emu, req.repo, name, 'ededed', null)
          pull.labels.push(label)
          await emu.deliverPull('labeled', pull, actorOf(req), req.token, { label })
        }
        return { status: 200, body: labelsOf(req) }
      },
    },
    {
      method: 'DELETE',
      template: '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'write',
      async handler(req) {
        const pull = pullOf(req, 'issue_number')
        const index = pull.labels.findIndex((l) => l.name.toLowerCase() === (req.params.name ?? '').toLowerCase())
        if (index < 0) throw new HttpError(404, 'Label does not exist')
        const [label] = pull.labels.splice(index, 1)
        await emu.deliverPull('unlabeled', pull, actorOf(req), req.token, { label: label! })
        return { status: 200, body: labelsOf(req) }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/labels/{name}',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'read',
      handler(req) {
        const label = req.repo.labels.get((req.params.name ?? '').toLowerCase())
        if (!label) throw notFound()
        return { status: 200, body: labelJson(emu.urls, req.repo, label) }
      },
    },
    {
      method: 'POST',
      template: '/repos/{owner}/{repo}/labels',
      scope: 'issues',
      altScope: 'pull-requests',
      access: 'write',
      handler(req) {
        const body = jsonBody(req)
        const name = String(body.name ?? '')
        if (!name) throw validationFailed('Label', 'name', 'missing_field')
        if (req.repo.labels.has(name.toLowerCase())) throw validationFailed('Label', 'name', 'already_exists')
        const color = String(body.color ?? 'ededed').replace(/^#/, '')
        if (!/^[0-9a-fA-F]{6}$/.test(color)) throw validationFailed('Label', 'color', 'invalid')
        const label = createLabel(emu, req.repo, name, color, typeof body.description === 'string' ? body.description : null)
        return { status: 201, body: labelJson(emu.urls, req.repo, label) }
      },
    },
  ]
}

function createLabel(emu: Emulator, repo: Repo, name: string, color: string, description: string | null): Label {
  const label: Label = { id: emu.id(), name, color: color.toLowerCase(), description, default: false }
  repo.labels.set(name.toLowerCase(), label)
  return label
}

function userRoutes(emu: Emulator): RouteDef[] {
  const profile = (user: Account | undefined) => {
    if (!user || user.type === 'Bot') throw notFound()
    const publicRepos = [...emu.repos.values()].filter((r) => r.owner === user && !r.private).length
    return { status: 200, body: publicUserJson(emu.urls, user, { publicRepos }) }
  }
  return [
    {
      method: 'GET',
      template: '/user',
      scope: null,
      access: 'read',
      handler(req) {
        // The account a token acts for; an app's installation token (a workflow's github.token) has none to show.
        if (!req.token) throw new HttpError(401, 'Requires authentication')
        if (req.token.kind === 'installation') throw new HttpError(403, 'Resource not accessible by integration')
        return profile(req.token.actor)
      },
    },
    { method: 'GET', template: '/users/{username}', scope: null, access: 'read', handler: (req) => profile(emu.account(req.params.username ?? '')) },
    { method: 'GET', template: '/user/{account_id}', scope: null, access: 'read', handler: (req) => profile(emu.accountById(intParam(req, 'account_id'))) },
    {
      method: 'GET',
      template: '/orgs/{org}/teams/{team_slug}/memberships/{username}',
      scope: 'members',
      access: 'read',
      handler(req) {
        const org = req.params.org ?? ''
        const team = emu.teams.get(`${org.toLowerCase()}/${req.params.team_slug}`)
        if (!team) throw notFound()
        if (req.token?.kind === 'user') {
          const viewer = req.token.actor.login.toLowerCase()
          const inOrg = [...emu.teams.values()].some((t) => t.org === team.org && t.members.has(viewer))
          if (!inOrg) throw notFound()
        } else if (!req.token) throw notFound()
        const member = team.members.get((req.params.username ?? '').toLowerCase())
        if (!member) throw notFound()
        const username = emu.account(req.params.username ?? '')?.login ?? req.params.username
        return {
          status: 200,
          body: { url: `${emu.urls.api}/organizations/${team.org.id}/team/${team.id}/memberships/${username}`, role: member.role, state: member.state },
        }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/collaborators/{username}/permission',
      scope: 'metadata',
      access: 'read',
      handler(req) {
        const user = emu.account(req.params.username ?? '')
        if (!user) throw notFound()
        const role = emu.role(req.repo, user)
        const permission = role === 'admin' ? 'admin' : role === 'maintain' || role === 'write' ? 'write' : role ? 'read' : req.repo.private ? 'none' : 'read'
        const roleName = role ?? (permission === 'none' ? 'none' : 'read')
        const permissions = { admin: permission === 'admin', maintain: role === 'maintain' || role === 'admin', push: permission === 'admin' || permission === 'write', triage: !!role, pull: permission !== 'none' }
        return { status: 200, body: { permission, role_name: roleName, user: { ...userJson(emu.urls, user), permissions, role_name: roleName } } }
      },
    },
  ]
}

function actionsRoutes(emu: Emulator): RouteDef[] {
  const runOf = (req: RouteRequest) => {
    const run = req.repo.runs.find((r) => r.id === intParam(req, 'run_id'))
    if (!run) throw notFound()
    return run
  }
  return [
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/actions/runs',
      scope: 'actions',
      access: 'read',
      async handler(req) {
        const q = req.query
        let runs = [...req.repo.runs].reverse()
        if (q.get('head_sha')) runs = runs.filter((r) => r.headSha === q.get('head_sha'))
        if (q.get('event')) runs = runs.filter((r) => r.event === q.get('event'))
        if (q.get('branch')) runs = runs.filter((r) => r.headBranch === q.get('branch'))
        if (q.get('actor')) runs = runs.filter((r) => r.actor.login === q.get('actor'))
        const status = q.get('status')
        if (status) runs = runs.filter((r) => r.status === status || r.conclusion === status)
        const page = paginate(req, runs)
        const workflow_runs = []
        for (const run of page.items) workflow_runs.push(runJson(emu.urls, run, await emu.headCommit(run.repo, run.headSha)))
        return { status: 200, body: { total_count: runs.length, workflow_runs }, headers: page.headers }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/actions/runs/{run_id}',
      scope: 'actions',
      access: 'read',
      async handler(req) {
        const run = runOf(req)
        return { status: 200, body: runJson(emu.urls, run, await emu.headCommit(run.repo, run.headSha)) }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts',
      scope: 'actions',
      access: 'read',
      handler(req) {
        const name = req.query.get('name')
        const artifacts = runOf(req).artifacts.filter((a) => !name || a.name === name)
        const page = paginate(req, artifacts)
        return { status: 200, body: { total_count: artifacts.length, artifacts: page.items.map((a) => artifactJson(emu.urls, req.repo, a)) }, headers: page.headers }
      },
    },
    {
      method: 'GET',
      template: '/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}',
      scope: 'actions',
      access: 'read',
      handler(req) {
        if (req.params.archive_format !== 'zip') throw notFound()
        const id = intParam(req, 'artifact_id')
        const artifact = req.repo.runs.flatMap((r) => r.artifacts).find((a) => a.id === id)
        if (!artifact) throw notFound()
        return { status: 302, headers: { location: emu.storageUrl('artifacts', artifact.id) } }
      },
    },
  ]
}
