/** src/github against the emulator: every function, and GitHub's failures as typed errors. */
import { beforeAll, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { isWharfError } from '../../src/core/errors.js'
import { GitHubErrorCode, createGitHub, type GitHub } from '../../src/github/index.js'
import { client, clone, git, pushBranch, rest, useEmulator } from './helpers.js'

const ctx = useEmulator({ forkDelayMs: 1000 })
const INDEX = { owner: 'wharf', repo: 'index' }

let alice: string // a contributor's token
let maintainer: string // a collaborator with write access
let writeToken: string // an installation token as a merge workflow holds
let readToken: string // a read-only GITHUB_TOKEN
let gh: GitHub
let work: string

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await promise
  } catch (e) {
    if (isWharfError(e)) return { code: e.code, message: e.message, hint: e.hint }
    throw e
  }
  throw new Error('expected a rejection')
}

beforeAll(async () => {
  const { emu } = ctx
  emu.createUser('alice', { id: 1001 })
  emu.createUser('bob')
  emu.createUser('mia', { name: 'Mia Maintainer' })
  emu.createOrg('wharf')
  emu.createTeam('wharf', 'maintainers', ['mia', { login: 'bob', state: 'pending' }])
  await emu.createRepo('wharf/index', { files: { 'README.md': '# index\n', 'index/registry.json': '{}\n' }, collaborators: { mia: 'write' } })
  alice = emu.mintToken({ user: 'alice' })
  maintainer = emu.mintToken({ user: 'mia' })
  writeToken = emu.mintToken({
    permissions: { contents: 'write', 'pull-requests': 'write', issues: 'write', actions: 'read', members: 'read' },
    repositories: ['wharf/index'],
  })
  readToken = emu.mintToken({ permissions: { contents: 'read', 'pull-requests': 'read', actions: 'read' }, repositories: ['wharf/index'] })
  gh = client(emu, writeToken)
  work = await clone(emu, 'wharf/index', maintainer)
})

