/**
 * `release`: after a push to the index's main branch, each version the push
 * added ships as assets of a release of the index repo itself, so readers
 * depend on no publisher's repo staying up. Every artifact is fetched where
 * its record says, re-verified by sha256 and size, and uploaded to the
 * release `releaseTag(record)` (see core/release-assets.ts for the tag and
 * asset names). Running it again on the same push uploads nothing twice and
 * changes nothing: existing releases and assets are found by tag and name,
 * and an asset counts as present only when its digest matches the record.
 * `commitReports` then adds the versions' compatibility reports to main as
 * one commit of the token's, never replacing a file already there.
 */
import { fetchLimited, readRegistry, type Fetch } from '../check/index.js'
import { WharfError, type WharfCode } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { classifyPath, REPORTS_DIR } from '../core/layout.js'
import { MAX_ASSET_BYTES, MAX_RELEASE_ASSETS, releaseAssetName, releaseTag } from '../core/release-assets.js'
import { schemaErrors } from '../core/schemas.js'
import type { Artifact, VersionRecord } from '../core/types.js'
// Types only: the GitHub client (and Octokit) loads with the command that makes one, not with every publish.
import type { GitHub, Release, RepoRef } from '../github/index.js'
import { diffCommits, fetchRef, readCommitInfo, readFileAt, readJsonAt, resolveCommit, type Repo } from '../git/index.js'
import { isLocalUrl, readArtifact } from '../store/index.js'
import { assertSameBytes } from './github.js'

export interface ReleaseOptions {
  github: GitHub
  /** The index repo on GitHub, whose releases receive the artifacts. */
  index: RepoRef
  /** A clone of the index holding both commits. */
  repo: Repo
  /** The push's `before` commit; the all-zero id (a new branch) or undefined takes every record at `after`. */
  before?: string
  after: string
  /** How artifacts are fetched (default: check's guarded fetch, from public addresses only, as the registry's policy says). */
  fetch?: Fetch
  /** Per artifact, the longest a fetch may take (default 5 minutes). */
  timeoutMs?: number
  /** Told each step, for a person watching. */
  progress?: (message: string) => void
}

export interface ReleasedAsset {
  name: string
  url: string
  size: number
  sha256: string
  /** Uploaded by this run, or found already there with the same digest. */
  status: 'uploaded' | 'present'
}

export interface ReleasedVersion {
  name: string
  version: string
  tag: string
  /** Absent when the version failed before its release was found or made. */
  release?: { id: number; url: string; created: boolean }
  assets: ReleasedAsset[]
  /** Why the version could not be released; the others still are. */
  error?: { code: WharfCode; message: string; hint?: string }
}

export interface ReleaseResult {
  before: string | undefined
  after: string
  versions: ReleasedVersion[]
  /** Assets uploaded by this run (0 on a re-run). */
  uploaded: number
  /** REST calls and downloads this run made through the GitHub client. */
  requests: number
}

const ZERO = /^0{40}$/

/** Mirrors the versions the push `before..after` added to releases of the index repo. */
export async function releaseVersions(options: ReleaseOptions): Promise<ReleaseResult> {
  const { github, repo } = options
  const startRequests = github.requestCount()
  const after = await resolveCommit(repo, options.after)
  const before = options.before === undefined || ZERO.test(options.before) ? undefined : await resolveCommit(repo, options.before)
  const registry = await readRegistry(repo, after)
  const added = (await diffCommits(repo, before, after)).filter((c) => c.status === 'added' && classifyPath(c.path).kind === 'record')
  const versions: ReleasedVersion[] = []
  for (const change of added) {
    // A file that reached main without being a record costs its own version, not the push's others.
    const record = await readJsonAt<VersionRecord>(repo, after, change.path).catch((e: unknown) => {
      if (e instanceof SyntaxError) return undefined
      throw e
    })
    const entry: ReleasedVersion = { name: record?.name ?? change.path, version: record?.version ?? '', tag: '', assets: [] }
    versions.push(entry)
    try {
      const problems = record ? schemaErrors('record', record) : ['it is not JSON']
      if (!record || problems.length) {
        throw new WharfError('INVALID_RECORD', `${change.path} at ${after.slice(0, 12)} is not a valid record: ${problems.join('; ')}`, { hint: 'the gate should have refused it; a maintainer must look at how it reached main' })
      }
      entry.tag = releaseTag(record)
      await releaseOne(options, record, entry, after, {
        fetch: options.fetch,
        limits: { maxBytes: registry.policy.limits.max_artifact_bytes, timeoutMs: options.timeoutMs ?? 300_000, allowHttpLoopback: registry.policy.urls.allow_http_loopback },
      })
    } catch (e) {
      const err = e instanceof WharfError ? e : new WharfError('INTERNAL', (e as Error).message ?? String(e))
      entry.error = { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }
      options.progress?.(`${entry.name}@${entry.version}: ${err.message}`)
    }
  }
  return { before, after, versions, uploaded: versions.reduce((n, v) => n + v.assets.filter((a) => a.status === 'uploaded').length, 0), requests: github.requestCount() - startRequests }
}

