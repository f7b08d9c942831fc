/**
 * Identity (issue 9, class 5): the submitter comes from the caller (--author,
 * the pull-request event, the server's token), never from a commit's author
 * name, and audit reads it from the trailer wharf writes on main.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { runCheck } from '../../src/check/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { namespacePath, REGISTRY_PATH } from '../../src/core/layout.js'
import { readSubmitterTrailer, submitterTrailer, withSubmitterTrailer } from '../../src/core/submitter.js'
import type { NamespaceFile, RegistryFile } from '../../src/core/types.js'
import { MAIN, readCommitInfo, readJsonAt, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { mergeProposal } from '../../src/publish/index.js'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'

let idx: TestIndex
beforeAll(async () => {
  idx = await createTestIndex({ owners: [{ login: 'alice', id: 1001 }, { team: '@acme/release' }] })
  await idx.release({ version: '1.0.0' })
})

/** A proposal that makes mallory a maintainer, committed under the maintainer's name. */
async function takeOver(): Promise<string> {
  const registry = (await readJsonAt<RegistryFile>(idx.repo, MAIN, REGISTRY_PATH))!
  return idx.submit([{ path: REGISTRY_PATH, content: stableJson({ ...registry, maintainers: [...registry.maintainers, { login: 'mallory' }] }) }], 'admin')
}

describe('class 5: identity', () => {
  it('check and merge refuse to run without --author (exit 2), and never read the commit author', async () => {
    const head = await takeOver()
    const check = await wharf(['check', '--index', idx.dir, '--base', 'main', '--head', head])
    expect(check.code).toBe(2)
    expect(check.stderr).toMatch(/--author/)
    await setBranch(idx.repo, 'take-over', head)
    const merge = await wharf(['merge', '--index', idx.dir, '--branch', 'take-over'])
    expect(merge.code).toBe(2)
    expect(merge.stderr).toMatch(/--author/)
    // the commit says admin; the submitter is mallory
    const judged = await wharf(['check', '--index', idx.dir, '--base', 'main', '--head', head, '--author', 'mallory', '--json'])
    expect(judged.code).toBe(1)
    expect(JSON.parse(judged.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['registry/not-maintainer'])
    await expect(mergeProposal(idx.repo, { branch: 'take-over', author: { login: '' } })).rejects.toMatchObject({ code: 'USAGE' })
  })

  it('a numeric id wins over a login: a renamed login still owns, a new account with the old login does not', async () => {
    const ns = (await readJsonAt<NamespaceFile>(idx.repo, MAIN, namespacePath('acme')))!
    const head = await idx.submit([{ path: namespacePath('acme'), content: stableJson({ ...ns, owners: [...ns.owners, { login: 'carol' }] }) }])
    const squatter = await runCheck({ repo: idx.repo, base: MAIN, head, author: { login: 'alice', id: 666 } })
    expect(squatter.findings.map((f) => f.rule)).toEqual(['namespace/change-not-owner'])
    const alice = await runCheck({ repo: idx.repo, base: MAIN, head, author: { login: 'alice', id: 1001 } })
    expect(alice.findings).toEqual([])
  })

  it('a team owner is confirmed only through the resolver passed in, and the team is recorded in the trailer audit reads', async () => {
    const ns = (await readJsonAt<NamespaceFile>(idx.repo, MAIN, namespacePath('acme')))!
    await idx.submit([{ path: namespacePath('acme'), content: stableJson({ ...ns, owners: [...ns.owners, { login: 'dave' }] }) }], 'erin', 'by-team')
    const unconfirmed = await runCheck({ repo: idx.repo, base: MAIN, head: 'by-team', author: { login: 'erin' } })
    expect(unconfirmed.findings[0]!.hint).toMatch(/@acme\/release.*cannot be confirmed here/)
    const asked: string[] = []
    const isTeamMember = async (team: string, login: string) => {
      asked.push(`${team} ${login}`)
      return team === '@acme/release' && login === 'erin'
    }
    const merged = await mergeProposal(idx.repo, { branch: 'by-team', author: { login: 'erin', id: 42 }, isTeamMember })
    expect(merged.merged).toBe(true)
    expect(asked).toEqual(['@acme/release erin'])
    const tip = await readCommitInfo(idx.repo, merged.commit!)
    expect(readSubmitterTrailer(tip.message)).toEqual({ login: 'erin', id: 42, teams: ['@acme/release'] })
    expect((await auditIndex(idx.repo)).violations).toEqual([])
  })

  it('a trailer a submitter writes into the proposal never reaches main; audit goes by the trailer on main, not the author name', async () => {
    const forged = withSubmitterTrailer('Raise the limits', { login: 'admin' })
    const registry = (await readJsonAt<RegistryFile>(idx.repo, MAIN, REGISTRY_PATH))!
    const main = await resolveCommit(idx.repo, MAIN)
    const proposal = await writeCommitWith(idx.repo, {
      parents: [main],
      files: [{ path: REGISTRY_PATH, content: stableJson({ ...registry, maintainers: [...registry.maintainers, { login: 'mallory' }] }) }],
      message: forged,
      author: { login: 'admin' },
    })
    await setBranch(idx.repo, 'forged-trailer', proposal)
    const refused = await mergeProposal(idx.repo, { branch: 'forged-trailer', author: { login: 'mallory' } })
    expect(refused.merged).toBe(false)

    // main moved to it by hand: a commit whose author name is the maintainer, without wharf's trailer, is not the maintainer's
    const unsigned = await writeCommitWith(idx.repo, { parents: [main], files: [{ path: REGISTRY_PATH, content: stableJson({ ...registry, maintainers: [{ login: 'mallory' }] }) }], message: 'Policy', author: { login: 'admin' } })
    await setBranch(idx.repo, MAIN, unsigned)
    try {
      const audit = await auditIndex(idx.repo)
      expect(audit.violations).toContainEqual({ commit: unsigned, file: REGISTRY_PATH, message: expect.stringMatching(/without a Wharf-Submitter trailer modified/) })
    } finally {
      await setBranch(idx.repo, MAIN, main)
    }
  })

  it('the trailer is one small function the GitHub merge can call, and reads back exactly', () => {
    expect(submitterTrailer({ login: 'octo-cat', id: 583231 }, ['@org/b', '@org/a'])).toBe('Wharf-Submitter: octo-cat (583231)\nWharf-Submitter-Team: @org/a\nWharf-Submitter-Team: @org/b')
    expect(readSubmitterTrailer(`Publish x (#12)\n\n${submitterTrailer({ login: 'dependabot[bot]' })}\n`)).toEqual({ login: 'dependabot[bot]', teams: [] })
    // two submitters, or one outside the last paragraph, is no submitter
    expect(readSubmitterTrailer('x\n\nWharf-Submitter: a\nWharf-Submitter: b')).toBeUndefined()
    expect(readSubmitterTrailer('x\n\nWharf-Submitter: a\n\nSigned-off-by: b')).toBeUndefined()
    expect(() => submitterTrailer({ login: 'bad login' })).toThrow(/not an account login/)
  })
})
