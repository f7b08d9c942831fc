/**
 * The emulator's state rendered as GitHub's REST JSON. Every object carries the
 * fields GitHub's description requires (the validator holds the emulator to it),
 * with URLs on the emulator's own host in GitHub Enterprise Server's layout:
 * API under `/api/v3`, uploads under `/api/uploads`, web and git at the root.
 */
import type { Account, Artifact, Asset, Comment, Label, Pull, Release, Repo, Review, Run } from './state.js'
import { fullName } from './state.js'

export interface Urls {
  /** The web and git host, e.g. http://127.0.0.1:PORT */
  html: string
  /** The REST API root, `${html}/api/v3` */
  api: string
  /** The uploads root, `${html}/api/uploads` */
  uploads: string
}

export function nodeId(kind: string, id: number): string {
  return Buffer.from(`0:${kind}${id}`).toString('base64').replace(/=+$/, '')
}

export function userJson(urls: Urls, user: Account): Record<string, unknown> {
  const api = `${urls.api}/users/${encodeURIComponent(user.login)}`
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type, user.id),
    avatar_url: `${urls.html}/avatars/u/${user.id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: user.type === 'Bot' ? `${urls.html}/apps/${user.login.replace('[bot]', '')}` : `${urls.html}/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    user_view_type: 'public',
    site_admin: false,
  }
}

/** `GET /users/{username}`: the public profile. */
export function publicUserJson(urls: Urls, user: Account, counts: { publicRepos: number }): Record<string, unknown> {
  return {
    ...userJson(urls, user),
    name: user.name,
    company: null,
    blog: '',
    location: null,
    email: user.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: counts.publicRepos,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: user.createdAt,
    updated_at: user.createdAt,
  }
}

export function repoJson(urls: Urls, repo: Repo): Record<string, unknown> {
  const name = fullName(repo)
  const api = `${urls.api}/repos/${name}`
  const json: Record<string, unknown> = {
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: name,
    private: repo.private,
    owner: userJson(urls, repo.owner),
    html_url: `${urls.html}/${name}`,
    description: repo.description,
    fork: repo.forkOf !== undefined,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `${urls.html.replace(/^http/, 'git')}/${name}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@${new URL(urls.html).host}:${name}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${urls.html}/${name}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: `${urls.html}/${name}`,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues(repo),
    open_issues: openIssues(repo),
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? 'private' : 'public',
    pushed_at: repo.pushedAt,
    created_at: repo.createdAt,
    updated_at: repo.pushedAt,
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
    network_count: 0,
    subscribers_count: 0,
  }
  if (repo.forkOf) {
    json.parent = repoJson(urls, repo.forkOf)
    json.source = repoJson(urls, root(repo))
  }
  return json
}

function root(repo: Repo): Repo {
  let r = repo
  while (r.forkOf) r = r.forkOf
  return r
}

function openIssues(repo: Repo): number {
  let n = 0
  for (const pull of repo.pulls.values()) if (pull.state === 'open') n++
  return n
}

export function labelJson(urls: Urls, repo: Repo, label: Label): Record<string, unknown> {
  return {
    id: label.id,
    node_id: nodeId('Label', label.id),
    url: `${urls.api}/repos/${fullName(repo)}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: label.default,
  }
}

export function authorAssociation(repo: Repo, user: Account): string {
  if (user.login === repo.owner.login) return 'OWNER'
  if (repo.collaborators.has(user.login)) return 'COLLABORATOR'
  for (const pull of repo.pulls.values()) if (pull.user.login === user.login && pull.merged) return 'CONTRIBUTOR'
  return 'NONE'
}

function branchJson(urls: Urls, repo: Repo, ref: string, sha: string): Record<string, unknown> {
  return { label: `${repo.owner.login}:${ref}`, ref, sha, user: userJson(urls, repo.owner), repo: repoJson(urls, repo) }
}