describe('pull requests', () => {
  it('creates, reads, lists and lists the files of a pull request, across pages', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 130; i++) files[`index/packages/acme/p${String(i).padStart(3, '0')}/1.0.0.json`] = `{"n":${i}}\n`
    const head = await pushBranch(work, 'many-files', files)
    const created = await client(ctx.emu, maintainer).pulls.create(INDEX, { title: 'Add 130 packages', head: 'many-files', base: 'main', body: 'lots' })
    expect(created).toMatchObject({ title: 'Add 130 packages', state: 'open', head: { ref: 'many-files', sha: head, repo: 'wharf/index' }, base: { ref: 'main' }, author: { login: 'mia' } })

    const got = await gh.pulls.get(INDEX, created.number)
    expect(got.head.sha).toBe(head)
    expect(got.mergeable).toBe(true)
    const open = await gh.pulls.listOpen(INDEX)
    expect(open.map((p) => p.number)).toContain(created.number)

    const before = ctx.emu.requests.length
    const listed = await gh.pulls.listFiles(INDEX, created.number)
    expect(listed.truncated).toBe(false)
    expect(listed.files).toHaveLength(130)
    expect(listed.files.every((f) => f.status === 'added' && f.additions === 1)).toBe(true)
    expect(ctx.emu.requests.slice(before).filter((r) => r.operationId === 'pulls/list-files')).toHaveLength(2)
  })

  it('merges only with the expected head sha, and a merge moves the base branch to a merge commit', async () => {
    const head = await pushBranch(work, 'feature', { 'index/namespaces/acme.json': '{"owners":[]}\n' })
    const pull = await client(ctx.emu, alice).pulls.create(INDEX, { title: 'Claim acme', head: 'feature', base: 'main' })
    const bare = ctx.emu.requireRepo('wharf/index').dir
    const mainBefore = (await git(bare, 'rev-parse', 'refs/heads/main')).trim()

    const stale = await rejection(gh.pulls.merge(INDEX, pull.number, { expectedHeadSha: mainBefore }))
    expect(stale.code).toBe(GitHubErrorCode.HeadChanged)
    expect(stale.hint).toMatch(/check the new head/)
    expect((await git(bare, 'rev-parse', 'refs/heads/main')).trim()).toBe(mainBefore)

    const merged = await gh.pulls.merge(INDEX, pull.number, { expectedHeadSha: head, method: 'merge' })
    expect((await git(bare, 'rev-parse', 'refs/heads/main')).trim()).toBe(merged.sha)
    expect((await git(bare, 'rev-list', '--parents', '-n1', merged.sha)).trim().split(' ').slice(1)).toEqual([mainBefore, head])
    expect(await gh.pulls.get(INDEX, pull.number)).toMatchObject({ state: 'closed', merged: true, mergeCommitSha: merged.sha })

    const again = await rejection(gh.pulls.merge(INDEX, pull.number, { expectedHeadSha: head }))
    expect(again.code).toBe(GitHubErrorCode.NotMergeable)
  })

  it('squash-merges into one commit on the base', async () => {
    const head = await pushBranch(work, 'squashed', { 'index/a.json': '1\n' })
    const pull = await gh.pulls.create(INDEX, { title: 'Squash me', head: 'squashed', base: 'main' })
    const { sha } = await gh.pulls.merge(INDEX, pull.number, { expectedHeadSha: head, method: 'squash' })
    const bare = ctx.emu.requireRepo('wharf/index').dir
    expect((await git(bare, 'rev-list', '--parents', '-n1', sha)).trim().split(' ')).toHaveLength(2)
    expect(await git(bare, 'log', '-1', '--format=%s', sha)).toBe(`Squash me (#${pull.number})\n`)
  })

  it("reports each reviewer's standing review: a later comment does not undo a request for changes", async () => {
    await pushBranch(work, 'reviewed', { 'index/b.json': '1\n' })
    const pull = await client(ctx.emu, alice).pulls.create(INDEX, { title: 'Review me', head: 'reviewed', base: 'main' })
    const bob = ctx.emu.mintToken({ user: 'bob' })
    const review = (token: string, event: string) => rest(ctx.emu, token, 'POST', `/repos/wharf/index/pulls/${pull.number}/reviews`, { event, body: event })
    expect((await review(maintainer, 'APPROVE')).status).toBe(200)
    expect((await review(bob, 'REQUEST_CHANGES')).status).toBe(200)
    expect((await review(bob, 'COMMENT')).status).toBe(200)
    expect((await review(alice, 'APPROVE')).status).toBe(422)

    expect(await gh.pulls.listReviews(INDEX, pull.number)).toHaveLength(3)
    const latest = await gh.pulls.latestReviews(INDEX, pull.number)
    expect(Object.fromEntries(latest.map((r) => [r.reviewer!.login, r.state]))).toEqual({ mia: 'APPROVED', bob: 'CHANGES_REQUESTED' })
  })

  it('refuses a pull request from a branch that does not exist, with the field GitHub names', async () => {
    const failure = await rejection(gh.pulls.create(INDEX, { title: 'Nothing', head: 'no-such-branch', base: 'main' }))
    expect(failure.code).toBe(GitHubErrorCode.ValidationFailed)
    expect(failure.message).toMatch(/head invalid/)
  })
})

