/** Repositories and forks, and the Git Data API: blobs, trees, commits and refs. */
import { setTimeout as sleep } from 'node:timers/promises'
import { WharfError } from '../core/errors.js'
import { params, type Client } from './client.js'
import { GitHubErrorCode, attempt, attemptOptional, statusOf } from './errors.js'
import type { GitCommit, GitRef, RepoRef, Repository, TreeEntry } from './types.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function toRepository(r: Json): Repository {
  return {
    owner: r.owner.login,
    repo: r.name,
    id: r.id,
    fullName: r.full_name,
    private: r.private === true,
    fork: r.fork === true,
    parent: r.parent?.full_name,
    defaultBranch: r.default_branch,
    cloneUrl: r.clone_url,
    htmlUrl: r.html_url,
  }
}

function toCommit(c: Json): GitCommit {
  return { sha: c.sha, tree: c.tree.sha, parents: (c.parents ?? []).map((p: Json) => String(p.sha)), message: c.message }
}

/** `heads/main` from `refs/heads/main` or `heads/main`: the form the ref endpoints take in their path. */
function shortRef(ref: string): string {
  return ref.replace(/^refs\//, '')
}

export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
}

export function createRepos(client: Client) {
  const { octokit } = client
  const name = (r: RepoRef) => `${r.owner}/${r.repo}`
  return {
    async get(repo: RepoRef): Promise<Repository> {
      return attempt(`reading repository ${name(repo)}`, async () => toRepository((await octokit.rest.repos.get(params(repo))).data))
    },

    /**
     * The bytes of the file at `path` in one call (the contents API), at `ref`
     * or the default branch; undefined when no file is there: absent (or the
     * repository hidden from the token), a directory, a submodule, or a
     * symlink GitHub does not follow (one to a file of the repository comes as
     * that file). GITHUB_TOO_LARGE over `maxBytes`, and for a file over the
     * 1 MB the contents API sends.
     */
    async getFile(repo: RepoRef, path: string, options: { ref?: string; maxBytes: number }): Promise<Uint8Array | undefined> {
      const what = `reading ${path} of ${name(repo)}${options.ref ? ` at ${options.ref}` : ''}`
      const found = await attemptOptional(what, () => octokit.rest.repos.getContent({ ...params(repo), path, ...(options.ref ? { ref: options.ref } : {}) }))
      const data = found?.data as Json | Json[] | undefined
      if (!data || Array.isArray(data) || data.type !== 'file') return undefined
      const tooLarge = (why: string) => new WharfError(GitHubErrorCode.TooLarge, `${what}: ${why}`, { hint: 'the file is larger than any this reader accepts; check what it holds' })
      if (typeof data.size !== 'number' || data.size > options.maxBytes) throw tooLarge(`${data.size} bytes, over the ${options.maxBytes} allowed`)
      // Over 1 MB the contents API sends no content (encoding "none").
      if (data.encoding !== 'base64' || typeof data.content !== 'string') throw tooLarge(`GitHub sends no content for it (encoding "${data.encoding}"): the contents API sends files up to 1 MB`)
      const bytes = Buffer.from(data.content, 'base64')
      if (bytes.length > options.maxBytes) throw tooLarge(`${bytes.length} bytes, over the ${options.maxBytes} allowed`)
      if (bytes.length !== data.size) {
        throw new WharfError(GitHubErrorCode.Unavailable, `${what}: GitHub sent ${bytes.length} bytes of a file of ${data.size}`, { hint: 'GitHub answered inconsistently; retry later' })
      }
      return bytes
    },

    /**
     * Forks `repo` to the token's account (or returns the fork it already has).
     * GitHub forks asynchronously: `waitForFork` before using its git data.
     */
    async createFork(repo: RepoRef, options: { name?: string; defaultBranchOnly?: boolean } = {}): Promise<Repository> {
      return attempt(`forking ${name(repo)}`, async () =>
        toRepository(
          (
            await octokit.rest.repos.createFork({
              ...params(repo),
              ...(options.name ? { name: options.name } : {}),
              ...(options.defaultBranchOnly !== undefined ? { default_branch_only: options.defaultBranchOnly } : {}),
            })
          ).data,
        ),
      )
    },

    /** Waits until a new fork's default branch can be read, polling with backoff (GitHub asks for up to 5 minutes). */
    async waitForFork(fork: Repository, options: WaitOptions = {}): Promise<GitRef> {
      const deadline = Date.now() + (options.timeoutMs ?? 300_000)
      let interval = options.intervalMs ?? 1000
      for (;;) {
        try {
          const { data } = await octokit.rest.git.getRef({ owner: fork.owner, repo: fork.repo, ref: `heads/${fork.defaultBranch}` })
          return { ref: data.ref, sha: data.object.sha, type: data.object.type }
        } catch (e) {
          const status = statusOf(e)
          if (status !== 404 && status !== 409) return attempt(`waiting for fork ${fork.fullName}`, () => Promise.reject(e))
        }
        if (Date.now() + interval > deadline) {
          throw new WharfError(GitHubErrorCode.Timeout, `fork ${fork.fullName} was not ready in time`, { hint: 'GitHub is slow to fork; run it again in a few minutes' })
        }
        await sleep(interval)
        interval = Math.min(interval * 2, 15_000)
      }
    },
  }
}