/** A pull request as `pulls/list` renders it (`pull-request-simple`). */
export function pullSimpleJson(urls: Urls, pull: Pull, baseSha: string): Record<string, unknown> {
  const name = fullName(pull.repo)
  const api = `${urls.api}/repos/${name}`
  const html = `${urls.html}/${name}/pull/${pull.number}`
  return {
    url: `${api}/pulls/${pull.number}`,
    id: pull.id,
    node_id: nodeId('PullRequest', pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(urls, pull.user),
    body: pull.body,
    labels: pull.labels.map((l) => labelJson(urls, pull.repo, l)),
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branchJson(urls, pull.headRepo, pull.headRef, pull.headSha),
    base: branchJson(urls, pull.repo, pull.baseRef, baseSha),
    _links: {
      self: { href: `${api}/pulls/${pull.number}` },
      html: { href: html },
      issue: { href: `${api}/issues/${pull.number}` },
      comments: { href: `${api}/issues/${pull.number}/comments` },
      review_comments: { href: `${api}/pulls/${pull.number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${pull.number}/commits` },
      statuses: { href: `${api}/statuses/${pull.headSha}` },
    },
    author_association: authorAssociation(pull.repo, pull.user),
    auto_merge: null,
    draft: pull.draft,
  }
}

export interface PullStats {
  commits: number
  additions: number
  deletions: number
  changedFiles: number
}

/** A pull request as `pulls/get` renders it. */
export function pullJson(urls: Urls, pull: Pull, baseSha: string, stats: PullStats): Record<string, unknown> {
  return {
    ...pullSimpleJson(urls, pull, baseSha),
    merged: pull.merged,
    mergeable: pull.state === 'open' ? pull.mergeable : null,
    rebaseable: pull.state === 'open' ? pull.mergeable : null,
    mergeable_state: pull.state !== 'open' ? 'unknown' : pull.mergeable === null ? 'unknown' : pull.mergeable ? 'clean' : 'dirty',
    merged_by: pull.mergedBy ? userJson(urls, pull.mergedBy) : null,
    comments: pull.repo.comments.filter((c) => c.issue === pull.number).length,
    review_comments: 0,
    maintainer_can_modify: pull.maintainerCanModify,
    commits: stats.commits,
    additions: stats.additions,
    deletions: stats.deletions,
    changed_files: stats.changedFiles,
  }
}

export function commentJson(urls: Urls, repo: Repo, comment: Comment): Record<string, unknown> {
  const name = fullName(repo)
  return {
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url: `${urls.api}/repos/${name}/issues/comments/${comment.id}`,
    html_url: `${urls.html}/${name}/pull/${comment.issue}#issuecomment-${comment.id}`,
    body: comment.body,
    user: userJson(urls, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    issue_url: `${urls.api}/repos/${name}/issues/${comment.issue}`,
    author_association: authorAssociation(repo, comment.user),
  }
}

export function reviewJson(urls: Urls, pull: Pull, review: Review): Record<string, unknown> {
  const name = fullName(pull.repo)
  const html = `${urls.html}/${name}/pull/${pull.number}#pullrequestreview-${review.id}`
  return {
    id: review.id,
    node_id: nodeId('PullRequestReview', review.id),
    user: userJson(urls, review.user),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: `${urls.api}/repos/${name}/pulls/${pull.number}`,
    _links: { html: { href: html }, pull_request: { href: `${urls.api}/repos/${name}/pulls/${pull.number}` } },
    submitted_at: review.submittedAt,
    commit_id: review.commitId,
    author_association: authorAssociation(pull.repo, review.user),
  }
}

export function assetJson(urls: Urls, repo: Repo, release: Release, asset: Asset): Record<string, unknown> {
  const name = fullName(repo)
  return {
    url: `${urls.api}/repos/${name}/releases/assets/${asset.id}`,
    browser_download_url: `${urls.html}/${name}/releases/download/${encodeURIComponent(release.tag)}/${encodeURIComponent(asset.name)}`,
    id: asset.id,
    node_id: nodeId('ReleaseAsset', asset.id),
    name: asset.name,
    label: asset.label,
    state: 'uploaded',
    content_type: asset.contentType,
    size: asset.size,
    digest: asset.digest,
    download_count: asset.downloadCount,
    created_at: asset.createdAt,
    updated_at: asset.updatedAt,
    uploader: userJson(urls, asset.uploader),
  }
}

export function releaseJson(urls: Urls, repo: Repo, release: Release): Record<string, unknown> {
  const name = fullName(repo)
  const api = `${urls.api}/repos/${name}/releases/${release.id}`
  return {
    url: api,
    html_url: `${urls.html}/${name}/releases/tag/${encodeURIComponent(release.tag)}`,
    assets_url: `${api}/assets`,
    upload_url: `${urls.uploads}/repos/${name}/releases/${release.id}/assets{?name,label}`,
    tarball_url: `${urls.api}/repos/${name}/tarball/${encodeURIComponent(release.tag)}`,
    zipball_url: `${urls.api}/repos/${name}/zipball/${encodeURIComponent(release.tag)}`,
    id: release.id,
    node_id: nodeId('Release', release.id),
    tag_name: release.tag,
    target_commitish: release.target,
    name: release.name,
    body: release.body,
    draft: release.draft,
    prerelease: release.prerelease,
    immutable: false,
    created_at: release.createdAt,
    published_at: release.publishedAt,
    updated_at: release.publishedAt ?? release.createdAt,
    author: userJson(urls, release.author),
    assets: release.assets.map((a) => assetJson(urls, repo, release, a)),
  }
}

export function artifactJson(urls: Urls, repo: Repo, artifact: Artifact): Record<string, unknown> {
  const api = `${urls.api}/repos/${fullName(repo)}/actions/artifacts/${artifact.id}`
  return {
    id: artifact.id,
    node_id: nodeId('Artifact', artifact.id),
    name: artifact.name,
    size_in_bytes: artifact.size,
    url: api,
    archive_download_url: `${api}/zip`,
    expired: false,
    digest: `sha256:${artifact.digest}`,
    created_at: artifact.createdAt,
    updated_at: artifact.createdAt,
    expires_at: artifact.expiresAt,
    workflow_run: {
      id: artifact.run.id,
      repository_id: repo.id,
      head_repository_id: artifact.run.headRepo.id,
      head_branch: artifact.run.headBranch,
      head_sha: artifact.run.headSha,
    },
  }
}

export interface HeadCommit {
  id: string
  treeId: string
  message: string
  timestamp: string
  author: { name: string; email: string }
  committer: { name: string; email: string }
}

export function runJson(urls: Urls, run: Run, headCommit: HeadCommit | null): Record<string, unknown> {
  const name = fullName(run.repo)
  const api = `${urls.api}/repos/${name}/actions/runs/${run.id}`
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId('WorkflowRun', run.id),
    check_suite_id: run.id,
    check_suite_node_id: nodeId('CheckSuite', run.id),
    head_branch: run.headBranch,
    head_sha: run.headSha,
    path: run.workflow.path,
    display_title: run.displayTitle,
    run_number: run.runNumber,
    run_attempt: run.runAttempt,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    workflow_id: run.workflow.id,
    url: api,
    html_url: `${urls.html}/${name}/actions/runs/${run.id}`,
    pull_requests: run.pullRequests.map((p) => ({
      id: p.id,
      number: p.number,
      url: `${urls.api}/repos/${name}/pulls/${p.number}`,
      head: { ref: p.headRef, sha: p.headSha, repo: { id: p.headRepo.id, url: `${urls.api}/repos/${fullName(p.headRepo)}`, name: p.headRepo.name } },
      base: { ref: p.baseRef, sha: p.headSha, repo: { id: p.repo.id, url: `${urls.api}/repos/${name}`, name: p.repo.name } },
    })),
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    run_started_at: run.createdAt,
    actor: userJson(urls, run.actor),
    triggering_actor: userJson(urls, run.triggeringActor),
    jobs_url: `${api}/jobs`,
    logs_url: `${api}/logs`,
    check_suite_url: `${urls.api}/repos/${name}/check-suites/${run.id}`,
    artifacts_url: `${api}/artifacts`,
    cancel_url: `${api}/cancel`,
    rerun_url: `${api}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${urls.api}/repos/${name}/actions/workflows/${run.workflow.id}`,
    head_commit: headCommit
      ? {
          id: headCommit.id,
          tree_id: headCommit.treeId,
          message: headCommit.message,
          timestamp: headCommit.timestamp,
          author: headCommit.author,
          committer: headCommit.committer,
        }
      : null,
    repository: repoJson(urls, run.repo),
    head_repository: repoJson(urls, run.headRepo),
  }
}
