/** Actions: workflow runs for a commit, a run's artifacts, and an artifact's zip. */
import { params, type Client } from './client.js'
import { GitHubErrorCode, attempt, attemptOptional } from './errors.js'
import { WharfError } from '../core/errors.js'
import type { Artifact, RepoRef, WorkflowRun } from './types.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function toRun(r: Json): WorkflowRun {
  return {
    id: r.id,
    name: r.name ?? null,
    workflowPath: r.path,
    event: r.event,
    status: r.status ?? null,
    conclusion: r.conclusion ?? null,
    headSha: r.head_sha,
    headBranch: r.head_branch ?? null,
    runNumber: r.run_number,
    pullRequests: (r.pull_requests ?? []).map((p: Json) => Number(p.number)),
    htmlUrl: r.html_url,
    createdAt: r.created_at,
  }
}

function toArtifact(a: Json): Artifact {
  return { id: a.id, name: a.name, sizeInBytes: a.size_in_bytes, expired: a.expired === true, digest: a.digest ?? null, runId: a.workflow_run?.id ?? null }
}

export function createRuns(client: Client) {
  const { octokit } = client
  const name = (r: RepoRef) => `${r.owner}/${r.repo}`
  return {
    /** Runs for a head commit, newest first; `workflowPath` and `event` narrow them. */
    async listForSha(repo: RepoRef, sha: string, options: { event?: string; workflowPath?: string } = {}): Promise<WorkflowRun[]> {
      return attempt(`listing workflow runs of ${name(repo)} for ${sha.slice(0, 12)}`, async () => {
        const runs = await octokit.paginate(octokit.rest.actions.listWorkflowRunsForRepo, { ...params(repo), head_sha: sha, per_page: 100, ...(options.event ? { event: options.event } : {}) })
        return runs.map(toRun).filter((r) => !options.workflowPath || r.workflowPath === options.workflowPath || r.workflowPath.startsWith(`${options.workflowPath}@`))
      })
    },

    async get(repo: RepoRef, runId: number): Promise<WorkflowRun> {
      return attempt(`reading workflow run ${runId} of ${name(repo)}`, async () => toRun((await octokit.rest.actions.getWorkflowRun({ ...params(repo), run_id: runId })).data))
    },

    async listArtifacts(repo: RepoRef, runId: number, options: { name?: string } = {}): Promise<Artifact[]> {
      return attempt(`listing artifacts of run ${runId} of ${name(repo)}`, async () => {
        const artifacts = await octokit.paginate(octokit.rest.actions.listWorkflowRunArtifacts, { ...params(repo), run_id: runId, per_page: 100, ...(options.name ? { name: options.name } : {}) })
        return artifacts.map(toArtifact)
      })
    },

    /**
     * The artifact's zip, at most `maxBytes`: GitHub answers a redirect to a
     * short-lived storage URL, fetched without the token.
     */
    async downloadArtifact(repo: RepoRef, artifactId: number, options: { maxBytes: number; timeoutMs?: number }): Promise<Buffer> {
      const what = `downloading artifact ${artifactId} of ${name(repo)}`
      const response = await attemptOptional(what, () =>
        octokit.rest.actions.downloadArtifact({ ...params(repo), artifact_id: artifactId, archive_format: 'zip', request: { redirect: 'manual' } }),
      )
      if (!response) throw new WharfError(GitHubErrorCode.NotFound, `${what}: no such artifact`, { hint: 'it may have expired; run the workflow again' })
      const location = (response.headers as Record<string, string | undefined>).location
      if (!location) throw new WharfError(GitHubErrorCode.Unavailable, `${what}: GitHub answered ${response.status} without a location`, { hint: 'retry later' })
      return client.download(location, { maxBytes: options.maxBytes, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })
    },
  }
}