export function createGit(client: Client) {
  const { octokit } = client
  const name = (r: RepoRef) => `${r.owner}/${r.repo}`
  return {
    /** Stores bytes as a blob; returns its sha. */
    async createBlob(repo: RepoRef, content: Uint8Array | string): Promise<string> {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content)
      return attempt(`storing a blob in ${name(repo)}`, async () => (await octokit.rest.git.createBlob({ ...params(repo), content: bytes.toString('base64'), encoding: 'base64' })).data.sha)
    },

    /** A tree: `baseTree` with the entries set or (sha null) removed; returns its sha. */
    async createTree(repo: RepoRef, options: { baseTree?: string; entries: TreeEntry[] }): Promise<string> {
      const tree = options.entries.map((e) => {
        const mode = e.mode ?? '100644'
        const type = mode === '040000' ? ('tree' as const) : mode === '160000' ? ('commit' as const) : ('blob' as const)
        return e.content !== undefined ? { path: e.path, mode, type, content: e.content } : { path: e.path, mode, type, sha: e.sha ?? null }
      })
      return attempt(`writing a tree in ${name(repo)}`, async () => (await octokit.rest.git.createTree({ ...params(repo), tree, ...(options.baseTree ? { base_tree: options.baseTree } : {}) })).data.sha)
    },

    async getCommit(repo: RepoRef, sha: string): Promise<GitCommit> {
      return attempt(`reading commit ${sha.slice(0, 12)} of ${name(repo)}`, async () => toCommit((await octokit.rest.git.getCommit({ ...params(repo), commit_sha: sha })).data))
    },

    async createCommit(repo: RepoRef, options: { message: string; tree: string; parents: string[]; author?: { name: string; email: string; date?: string } }): Promise<GitCommit> {
      return attempt(`writing a commit in ${name(repo)}`, async () =>
        toCommit((await octokit.rest.git.createCommit({ ...params(repo), message: options.message, tree: options.tree, parents: options.parents, ...(options.author ? { author: options.author } : {}) })).data),
      )
    },

    /** A ref (`heads/main`, `refs/tags/v1`), or undefined when it does not exist. */
    async getRef(repo: RepoRef, ref: string): Promise<GitRef | undefined> {
      const found = await attemptOptional(`reading ${ref} of ${name(repo)}`, () => octokit.rest.git.getRef({ ...params(repo), ref: shortRef(ref) }))
      return found ? { ref: found.data.ref, sha: found.data.object.sha, type: found.data.object.type } : undefined
    },

    /** Creates `refs/...` at `sha`; GITHUB_VALIDATION_FAILED when it exists. */
    async createRef(repo: RepoRef, ref: string, sha: string): Promise<GitRef> {
      const full = ref.startsWith('refs/') ? ref : `refs/${ref}`
      return attempt(`creating ${full} in ${name(repo)}`, async () => {
        const { data } = await octokit.rest.git.createRef({ ...params(repo), ref: full, sha })
        return { ref: data.ref, sha: data.object.sha, type: data.object.type }
      })
    },

    /** Moves a ref to `sha`; only forward unless `force`. */
    async updateRef(repo: RepoRef, ref: string, sha: string, options: { force?: boolean } = {}): Promise<GitRef> {
      return attempt(`moving ${ref} of ${name(repo)} to ${sha.slice(0, 12)}`, async () => {
        const { data } = await octokit.rest.git.updateRef({ ...params(repo), ref: shortRef(ref), sha, force: options.force === true })
        return { ref: data.ref, sha: data.object.sha, type: data.object.type }
      })
    },
  }
}
