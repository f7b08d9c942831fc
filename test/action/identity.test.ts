/**
 * Who owns, as the Action decides it: an owner listed with a numeric id
 * matches by id (a renamed login still owns; a login taken over by someone
 * else does not), and `@org/team` owners are confirmed through GitHub's
 * team-membership API, or named as unconfirmed when the token may not read teams.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { RULES, runCheck } from '../../src/check/index.js'
import { MAIN, resolveCommit } from '../../src/git/index.js'
import { judgePullRequest, teamResolver } from '../../src/action/judge.js'
import { withSubmitterTrailer } from '../../src/core/submitter.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'
import { client, useEmulator } from '../github/helpers.js'

describe('owners by numeric id', () => {
  let idx: TestIndex
  let head: string
  beforeAll(async () => {
    idx = await createTestIndex({ owners: [{ login: 'alice', id: 1001 }] })
    head = (await idx.publish({ version: '1.1.0' })).head
  })
  const check = (author: { login: string; id?: number }) => runCheck({ repo: idx.repo, base: MAIN, head, author })

  it('accepts the owner after a login rename, by id', async () => {
    expect((await check({ login: 'alice-renamed', id: 1001 })).findings).toEqual([])
  })
  it('refuses someone who took over the old login, whose id differs', async () => {
    const result = await check({ login: 'alice', id: 2002 })
    expect(result.findings.map((f) => f.rule)).toEqual([RULES.notOwner])
  })
  it('matches by login, case-insensitively, when the submitter has no id', async () => {
    expect((await check({ login: 'ALICE' })).findings).toEqual([])
  })
})

describe('team owners through the team-membership API', () => {
  const ctx = useEmulator()
  let idx: TestIndex
  let head: string
  beforeAll(async () => {
    ctx.emu.createUser('bob')
    ctx.emu.createUser('carol')
    ctx.emu.createOrg('acme-org')
    ctx.emu.createTeam('acme-org', 'devs', ['bob', { login: 'carol', state: 'pending' }])
    idx = await createTestIndex({ owners: [{ login: 'alice', id: 1001 }, { team: '@acme-org/devs' }] })
    head = (await idx.publish({ version: '1.2.0' })).head
  })

  async function judge(login: string, permissions: Record<string, 'read'>, deferUnreadableTeams = false) {
    const unconfirmed = new Set<string>()
    const github = client(ctx.emu, ctx.emu.mintToken({ permissions }))
    const result = await runCheck({ repo: idx.repo, base: MAIN, head, author: { login }, isTeamMember: teamResolver(github, unconfirmed), deferUnreadableTeams })
    return { rules: result.findings.map((f) => f.rule), unconfirmed: [...unconfirmed], ...(deferUnreadableTeams ? { deferred: result.deferredTeams, teams: result.teams } : {}) }
  }

  it("accepts an active member of an owning team, read with a token that has members: read", async () => {
    expect(await judge('bob', { members: 'read' })).toEqual({ rules: [], unconfirmed: [] })
  })
  it('refuses a pending member and a non-member', async () => {
    expect(await judge('carol', { members: 'read' })).toEqual({ rules: [RULES.notOwner], unconfirmed: [] })
    expect(await judge('mallory-x', { members: 'read' })).toEqual({ rules: [RULES.notOwner], unconfirmed: [] })
  })
  it('names the team as unconfirmed when the token may not read teams, and does not accept', async () => {
    expect(await judge('bob', { contents: 'read' })).toEqual({ rules: [RULES.notOwner], unconfirmed: ['@acme-org/devs'] })
  })
  it('defers a team it may not read when asked to, naming it apart from the confirmed ones; a team it reads still decides', async () => {
    // validate's judgement: anyone might be in a team it cannot read, so merge, which can, must confirm it.
    expect(await judge('mallory-x', { contents: 'read' }, true)).toEqual({ rules: [], unconfirmed: ['@acme-org/devs'], deferred: ['@acme-org/devs'], teams: [] })
    expect(await judge('mallory-x', { members: 'read' }, true)).toEqual({ rules: [RULES.notOwner], unconfirmed: [], deferred: [], teams: [] })
    expect(await judge('bob', { members: 'read' }, true)).toEqual({ rules: [], unconfirmed: [], deferred: [], teams: ['@acme-org/devs'] })
  })

  it("judging a pull request names the teams it was accepted through, for the merge commit's trailer", async () => {
    // The test merge GitHub keeps for pull request 7: main and the proposal's head.
    const main = await resolveCommit(idx.repo, MAIN)
    const merge = idx.git('commit-tree', `${head}^{tree}`, '-p', main, '-p', head, '-m', 'Merge').trim()
    idx.git('update-ref', 'refs/pull/7/merge', merge)
    const judgement = await judgePullRequest({
      repo: idx.repo,
      remote: idx.dir,
      token: 'unused-for-a-local-remote',
      number: 7,
      headSha: head,
      author: { login: 'bob' },
      submittedAt: new Date(),
      now: new Date(),
      teams: client(ctx.emu, ctx.emu.mintToken({ permissions: { members: 'read' } })),
    })
    expect(judgement).toMatchObject({ accepted: true, base: main, teams: ['@acme-org/devs'], unconfirmedTeams: [], deferredTeams: [] })
    expect(withSubmitterTrailer('Adds acme:calc@1.2.0', judgement.author, judgement.teams)).toMatch(/\nWharf-Submitter-Team: @acme-org\/devs\n?$/)
  })
})
