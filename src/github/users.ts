/** Accounts by login and by numeric id, team membership, and a user's permission on a repository. */
import { params, type Client } from './client.js'
import { attempt, attemptOptional, statusOf } from './errors.js'
import { toAccount } from './pulls.js'
import type { Account, RepoPermission, RepoRef } from './types.js'

export function createUsers(client: Client) {
  const { octokit } = client
  return {
    /** The account with this login, or undefined when there is none. */
    async byLogin(login: string): Promise<Account | undefined> {
      const found = await attemptOptional(`looking up user ${login}`, () => octokit.rest.users.getByUsername({ username: login }))
      return found ? (toAccount(found.data) ?? undefined) : undefined
    },

    /**
     * The user this client's token acts for; undefined for a token that acts
     * for no user (a GitHub App's installation token, a workflow's
     * github.token), which GitHub refuses here with 403.
     */
    async authenticated(): Promise<Account | undefined> {
      try {
        return toAccount((await octokit.rest.users.getAuthenticated()).data) ?? undefined
      } catch (e) {
        if (statusOf(e) === 403) return undefined
        return attempt('reading the account of the token', () => Promise.reject(e))
      }
    },

    /** The account with this numeric id (its current login, after any rename), or undefined. */
    async byId(id: number): Promise<Account | undefined> {
      const found = await attemptOptional(`looking up user id ${id}`, () => octokit.request('GET /user/{account_id}', { account_id: id }))
      return found ? (toAccount(found.data as Record<string, unknown>) ?? undefined) : undefined
    },

    /**
     * Whether `login` is an active member of `@org/team` (a pending invitation is not).
     * A token needs the organization's members: read permission; without it GitHub answers 403.
     */
    async isTeamMember(org: string, team: string, login: string): Promise<boolean> {
      const found = await attemptOptional(`reading membership of ${login} in @${org}/${team}`, () =>
        octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: team, username: login }),
      )
      return found?.data.state === 'active'
    },

    /** A user's permission on a repository: admin, write, read or none. */
    async permission(repo: RepoRef, login: string): Promise<RepoPermission> {
      const { data } = await attempt(`reading ${login}'s permission on ${repo.owner}/${repo.repo}`, () =>
        octokit.rest.repos.getCollaboratorPermissionLevel({ ...params(repo), username: login }),
      )
      const p = data.permission
      return p === 'admin' || p === 'write' || p === 'read' ? p : p === 'maintain' ? 'write' : p === 'triage' ? 'read' : 'none'
    },
  }
}