describe('comments and labels', () => {
  let number: number
  beforeAll(async () => {
    await pushBranch(work, 'talk', { 'index/c.json': '1\n' })
    number = (await client(ctx.emu, alice).pulls.create(INDEX, { title: 'Talk', head: 'talk', base: 'main' })).number
  })

  it('keeps one comment per marker: created, then updated in place, then left alone when unchanged', async () => {
    const first = await gh.issues.upsertComment(INDEX, number, { marker: 'check', body: 'Checking…' })
    expect(first.action).toBe('created')
    const second = await gh.issues.upsertComment(INDEX, number, { marker: 'check', body: 'Accepted.' })
    expect(second).toEqual({ id: first.id, action: 'updated' })
    const writesBefore = ctx.emu.requests.filter((r) => r.method !== 'GET').length
    expect(await gh.issues.upsertComment(INDEX, number, { marker: 'check', body: 'Accepted.' })).toEqual({ id: first.id, action: 'unchanged' })
    expect(ctx.emu.requests.filter((r) => r.method !== 'GET').length).toBe(writesBefore)
    const other = await gh.issues.upsertComment(INDEX, number, { marker: 'quality', body: 'Gates hold.' })
    expect(other.id).not.toBe(first.id)

    const comments = await gh.issues.listComments(INDEX, number)
    expect(comments.filter((c) => c.body.includes('<!-- wharf:check -->'))).toHaveLength(1)
    expect(comments.find((c) => c.id === first.id)).toMatchObject({ body: '<!-- wharf:check -->\nAccepted.', author: { login: 'github-actions[bot]', type: 'Bot' } })
  })

  it("keeps one comment per marker with a person's token too, found by the token's login", async () => {
    // A personal access token comments as its user, not as a bot: its own comments are the ones it edits.
    const asMia = client(ctx.emu, maintainer)
    const author = (await asMia.users.authenticated())!.login
    const first = await asMia.issues.upsertComment(INDEX, number, { marker: 'pat', body: 'Waiting.', author })
    expect(await asMia.issues.upsertComment(INDEX, number, { marker: 'pat', body: 'Merged.', author })).toEqual({ id: first.id, action: 'updated' })
    const ours = (await gh.issues.listComments(INDEX, number)).filter((c) => c.body.startsWith('<!-- wharf:pat -->'))
    expect(ours.map((c) => [c.author?.login, c.body])).toEqual([['mia', '<!-- wharf:pat -->\nMerged.']])
  })

  it("never takes over a person's comment that carries the marker", async () => {
    const forged = await rest(ctx.emu, alice, 'POST', `/repos/wharf/index/issues/${number}/comments`, { body: '<!-- wharf:verdict -->\nAccepted, trust me' })
    expect(forged.status).toBe(201)
    const ours = await gh.issues.upsertComment(INDEX, number, { marker: 'verdict', body: 'Rejected.' })
    expect(ours.action).toBe('created')
    expect(ours.id).not.toBe(forged.body.id)
  })

  it('cuts a body over GitHub’s size limit instead of failing', async () => {
    const result = await gh.issues.upsertComment(INDEX, number, { marker: 'long', body: 'x'.repeat(70_000) })
    const comment = (await gh.issues.listComments(INDEX, number)).find((c) => c.id === result.id)!
    expect(comment.body.length).toBeLessThanOrEqual(65536)
    expect(comment.body).toMatch(/cut to fit/)
  })

  it('refuses a marker that could break out of the HTML comment', async () => {
    await expect(gh.issues.upsertComment(INDEX, number, { marker: 'x --> <b', body: 'no' })).rejects.toThrow(/marker/)
  })

  it('adds, lists and removes labels, and creates a missing label with its colour', async () => {
    expect(await gh.issues.ensureLabel(INDEX, { name: 'wharf: blocked', color: 'b60205', description: 'A maintainer blocked the merge' })).toMatchObject({ created: true })
    expect(await gh.issues.ensureLabel(INDEX, { name: 'wharf: blocked', color: 'b60205', description: null })).toMatchObject({ created: false, label: { color: 'b60205' } })
    expect(await gh.issues.addLabels(INDEX, number, ['wharf: blocked', 'new-version'])).toEqual(['wharf: blocked', 'new-version'])
    expect(await gh.issues.listLabels(INDEX, number)).toEqual(['wharf: blocked', 'new-version'])
    expect(await gh.issues.removeLabel(INDEX, number, 'wharf: blocked')).toBe(true)
    expect(await gh.issues.removeLabel(INDEX, number, 'wharf: blocked')).toBe(false)
    expect(await gh.issues.listLabels(INDEX, number)).toEqual(['new-version'])
    const labeled = ctx.emu.takeDeliveries().filter((d) => d.name === 'pull_request' && d.payload.action === 'labeled')
    expect(labeled.map((d) => (d.payload.label as { name: string }).name)).toEqual(['wharf: blocked', 'new-version'])
    expect(labeled[0]!.causedBy.kind).toBe('installation')
  })
})

