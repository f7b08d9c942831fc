/**
 * The only module that knows GitHub's REST API: a small typed API over Octokit
 * (with retries and GitHub's rate limits), plain data in and out, failures as
 * WharfErrors with stable codes (see `GitHubErrorCode`). It never reads the
 * Actions runner's context: callers pass what they know.
 */
import { createClient, type GitHubOptions } from './client.js'
import { createIssues } from './issues.js'
import { createPulls } from './pulls.js'
import { createReleases } from './releases.js'
import { createGit, createRepos } from './repos.js'
import { createRuns } from './runs.js'
import { createUsers } from './users.js'

export interface GitHub {
  pulls: ReturnType<typeof createPulls>
  issues: ReturnType<typeof createIssues>
  users: ReturnType<typeof createUsers>
  runs: ReturnType<typeof createRuns>
  repos: ReturnType<typeof createRepos>
  git: ReturnType<typeof createGit>
  releases: ReturnType<typeof createReleases>
  /** HTTP requests made so far (retries and downloads included): what a publish costs in API calls. */
  requestCount(): number
  /** GitHub's clock, from the Date of its latest answer (undefined before the first). */
  serverTime(): Date | undefined
}

/** A GitHub client for one token. */
export function createGitHub(options: GitHubOptions): GitHub {
  const client = createClient(options)
  return {
    pulls: createPulls(client),
    issues: createIssues(client),
    users: createUsers(client),
    runs: createRuns(client),
    repos: createRepos(client),
    git: createGit(client),
    releases: createReleases(client),
    requestCount: client.requests,
    serverTime: client.serverTime,
  }
}

export type { GitHubOptions } from './client.js'
export { GitHubErrorCode } from './errors.js'
export { commentMarker, MAX_COMMENT_CHARS, type UpsertCommentOptions } from './issues.js'
export { MAX_PULL_FILES, type CreatePullOptions, type MergeOptions } from './pulls.js'
export { MAX_ASSET_BYTES, MAX_RELEASE_ASSETS } from './releases.js'
export type * from './types.js'
