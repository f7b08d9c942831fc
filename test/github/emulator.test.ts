/** The emulator itself: git over smart HTTP with token permissions, merges, downloads, and its checks against GitHub's descriptions. */
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { OpenApiValidator } from './emulator/openapi.js'
import { checkWebhook, schedulePayload, workflowDispatchPayload } from './emulator/webhooks.js'
import { authedUrl, clone, git, pushBranch, rest, tempDir, tryGit, useEmulator } from './helpers.js'

const ctx = useEmulator()
let owner: string

beforeAll(async () => {
  ctx.emu.createUser('alice')
  ctx.emu.createUser('eve')
  await ctx.emu.createRepo('alice/crate', { files: { 'Cargo.toml': '[package]\nname = "x"\n' } })
  await ctx.emu.createRepo('alice/secret', { private: true, files: { 'key.txt': 'hidden\n' } })
  owner = ctx.emu.mintToken({ user: 'alice' })
})

describe('git over smart HTTP (git http-backend)', () => {
  it('clones and pushes with a write token; the push moves the branch and is delivered as a push event', async () => {
    const work = await clone(ctx.emu, 'alice/crate', owner)
    expect(fs.readFileSync(path.join(work, 'Cargo.toml'), 'utf8')).toMatch(/name = "x"/)
    ctx.emu.takeDeliveries()
    const head = await pushBranch(work, 'main', { 'src/lib.rs': 'pub fn f() {}\n' })
    expect((await git(ctx.emu.requireRepo('alice/crate').dir, 'rev-parse', 'refs/heads/main')).trim()).toBe(head)
    const [push] = ctx.emu.takeDeliveries()
    expect(push).toMatchObject({ name: 'push', payload: { ref: 'refs/heads/main', after: head, pusher: { name: 'alice' } }, causedBy: { kind: 'user', login: 'alice' } })
    expect((push!.payload.head_commit as { added: string[] }).added).toEqual(['src/lib.rs'])
  })

  it("refuses a read-only GITHUB_TOKEN's push with 403 and leaves the branch where it was", async () => {
    const readOnly = ctx.emu.mintToken({ permissions: { contents: 'read' }, repositories: ['alice/crate'] })
    const work = await clone(ctx.emu, 'alice/crate', readOnly)
    const before = (await git(ctx.emu.requireRepo('alice/crate').dir, 'rev-parse', 'refs/heads/main')).trim()
    await fs.promises.writeFile(path.join(work, 'evil.txt'), 'x\n')
    await git(work, 'add', '-A')
    await git(work, 'commit', '-qm', 'evil')
    const pushed = await tryGit(work, 'push', 'origin', 'HEAD:main')
    expect(pushed.code).not.toBe(0)
    expect(pushed.stderr).toMatch(/403|denied/)
    expect((await git(ctx.emu.requireRepo('alice/crate').dir, 'rev-parse', 'refs/heads/main')).trim()).toBe(before)
    expect(ctx.emu.requests.some((r) => r.path.endsWith('/info/refs') && r.status === 403)).toBe(true)
  })

  it('hides a private repository from a stranger and from anonymous clones, and refuses refs/pull pushes', async () => {
    const dir = await tempDir()
    const eve = ctx.emu.mintToken({ user: 'eve' })
    expect((await tryGit(dir, 'clone', '-q', authedUrl(ctx.emu, 'alice/secret', eve), 'a')).code).not.toBe(0)
    expect((await tryGit(dir, 'clone', '-q', ctx.emu.cloneUrl('alice/secret'), 'b')).code).not.toBe(0)
    expect((await rest(ctx.emu, eve, 'GET', '/repos/alice/secret')).status).toBe(404)
    const work = await clone(ctx.emu, 'alice/secret', owner)
    const pushed = await tryGit(work, 'push', 'origin', 'HEAD:refs/pull/1/head')
    expect(pushed.code).not.toBe(0)
  })

  it('keeps refs/pull/N/head and a test merge refs/pull/N/merge for a pull request, as a pull_request checkout fetches them', async () => {
    const work = await clone(ctx.emu, 'alice/crate', owner)
    const head = await pushBranch(work, 'topic', { 'README.md': 'topic\n' })
    const created = await rest(ctx.emu, owner, 'POST', '/repos/alice/crate/pulls', { title: 'Topic', head: 'topic', base: 'main' })
    expect(created.status).toBe(201)
    const n = created.body.number
    const fetched = await clone(ctx.emu, 'alice/crate', owner)
    await git(fetched, 'fetch', '-q', 'origin', `+refs/pull/${n}/head:refs/remotes/pull/head`, `+refs/pull/${n}/merge:refs/remotes/pull/merge`)
    expect((await git(fetched, 'rev-parse', 'refs/remotes/pull/head')).trim()).toBe(head)
    const parents = (await git(fetched, 'rev-list', '--parents', '-n1', 'refs/remotes/pull/merge')).trim().split(' ').slice(1)
    expect(parents[1]).toBe(head)
    const opened = ctx.emu.takeDeliveries().find((d) => d.name === 'pull_request')
    expect(opened?.payload).toMatchObject({ action: 'opened', number: n, pull_request: { head: { sha: head } } })

    const newHead = await pushBranch(work, 'topic', { 'README.md': 'topic 2\n' })
    const sync = ctx.emu.takeDeliveries().find((d) => d.name === 'pull_request')
    expect(sync?.payload).toMatchObject({ action: 'synchronize', before: head, after: newHead })
    expect(ctx.emu.pull('alice/crate', n).headSha).toBe(newHead)
  })
})

