/** Plain data in and out of the GitHub module: no Octokit type leaves it. */

/** A repository by owner and name. */
export interface RepoRef {
  owner: string
  repo: string
}

export interface Account {
  login: string
  /** Numeric id: stays when a login is renamed. */
  id: number
  type: 'User' | 'Bot' | 'Organization'
}

export interface Repository extends RepoRef {
  id: number
  fullName: string
  private: boolean
  fork: boolean
  /** The repository this one was forked from (`owner/name`), when it is a fork. */
  parent: string | undefined
  defaultBranch: string
  cloneUrl: string
  htmlUrl: string
}

export interface BranchTip {
  ref: string
  sha: string
  /** `owner/name` of the repository the branch is in; null when it was deleted. */
  repo: string | null
}

export interface PullRequest {
  number: number
  title: string
  body: string | null
  state: 'open' | 'closed'
  draft: boolean
  merged: boolean
  /** null while GitHub is still computing it. */
  mergeable: boolean | null
  author: Account
  head: BranchTip
  base: BranchTip
  labels: string[]
  createdAt: string
  updatedAt: string
  mergedAt: string | null
  mergeCommitSha: string | null
  htmlUrl: string
}

export interface PullFile {
  filename: string
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged'
  previousFilename: string | undefined
  /** Blob sha of the new content (null when GitHub omits it). */
  sha: string | null
  additions: number
  deletions: number
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING'

export interface Review {
  id: number
  reviewer: Account | null
  state: ReviewState
  body: string
  commitId: string | null
  submittedAt: string | null
}

export interface Comment {
  id: number
  body: string
  author: Account | null
  createdAt: string
  updatedAt: string
  htmlUrl: string
}

export interface Label {
  name: string
  color: string
  description: string | null
}

export type RepoPermission = 'admin' | 'write' | 'read' | 'none'

export interface WorkflowRun {
  id: number
  name: string | null
  /** The workflow file, `.github/workflows/x.yml`. */
  workflowPath: string
  event: string
  status: string | null
  conclusion: string | null
  headSha: string
  headBranch: string | null
  runNumber: number
  pullRequests: number[]
  htmlUrl: string
  createdAt: string
}

export interface Artifact {
  id: number
  name: string
  sizeInBytes: number
  expired: boolean
  /** `sha256:<hex>` of the zip when GitHub reports it. */
  digest: string | null
  runId: number | null
}

export interface GitRef {
  ref: string
  sha: string
  type: string
}

export interface GitCommit {
  sha: string
  tree: string
  parents: string[]
  message: string
}

export interface TreeEntry {
  path: string
  /** `100644` (file, the default), `100755` (executable), `040000` (tree), `120000` (symlink), `160000` (submodule). */
  mode?: '100644' | '100755' | '040000' | '120000' | '160000'
  /** An existing object, inline text content, or null to delete the path from the base tree. */
  sha?: string | null
  content?: string
}

export interface ReleaseAsset {
  id: number
  name: string
  label: string | null
  size: number
  contentType: string
  /** `sha256:<hex>` as GitHub computes it, when it reports it. */
  digest: string | null
  browserDownloadUrl: string
}

export interface Release {
  id: number
  tag: string
  name: string | null
  draft: boolean
  prerelease: boolean
  /** GitHub's URI template for uploads (`...{?name,label}`). */
  uploadUrl: string
  htmlUrl: string
  assets: ReleaseAsset[]
}