describe('users and teams', () => {
  it('resolves a login to its numeric id and an id to the current login after a rename', async () => {
    expect(await gh.users.byLogin('alice')).toEqual({ login: 'alice', id: 1001, type: 'User' })
    expect(await gh.users.byLogin('nobody-here')).toBeUndefined()
    ctx.emu.renameUser('alice', 'alice-renamed')
    try {
      expect(await gh.users.byId(1001)).toEqual({ login: 'alice-renamed', id: 1001, type: 'User' })
      expect(await gh.users.byLogin('alice')).toBeUndefined()
    } finally {
      ctx.emu.renameUser('alice-renamed', 'alice')
    }
    expect(await gh.users.byId(987654321)).toBeUndefined()
  })

  it("names the user a person's token acts for, and no one for an installation token", async () => {
    expect(await client(ctx.emu, maintainer).users.authenticated()).toMatchObject({ login: 'mia', type: 'User' })
    expect(await gh.users.authenticated()).toBeUndefined()
  })

  it('counts only active team members, and needs the members permission to ask', async () => {
    expect(await gh.users.isTeamMember('wharf', 'maintainers', 'mia')).toBe(true)
    expect(await gh.users.isTeamMember('wharf', 'maintainers', 'bob')).toBe(false)
    expect(await gh.users.isTeamMember('wharf', 'maintainers', 'alice')).toBe(false)
    const failure = await rejection(client(ctx.emu, readToken).users.isTeamMember('wharf', 'maintainers', 'mia'))
    expect(failure.code).toBe(GitHubErrorCode.Forbidden)
  })

  it("reads a user's permission on a repository", async () => {
    expect(await gh.users.permission(INDEX, 'mia')).toBe('write')
    expect(await gh.users.permission(INDEX, 'bob')).toBe('read')
  })
})

describe('Actions runs and artifacts', () => {
  it('lists runs for a sha and downloads an artifact through the storage redirect, within a size cap', async () => {
    const sha = (await git(ctx.emu.requireRepo('wharf/index').dir, 'rev-parse', 'refs/heads/main')).trim()
    const run = ctx.emu.startRun({ repo: 'wharf/index', workflowPath: '.github/workflows/validate.yml', workflowName: 'validate', event: 'pull_request', headSha: sha, headBranch: 'feature', actor: 'alice' })
    const zip = Buffer.from('PK\u0003\u0004 pretend zip bytes')
    await ctx.emu.addArtifact(run, 'report', zip)
    await ctx.emu.completeRun(run, 'success')

    const runs = await gh.runs.listForSha(INDEX, sha, { workflowPath: '.github/workflows/validate.yml' })
    expect(runs).toHaveLength(1)
    expect(runs[0]).toMatchObject({ id: run.id, event: 'pull_request', conclusion: 'success', headSha: sha })
    expect(await gh.runs.listForSha(INDEX, sha, { workflowPath: '.github/workflows/other.yml' })).toEqual([])
    expect((await gh.runs.get(INDEX, run.id)).status).toBe('completed')
    const [artifact] = await gh.runs.listArtifacts(INDEX, run.id, { name: 'report' })
    expect(artifact).toMatchObject({ name: 'report', sizeInBytes: zip.length, runId: run.id })

    const before = ctx.emu.requests.length
    expect(await gh.runs.downloadArtifact(INDEX, artifact!.id, { maxBytes: 1024 })).toEqual(zip)
    expect(ctx.emu.requests.slice(before).map((r) => r.status)).toEqual([302, 200])
    expect((await rejection(gh.runs.downloadArtifact(INDEX, artifact!.id, { maxBytes: 8 }))).code).toBe(GitHubErrorCode.TooLarge)
    expect((await rejection(gh.runs.downloadArtifact(INDEX, 424242, { maxBytes: 8 }))).code).toBe(GitHubErrorCode.NotFound)
    const completed = ctx.emu.takeDeliveries().filter((d) => d.name === 'workflow_run')
    expect(completed.at(-1)!.payload).toMatchObject({ action: 'completed', workflow_run: { id: run.id, conclusion: 'success' } })
  })
})