describe('checked against GitHub', () => {
  it('catches a response whose shape differs from GitHub’s description', () => {
    const validator = new OpenApiValidator()
    const merge = (body: unknown) => validator.checkResponse('PUT', '/repos/{owner}/{repo}/pulls/{pull_number}/merge', 200, body, {}).join('\n')
    expect(merge({ merged: true, message: 'ok', sha: 'abc' })).toBe('')
    expect(merge({ merged: true, message: 'ok' })).toMatch(/must have required property 'sha'/)
    expect(merge({ merged: 'yes', message: 'ok', sha: 'abc' })).toMatch(/\/merged must be boolean/)
    expect(validator.checkResponse('PUT', '/repos/{owner}/{repo}/pulls/{pull_number}/merge', 418, {}, {})).toEqual([expect.stringMatching(/does not answer 418/)])
    expect(validator.checkResponse('GET', '/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}', 302, undefined, {})).toEqual([
      expect.stringMatching(/Location header missing/),
    ])
    expect(validator.checkRequest('POST', '/repos/{owner}/{repo}/git/refs', { ref: 3 })).not.toEqual([])
  })

  it('catches an event payload that does not match GitHub’s webhook schema', () => {
    expect(checkWebhook('push$event', { ref: 'refs/heads/main' }).join('\n')).toMatch(/before/)
    expect(checkWebhook('no_such$event', {})).toEqual(['no webhook schema named no_such$event'])
  })

  it('builds every kind of event payload from its state to GitHub’s webhook schemas', async () => {
    const { emu } = ctx
    emu.takeDeliveries()
    const work = await clone(emu, 'alice/crate', owner)
    const head = await pushBranch(work, 'events', { 'events.txt': '1\n' })
    const pr = await rest(emu, owner, 'POST', '/repos/alice/crate/pulls', { title: 'Events', head: 'events', base: 'main' })
    const newHead = await pushBranch(work, 'events', { 'events.txt': '2\n' })
    await rest(emu, owner, 'POST', `/repos/alice/crate/issues/${pr.body.number}/labels`, { labels: ['ready'] })
    expect((await rest(emu, owner, 'PUT', `/repos/alice/crate/pulls/${pr.body.number}/merge`, { sha: newHead })).status).toBe(200)
    const run = emu.startRun({ repo: 'alice/crate', workflowPath: '.github/workflows/ci.yml', workflowName: 'ci', event: 'push', headSha: head, headBranch: 'events', actor: 'alice' })
    await emu.completeRun(run, 'failure')
    const repo = emu.requireRepo('alice/crate')
    const built = [
      ...emu.takeDeliveries().map((d) => [d.name === 'push' ? 'push$event' : `${d.name}$${String(d.payload.action)}`, d.payload] as const),
      ['workflow_dispatch$event', workflowDispatchPayload(emu.urls, repo, 'refs/heads/main', '.github/workflows/ci.yml', { x: '1' }, repo.owner)] as const,
      ['repository', schedulePayload(emu.urls, repo, '0 * * * *', '.github/workflows/ci.yml').repository] as const,
    ]
    expect(built.map(([definition]) => definition)).toEqual([
      'push$event',
      'pull_request$opened',
      'push$event',
      'pull_request$synchronize',
      'pull_request$labeled',
      'push$event',
      'pull_request$closed',
      'workflow_run$completed',
      'workflow_dispatch$event',
      'repository',
    ])
    for (const [definition, payload] of built) expect(checkWebhook(definition, payload), definition).toEqual([])
    // A new branch's push lists the commits no other branch has.
    expect((built[0]![1] as { commits: Array<{ id: string; added: string[] }> }).commits).toEqual([expect.objectContaining({ id: head, added: ['events.txt'] })])
  })

  it('answers an unimplemented path 404 naming it, and records it', async () => {
    const response = await rest(ctx.emu, owner, 'GET', '/repos/alice/crate/branches')
    expect(response.status).toBe(404)
    expect(response.body.message).toBe('The emulator does not implement GET /repos/alice/crate/branches')
    expect(ctx.emu.unimplemented.splice(0)).toEqual(['GET /repos/alice/crate/branches'])
  })

  it('refuses a request body GitHub would refuse, and records it as a mismatch', async () => {
    const response = await rest(ctx.emu, owner, 'POST', '/repos/alice/crate/git/refs', { ref: 'refs/heads/x', sha: 42 })
    expect(response.status).toBe(422)
    expect(ctx.emu.mismatches.splice(0).join('\n')).toMatch(/git\/create-ref request: \/sha must be string/)
  })
})