interface FetchContext {
  /** Undefined: check's guarded fetch. */
  fetch: Fetch | undefined
  limits: { maxBytes: number; timeoutMs: number; allowHttpLoopback: boolean }
}

async function releaseOne(options: ReleaseOptions, record: VersionRecord, entry: ReleasedVersion, after: string, ctx: FetchContext): Promise<void> {
  const { github, index } = options
  const ref = `${record.name}@${record.version}`
  const names = record.artifacts.map((a) => releaseAssetName(record, a))
  // GitHub's limits are checked before anything is made, so a refused version leaves no empty release behind.
  if (new Set(names).size !== names.length) throw new WharfError('INVALID_RECORD', `${ref} names two artifacts alike (${names.join(', ')}); one release cannot hold both`, { hint: 'give each artifact its own file name' })
  if (record.artifacts.length > MAX_RELEASE_ASSETS) {
    throw new WharfError('TOO_LARGE', `${ref} has ${record.artifacts.length} artifacts; a GitHub release holds at most ${MAX_RELEASE_ASSETS} assets`, { hint: 'publish fewer artifacts per version' })
  }
  const huge = record.artifacts.find((a) => a.size > MAX_ASSET_BYTES)
  if (huge) throw new WharfError('TOO_LARGE', `${ref}: artifact ${huge.name} is ${huge.size} bytes; a GitHub release asset holds at most 2 GiB`, { hint: 'publish a smaller artifact' })

  let release: Release | undefined = await github.releases.getByTag(index, entry.tag)
  const created = release === undefined
  release ??= await github.releases.create(index, { tag: entry.tag, name: ref, body: releaseBody(record), target: after })
  entry.release = { id: release.id, url: release.htmlUrl, created }
  const missing = record.artifacts.filter((a, i) => !release.assets.some((x) => x.name === names[i]))
  if (release.assets.length + missing.length > MAX_RELEASE_ASSETS) {
    throw new WharfError('TOO_LARGE', `release ${entry.tag} of ${index.owner}/${index.repo} holds ${release.assets.length} assets; ${missing.length} more would pass GitHub's ${MAX_RELEASE_ASSETS}`, { hint: 'remove the assets that are not the record\'s artifacts' })
  }
  for (const [i, artifact] of record.artifacts.entries()) {
    const name = names[i]!
    const digest = `sha256:${artifact.sha256}`
    const present = release.assets.find((a) => a.name === name)
    if (present) {
      await assertSameBytes(github, present, digest, artifact.size, `${index.owner}/${index.repo}@${entry.tag}`)
      entry.assets.push({ name, url: present.browserDownloadUrl, size: artifact.size, sha256: artifact.sha256, status: 'present' })
      continue
    }
    options.progress?.(`${ref}: fetching ${artifact.name} from ${artifact.url}`)
    const bytes = await artifactBytes(options.repo, artifact, ctx)
    const uploaded = await github.releases.uploadAsset(release, { name, data: bytes })
    if (uploaded.digest && uploaded.digest !== digest) {
      throw new WharfError('DIGEST_MISMATCH', `GitHub stored ${name} in release ${entry.tag} with digest ${uploaded.digest}, not ${digest}`, { hint: 'the upload was altered on the way; delete the asset and run release again' })
    }
    options.progress?.(`${ref}: uploaded ${name} to release ${entry.tag}`)
    entry.assets.push({ name, url: uploaded.browserDownloadUrl, size: artifact.size, sha256: artifact.sha256, status: 'uploaded' })
  }
}