describe('repositories, forks and the Git Data API', () => {
  it('forks for a user, waits until the fork is ready, and opens a pull request from it', async () => {
    const bob = ctx.emu.mintToken({ user: 'bob' })
    const bobs = client(ctx.emu, bob)
    const fork = await bobs.repos.createFork(INDEX)
    expect(fork).toMatchObject({ fullName: 'bob/index', fork: true })
    const before = ctx.emu.requests.length
    const tip = await bobs.repos.waitForFork(fork, { intervalMs: 100 })
    // GitHub forks asynchronously: the first reads are refused until the fork is ready, then one succeeds.
    const polls = ctx.emu.requests.slice(before).map((r) => r.status)
    expect(polls.at(-1)).toBe(200)
    expect(polls.slice(0, -1)).toContain(409)
    expect(tip.ref).toBe('refs/heads/main')
    expect(await bobs.repos.get({ owner: 'bob', repo: 'index' })).toMatchObject({ parent: 'wharf/index', defaultBranch: 'main' })

    // The Repository the fork call answered serves as the RepoRef of the calls that follow.
    const blob = await bobs.git.createBlob(fork, '{"version":"1.0.0"}\n')
    const base = await bobs.git.getCommit(fork, tip.sha)
    const tree = await bobs.git.createTree(fork, { baseTree: base.tree, entries: [{ path: 'index/packages/bob/x/1.0.0.json', sha: blob }] })
    const commit = await bobs.git.createCommit(fork, { message: 'Publish bob:x@1.0.0', tree, parents: [tip.sha] })
    await bobs.git.createRef(fork, 'refs/heads/publish/bob-x-1.0.0', commit.sha)
    const pull = await bobs.pulls.create(INDEX, { title: 'Publish bob:x@1.0.0', head: 'bob:publish/bob-x-1.0.0', base: 'main' })
    expect(pull.head).toEqual({ ref: 'publish/bob-x-1.0.0', sha: commit.sha, repo: 'bob/index' })
    const { files } = await gh.pulls.listFiles(INDEX, pull.number)
    expect(files.map((f) => f.filename)).toEqual(['index/packages/bob/x/1.0.0.json'])
  })

  it("refuses a fork to a workflow's GITHUB_TOKEN", async () => {
    expect((await rejection(gh.repos.createFork(INDEX))).code).toBe(GitHubErrorCode.Forbidden)
  })

  it('writes blobs, trees, commits and refs; a ref moves only forward unless forced', async () => {
    const main = (await gh.git.getRef(INDEX, 'heads/main'))!
    const parent = await gh.git.getCommit(INDEX, main.sha)
    const blob = await gh.git.createBlob(INDEX, new Uint8Array([0, 1, 2, 255]))
    const tree = await gh.git.createTree(INDEX, { baseTree: parent.tree, entries: [{ path: 'index/reports/acme/x/1.0.0/report.bin', sha: blob }, { path: 'README.md', sha: null }] })
    const commit = await gh.git.createCommit(INDEX, { message: 'Report for acme:x@1.0.0', tree, parents: [main.sha], author: { name: 'wharf', email: 'wharf@example.com' } })
    expect(commit).toMatchObject({ tree, parents: [main.sha], message: 'Report for acme:x@1.0.0' })
    expect(await gh.git.getRef(INDEX, 'heads/reports')).toBeUndefined()
    await gh.git.createRef(INDEX, 'refs/heads/reports', commit.sha)
    expect((await rejection(gh.git.createRef(INDEX, 'refs/heads/reports', commit.sha))).code).toBe(GitHubErrorCode.ValidationFailed)
    const bare = ctx.emu.requireRepo('wharf/index').dir
    expect(await git(bare, 'ls-tree', '-r', '--name-only', 'refs/heads/reports')).not.toMatch(/README\.md/)
    expect((await git(bare, 'cat-file', 'blob', `${commit.sha}:index/reports/acme/x/1.0.0/report.bin`)).length).toBeGreaterThan(0)

    const backwards = await rejection(gh.git.updateRef(INDEX, 'heads/reports', main.sha))
    expect(backwards.code).toBe(GitHubErrorCode.ValidationFailed)
    expect(backwards.message).toMatch(/not a fast forward/)
    expect((await gh.git.updateRef(INDEX, 'heads/reports', main.sha, { force: true })).sha).toBe(main.sha)
    const pushes = ctx.emu.takeDeliveries().filter((d) => d.name === 'push' && d.payload.ref === 'refs/heads/reports')
    expect(pushes.map((d) => d.payload.forced)).toEqual([false, true])
  })
})

describe('file contents', () => {
  it('reads a file at the default branch or a ref in one call, and nothing where no file is', async () => {
    const before = ctx.emu.requests.length
    const main = await gh.repos.getFile(INDEX, 'index/registry.json', { maxBytes: 1024 })
    expect(Buffer.from(main!).toString('utf8')).toBe('{}\n')
    expect(ctx.emu.requests.slice(before).map((r) => [r.operationId, r.status])).toEqual([['repos/get-content', 200]])

    // Bytes that are not text, long enough for GitHub's base64 to span lines; a symlink to a file, a dangling one, a submodule.
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256))
    const tip = (await gh.git.getRef(INDEX, 'heads/main'))!
    const base = await gh.git.getCommit(INDEX, tip.sha)
    const link = await gh.git.createBlob(INDEX, 'bin/data.bin')
    const dangling = await gh.git.createBlob(INDEX, '../../outside')
    const tree = await gh.git.createTree(INDEX, {
      baseTree: base.tree,
      entries: [
        { path: 'bin/data.bin', sha: await gh.git.createBlob(INDEX, bytes) },
        { path: 'link.bin', sha: link, mode: '120000' },
        { path: 'bin/dangling', sha: dangling, mode: '120000' },
        { path: 'vendor/lib', sha: tip.sha, mode: '160000' },
        { path: '.gitmodules', content: '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://example.com/lib.git\n' },
      ],
    })
    const commit = await gh.git.createCommit(INDEX, { message: 'Contents', tree, parents: [tip.sha] })
    await gh.git.createRef(INDEX, 'refs/heads/contents', commit.sha)
    const at = { ref: 'contents', maxBytes: 1024 }
    expect(await gh.repos.getFile(INDEX, 'bin/data.bin', at)).toEqual(bytes)
    expect(await gh.repos.getFile(INDEX, 'bin/data.bin', { ref: commit.sha, maxBytes: 1024 })).toEqual(bytes)
    expect(await gh.repos.getFile(INDEX, 'link.bin', at)).toEqual(bytes)
    expect(await gh.repos.getFile(INDEX, 'bin/data.bin', { maxBytes: 1024 })).toBeUndefined()
    for (const absent of ['bin', 'bin/dangling', 'vendor/lib', 'bin/none.bin', 'bin/data']) expect(await gh.repos.getFile(INDEX, absent, at), absent).toBeUndefined()
    expect(await gh.repos.getFile(INDEX, 'bin/data.bin', { ref: 'no-such-branch', maxBytes: 1024 })).toBeUndefined()
    expect(await gh.repos.getFile({ owner: 'wharf', repo: 'nope' }, 'index/registry.json', { maxBytes: 1024 })).toBeUndefined()

    // What GitHub answers for each kind of path (slashes written plainly here; Octokit sends them as %2F).
    const directory = await rest(ctx.emu, writeToken, 'GET', '/repos/wharf/index/contents/bin?ref=contents')
    expect(directory.body.map((e: { type: string; path: string }) => [e.type, e.path])).toEqual([['symlink', 'bin/dangling'], ['file', 'bin/data.bin']])
    expect((await rest(ctx.emu, writeToken, 'GET', '/repos/wharf/index/contents/bin/dangling?ref=contents')).body).toMatchObject({ type: 'symlink', target: '../../outside' })
    expect((await rest(ctx.emu, writeToken, 'GET', '/repos/wharf/index/contents/link.bin?ref=contents')).body).toMatchObject({ type: 'file', path: 'bin/data.bin', encoding: 'base64' })
    expect((await rest(ctx.emu, writeToken, 'GET', '/repos/wharf/index/contents/vendor/lib?ref=contents')).body).toMatchObject({ type: 'submodule', submodule_git_url: 'https://example.com/lib.git' })
    const missingRef = await rest(ctx.emu, writeToken, 'GET', '/repos/wharf/index/contents/bin?ref=no-such-branch')
    expect([missingRef.status, missingRef.body.message]).toEqual([404, 'No commit found for the ref no-such-branch'])
  })

  it('refuses a file over the size the caller reads, and one over the 1 MB the contents API sends', async () => {
    const big = await pushBranch(work, 'big-file', { 'big.txt': 'x'.repeat(1024 * 1024 + 1), 'small.txt': 'x'.repeat(2000) })
    const small = await rejection(gh.repos.getFile(INDEX, 'small.txt', { ref: big, maxBytes: 1000 }))
    expect(small).toMatchObject({ code: GitHubErrorCode.TooLarge, message: expect.stringContaining('small.txt of wharf/index at') })
    expect(small.message).toMatch(/2000 bytes, over the 1000 allowed/)
    const over = await rejection(gh.repos.getFile(INDEX, 'big.txt', { ref: big, maxBytes: 4 * 1024 * 1024 }))
    expect(over.code).toBe(GitHubErrorCode.TooLarge)
    expect(over.message).toMatch(/encoding "none"/)
  })
})