/** An artifact's bytes from where its record says (the index's own store for `sha256:`), verified by size and sha256. */
async function artifactBytes(repo: Repo, artifact: Artifact, ctx: FetchContext): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined
  if (isLocalUrl(artifact.url)) {
    bytes = await readArtifact(repo.dir, artifact.sha256)
    if (!bytes) throw new WharfError('ARTIFACT_MISSING', `${artifact.name} is kept in the index's own store (${artifact.url}), which this clone does not hold`, { hint: 'run release where the artifact store is, or publish with an https artifact URL' })
  } else {
    bytes = await fetchLimited(ctx.fetch, artifact.url, { ...ctx.limits, maxBytes: Math.min(ctx.limits.maxBytes, artifact.size) })
  }
  const sha256 = sha256Hex(bytes)
  if (bytes.byteLength !== artifact.size || sha256 !== artifact.sha256) {
    throw new WharfError('DIGEST_MISMATCH', `${artifact.url} served ${bytes.byteLength} bytes with sha256 ${sha256}; the record says ${artifact.size} bytes, sha256 ${artifact.sha256}`, {
      hint: 'the artifact changed after the gate checked it; nothing was uploaded',
    })
  }
  return bytes
}

function releaseBody(record: VersionRecord): string {
  const rows = record.artifacts.map((a) => `| ${a.name} | ${a.target} | ${a.size} | \`${a.sha256}\` |`)
  return [`\`${record.name}@${record.version}\` (${record.kind}), published by @${record.publisher.login} at ${record.published_at}.`, '', '| artifact | target | size | sha256 |', '|---|---|---|---|', ...rows].join('\n')
}

export interface ReportFile {
  /** Under index/reports/. */
  path: string
  content: string
}

export interface CommitReportsOptions {
  github: GitHub
  index: RepoRef
  /** A clone of the index; main is fetched into it to see what the branch holds now. */
  repo: Repo
  /** The remote main is fetched from, and the token it takes. */
  remote: string
  token?: string
  branch?: string
  files: readonly ReportFile[]
  message: string
  /** Attempts when main moves between reading it and moving it (default 3). */
  attempts?: number
}

export interface CommitReportsResult {
  /** The commit made, or undefined when main already held every file. */
  commit: string | undefined
  /** The branch's tip afterwards. */
  head: string
  /** Paths added by the commit. */
  added: string[]
  /** Paths main already held (the same report, or one that must not be replaced: reports are append-only). */
  present: string[]
}

/**
 * Commits the files main does not hold yet as one commit on top of main,
 * through the Git Data API, so the commit is the token's (the registry's bot
 * in a workflow). Only paths under index/reports/ are written and none is
 * replaced; when main moves meanwhile, the commit is made again on the new tip.
 */
export async function commitReports(options: CommitReportsOptions): Promise<CommitReportsResult> {
  const { github, index, repo } = options
  const branch = options.branch ?? 'main'
  for (const file of options.files) {
    if (!file.path.startsWith(`${REPORTS_DIR}/`) || file.path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new WharfError('INVALID_INPUT', `${file.path} is not a path under ${REPORTS_DIR}/`, { hint: 'release commits compatibility reports only' })
    }
  }
  const attempts = options.attempts ?? 3
  for (let attempt = 1; ; attempt++) {
    const tip = await fetchRef(repo, { remote: options.remote, ref: `refs/heads/${branch}`, ...(options.token ? { token: options.token } : {}), depth: 0 })
    const added: string[] = []
    const present: string[] = []
    for (const file of options.files) ((await readFileAt(repo, tip, file.path)) === undefined ? added : present).push(file.path)
    if (added.length === 0) return { commit: undefined, head: tip, added, present }
    const base = await readCommitInfo(repo, tip)
    const tree = await github.git.createTree(index, { baseTree: base.tree, entries: options.files.filter((f) => added.includes(f.path)).map((f) => ({ path: f.path, content: f.content })) })
    const commit = await github.git.createCommit(index, { message: options.message, tree, parents: [tip] })
    try {
      await github.git.updateRef(index, `heads/${branch}`, commit.sha)
      return { commit: commit.sha, head: commit.sha, added, present }
    } catch (e) {
      if (!(e instanceof WharfError) || !['GITHUB_VALIDATION_FAILED', 'GITHUB_CONFLICT'].includes(e.code)) throw e
      // Not a fast-forward: another push landed meanwhile. Start again from the new tip.
      if (/not a fast.forward/i.test(e.message) && attempt < attempts) continue
      // A branch protection rule, or a ruleset: no retry moves it.
      if (/protected branch|rule violation/i.test(e.message)) {
        throw new WharfError('FORBIDDEN', `${branch} of ${index.owner}/${index.repo} refused the report commit: ${e.message}`, {
          hint: `let the release job's token push to ${branch} (a bypass for GitHub Actions in the branch's protection or ruleset), or the reports stay out of the index`,
          cause: e,
        })
      }
      throw e
    }
  }
}