describe('releases and assets', () => {
  it('creates a release, uploads, lists, downloads (through the redirect) and deletes an asset', async () => {
    expect(await gh.releases.getByTag(INDEX, 'acme-calc-v1.0.0')).toBeUndefined()
    const release = await gh.releases.create(INDEX, { tag: 'acme-calc-v1.0.0', name: 'acme:calc@1.0.0', body: 'Mirrored artifact' })
    expect(await gh.releases.getByTag(INDEX, 'acme-calc-v1.0.0')).toMatchObject({ id: release.id, tag: 'acme-calc-v1.0.0' })
    const bytes = Buffer.from('\0asm\u0001\0\0\0 pretend component')
    const asset = await gh.releases.uploadAsset(release, { name: 'calc.wasm', data: bytes, contentType: 'application/wasm' })
    expect(asset).toMatchObject({ name: 'calc.wasm', size: bytes.length, contentType: 'application/wasm', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` })
    expect((await rejection(gh.releases.uploadAsset(release, { name: 'calc.wasm', data: bytes }))).code).toBe(GitHubErrorCode.ValidationFailed)
    expect((await gh.releases.listAssets(INDEX, release.id)).map((a) => a.name)).toEqual(['calc.wasm'])

    const before = ctx.emu.requests.length
    expect(await gh.releases.download(asset.browserDownloadUrl, { maxBytes: 1 << 20 })).toEqual(bytes)
    expect(ctx.emu.requests.slice(before).map((r) => r.status)).toEqual([302, 200])
    expect(await gh.releases.downloadAsset(INDEX, asset.id, { maxBytes: 1 << 20 })).toEqual(bytes)
    expect((await rejection(gh.releases.download(asset.browserDownloadUrl, { maxBytes: 4 }))).code).toBe(GitHubErrorCode.TooLarge)

    expect(await gh.releases.deleteAsset(INDEX, asset.id)).toBe(true)
    expect(await gh.releases.deleteAsset(INDEX, asset.id)).toBe(false)
    expect(await gh.releases.listAssets(INDEX, release.id)).toEqual([])
  })
})

describe('failures as typed errors', () => {
  it('a read-only token cannot comment, label, merge or write git data (403, with a hint naming permissions)', async () => {
    const ro = client(ctx.emu, readToken)
    const pull = (await gh.pulls.listOpen(INDEX))[0]!
    for (const call of [
      () => ro.issues.upsertComment(INDEX, pull.number, { marker: 'x', body: 'no' }),
      () => ro.issues.addLabels(INDEX, pull.number, ['x']),
      () => ro.pulls.merge(INDEX, pull.number, { expectedHeadSha: pull.head.sha }),
      () => ro.git.createBlob(INDEX, 'no'),
    ]) {
      const failure = await rejection(call())
      expect(failure.code).toBe(GitHubErrorCode.Forbidden)
      expect(failure.hint).toMatch(/permissions/)
    }
    expect(await ro.pulls.get(INDEX, pull.number)).toMatchObject({ number: pull.number })
  })

  it('answers not found, bad credentials and bad input as their own codes', async () => {
    expect((await rejection(gh.pulls.get(INDEX, 99999))).code).toBe(GitHubErrorCode.NotFound)
    expect((await rejection(gh.repos.get({ owner: 'wharf', repo: 'nope' }))).code).toBe(GitHubErrorCode.NotFound)
    expect((await rejection(client(ctx.emu, 'ghs_not-a-token').pulls.listOpen(INDEX))).code).toBe(GitHubErrorCode.Unauthorized)
    expect((await rejection(gh.pulls.merge(INDEX, 1, { expectedHeadSha: 'main' }))).code).toBe('INVALID_INPUT')
  })

  it('waits out a primary and a secondary rate limit through the plugins, and fails typed when it persists', async () => {
    ctx.emu.limitNext(1, 'primary', 1)
    const started = Date.now()
    expect(await gh.users.byLogin('mia')).toMatchObject({ login: 'mia' })
    ctx.emu.limitNext(1, 'secondary', 1)
    expect(await gh.users.byLogin('mia')).toMatchObject({ login: 'mia' })
    expect(Date.now() - started).toBeLessThan(8000)

    ctx.emu.limitNext(5, 'secondary', 1)
    const failure = await rejection(gh.users.byLogin('mia'))
    expect(failure.code).toBe(GitHubErrorCode.RateLimited)
    expect(failure.hint).toMatch(/rate limit/)
    ctx.emu.limitNext(0, 'secondary')
  })

  it('gives up at once on a rate limit longer than the caller will wait', async () => {
    const impatient = createGitHub({ token: writeToken, baseUrl: ctx.emu.urls.api, pace: false, maxRateLimitWaitSeconds: 1 })
    ctx.emu.limitNext(1, 'secondary', 30)
    const started = Date.now()
    expect((await rejection(impatient.users.byLogin('mia'))).code).toBe(GitHubErrorCode.RateLimited)
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('counts the HTTP requests it makes', async () => {
    const counted = client(ctx.emu, writeToken)
    await counted.users.byLogin('mia')
    await counted.pulls.listOpen(INDEX)
    expect(counted.requestCount()).toBe(2)
  })
})
