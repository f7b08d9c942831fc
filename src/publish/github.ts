/**
 * Publishing to an index repo on GitHub, from a crate or component repo: the
 * artifact becomes an asset of a release of that repo, the signed record
 * points at it, and a pull request adds the record to the index through the
 * Git Data API (blob, tree, commit, ref), from a fork when the token cannot
 * push to the index. `wharf publish --github` and the action's `publish` are
 * thin edges over `publishToGitHub`.
 */
import { artifactFormatProblem } from '../check/index.js'
import { WharfError, type WharfCode } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { parseStrictJson } from '../core/json.js'
import { recordPath, REGISTRY_PATH } from '../core/layout.js'
import { parsePackageId } from '../core/names.js'
import { MAX_ASSET_BYTES } from '../core/release-assets.js'
import { stableJson } from '../core/canonical.js'
import { schemaErrors } from '../core/schemas.js'
import type { RegistryFile, VersionRecord } from '../core/types.js'
import { parseVersion } from '../core/versions.js'
// Types only: the GitHub client (and Octokit) loads with the command that makes one, not with every publish.
import type { GitHub, Release, ReleaseAsset, RepoRef, Repository } from '../github/index.js'
import { prepareCrate, type CratePublishOptions, type PreparedCrate } from './crate.js'
import { signRecord, type PublishOptions } from './publish.js'

export interface GitHubPublishOptions extends Omit<PublishOptions, 'artifact'> {
  /** The artifact's bytes and the file name it had (the asset's name). */
  bytes: Uint8Array
  file: string
  /** The index repo the pull request goes to. */
  index: RepoRef
  /** The crate or component repo whose release holds the artifact. */
  from: RepoRef
  /** Tag of that release; created (at the repo's default branch, or `target`) when absent. */
  tag: string
  /** What a new release's tag points at (a branch or commit; default the repo's default branch). */
  tagTarget?: string
  /** How long to wait for a new fork to become usable (GitHub forks asynchronously). */
  forkWait?: { timeoutMs?: number; intervalMs?: number }
  /** `github.requestCount()` before the calls made to prepare this publish (reading the index's registry.json), so `requests` counts them too. */
  requestsBefore?: number
}

export interface GitHubPublishResult {
  record: VersionRecord
  /** The artifact's release asset in the publishing repo. */
  asset: { url: string; uploaded: boolean }
  pullRequest: { number: number; url: string; created: boolean }
  /** The repository the proposal branch is in: the index itself, or the token owner's fork of it. */
  head: { repo: string; branch: string; sha: string }
  viaFork: boolean
  /** REST calls this publish made (uploads and redirects included). */
  requests: number
}

const full = (r: RepoRef) => `${r.owner}/${r.repo}`
/** FORBIDDEN (github/errors.ts), named here so that publishing loads no GitHub client code. */
const FORBIDDEN: WharfCode = 'GITHUB_FORBIDDEN'

/** The most of an index's registry.json read from GitHub: all that the contents API sends in one call. */
export const MAX_REGISTRY_FILE_BYTES = 1024 * 1024

/** Control characters of another's file, escaped before they reach a terminal or a log. */
const shown = (text: string) => text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

/**
 * The namespace a crate's package goes in on a GitHub index unless named:
 * `policy.namespaces.crates` of the index's registry.json on its default
 * branch (`crates` when unset), in one REST call. The file is another's
 * data: read strictly, checked against the registry schema, and refused
 * when it is not a registry file rather than guessed at.
 */
export async function indexCratesNamespace(github: GitHub, index: RepoRef): Promise<string> {
  const bytes = await github.repos.getFile(index, REGISTRY_PATH, { maxBytes: MAX_REGISTRY_FILE_BYTES })
  if (!bytes) {
    throw new WharfError('NOT_AN_INDEX', `${full(index)} has no ${REGISTRY_PATH} on its default branch: it is not a wharf index, or the token cannot read it`, {
      hint: 'name an index repo made by `wharf init --github`, with a token that can read it',
    })
  }
  const invalid = (why: string) =>
    new WharfError('NOT_AN_INDEX', `${REGISTRY_PATH} of ${full(index)} is not a valid registry file: ${shown(why)}`, {
      hint: "a maintainer of the index must fix it; to publish meanwhile, give the package id (--name, or the Action's name input), which needs no registry.json",
    })
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw invalid('not UTF-8')
  }
  const parsed = parseStrictJson(text)
  if (!parsed.ok) throw invalid(parsed.message)
  const problems = schemaErrors('registry', parsed.value)
  if (problems.length > 0) throw invalid(problems.slice(0, 3).join('; '))
  return (parsed.value as RegistryFile).policy.namespaces.crates ?? 'crates'
}

/**
 * Packages a crate for publishToGitHub. Without a name, its package goes in
 * the namespace the index's policy names for crates, read before cargo runs;
 * a given name needs no lookup (the crates namespace then serves only to find
 * dependencies in a local index, which a publish to GitHub has not).
 */
export async function prepareCrateForGitHub(github: GitHub, index: RepoRef, options: CratePublishOptions): Promise<PreparedCrate> {
  const cratesNamespace = options.name === undefined ? await indexCratesNamespace(github, index) : 'crates'
  return prepareCrate({ ...options, cratesNamespace })
}

/** Publishes one version to a GitHub index: release asset, signed record, pull request. */
export async function publishToGitHub(github: GitHub, options: GitHubPublishOptions): Promise<GitHubPublishResult> {
  const startRequests = options.requestsBefore ?? github.requestCount()
  const id = parsePackageId(options.name)
  const version = parseVersion(options.version)
  if (options.bytes.byteLength > MAX_ASSET_BYTES) {
    throw new WharfError('TOO_LARGE', `${options.file} is ${options.bytes.byteLength} bytes; a GitHub release asset holds at most 2 GiB`, { hint: 'publish a smaller artifact' })
  }
  // Everything that can be refused locally is refused before GitHub is asked anything.
  const draft = signRecord({ ...options, version }, options.bytes, options.file)
  const formatProblem = artifactFormatProblem(draft, draft.artifacts[0]!, options.bytes)
  if (formatProblem) throw new WharfError('INVALID_ARTIFACT', `${options.file}: ${formatProblem}`, { hint: 'publish the file the build produced' })
  // The record as it will be but for the asset's URL (a sha256: URL stands in): a field the schema refuses leaves no release behind.
  const refused = schemaErrors('record', draft)
  if (refused.length) throw new WharfError('INVALID_INPUT', `${recordPath(options.name, version)} would be invalid: ${refused.join('; ')}`, { hint: 'check the values passed on the command line' })

  const asset = await ensureAsset(github, options, draft.artifacts[0]!.name)
  const record = signRecord({ ...options, version }, options.bytes, options.file, asset.url)
  const path = recordPath(options.name, version)
  const problems = schemaErrors('record', record)
  if (problems.length) throw new WharfError('INVALID_INPUT', `${path} would be invalid: ${problems.join('; ')}`, { hint: 'check the values passed on the command line' })

  const index = await github.repos.get(options.index)
  const base = await github.git.getRef(index, `heads/${index.defaultBranch}`)
  if (!base) throw new WharfError('NOT_AN_INDEX', `${full(index)} has no ${index.defaultBranch} branch`, { hint: 'point --github at an index repo made by `wharf init --github`' })
  const baseCommit = await github.git.getCommit(index, base.sha)
  const branch = `publish/${id.namespace}/${id.name}/${version}`
  const content = stableJson(record)

  // Write where the token may: the index itself, else the token owner's fork of it.
  let target: RepoRef | Repository = index
  let viaFork = false
  let blob: string
  try {
    blob = await github.git.createBlob(index, content)
  } catch (e) {
    if (!(e instanceof WharfError) || e.code !== FORBIDDEN) throw e
    target = await forkOf(github, index, options.forkWait)
    viaFork = true
    blob = await github.git.createBlob(target, content)
  }
  const tree = await github.git.createTree(target, { baseTree: baseCommit.tree, entries: [{ path, sha: blob }] })
  const message = `Publish ${options.name}@${version}\n\nsha256 ${record.artifacts[0]!.sha256}, ${record.artifacts[0]!.size} bytes, from ${full(options.from)}@${options.tag}\n`
  const commit = await github.git.createCommit(target, { message, tree, parents: [base.sha] })
  const existing = await github.git.getRef(target, `heads/${branch}`)
  // A publish run again replaces its own proposal (the record is signed anew, with a new time) and keeps its pull request.
  if (existing) await github.git.updateRef(target, `heads/${branch}`, commit.sha, { force: true })
  else await github.git.createRef(target, `refs/heads/${branch}`, commit.sha)

  const open = existing ? (await github.pulls.listOpen(index, { base: index.defaultBranch })).find((p) => p.head.ref === branch && p.head.repo === full(target)) : undefined
  const pull =
    open ??
    (await github.pulls.create(index, {
      title: `Publish ${options.name}@${version}`,
      head: viaFork ? `${target.owner}:${branch}` : branch,
      base: index.defaultBranch,
      body: pullBody(record, options, asset.url),
      maintainerCanModify: false,
    }))
  return {
    record,
    asset,
    pullRequest: { number: pull.number, url: pull.htmlUrl, created: open === undefined },
    head: { repo: full(target), branch, sha: commit.sha },
    viaFork,
    requests: github.requestCount() - startRequests,
  }
}

/** The token owner's fork of the index, made when absent and waited for until its git data answers. */
async function forkOf(github: GitHub, index: Repository, wait: GitHubPublishOptions['forkWait']): Promise<Repository> {
  let fork: Repository
  try {
    fork = await github.repos.createFork(index, { defaultBranchOnly: true })
  } catch (e) {
    if (e instanceof WharfError && e.code === FORBIDDEN) {
      throw new WharfError(FORBIDDEN, `the token can neither push to ${full(index)} nor fork it`, {
        hint: "publish with a personal access token (a fine-grained one with contents and pull requests write): a workflow's GITHUB_TOKEN cannot reach another repository",
        cause: e,
      })
    }
    throw e
  }
  await github.repos.waitForFork(fork, wait ?? {})
  return fork
}

/** The artifact as an asset of the publishing repo's release: uploaded once, reused when the same bytes are already there. */
async function ensureAsset(github: GitHub, options: GitHubPublishOptions, name: string): Promise<{ url: string; uploaded: boolean }> {
  const where = `${full(options.from)}@${options.tag}`
  const release: Release =
    (await github.releases.getByTag(options.from, options.tag)) ??
    (await github.releases.create(options.from, { tag: options.tag, name: options.tag, ...(options.tagTarget ? { target: options.tagTarget } : {}) }))
  const digest = `sha256:${sha256Hex(options.bytes)}`
  const present = release.assets.find((a) => a.name === name)
  if (present) {
    await assertSameBytes(github, present, digest, options.bytes.byteLength, where)
    return { url: present.browserDownloadUrl, uploaded: false }
  }
  const uploaded = await github.releases.uploadAsset(release, { name, data: options.bytes })
  if (uploaded.digest && uploaded.digest !== digest) {
    throw new WharfError('DIGEST_MISMATCH', `GitHub stored ${name} in ${where} with digest ${uploaded.digest}, not ${digest}`, { hint: 'the upload was altered on the way; publish again' })
  }
  return { url: uploaded.browserDownloadUrl, uploaded: true }
}

/**
 * Refuses an asset of the same name that holds other bytes: an asset is
 * never overwritten behind a record's back. GitHub's digest decides; an
 * asset without one is downloaded and hashed.
 */
export async function assertSameBytes(github: GitHub, asset: ReleaseAsset, digest: string, size: number, where: string): Promise<void> {
  let actual = asset.digest
  if (asset.size === size && actual === null) actual = `sha256:${sha256Hex(await github.releases.download(asset.browserDownloadUrl, { maxBytes: size }))}`
  if (asset.size !== size || actual !== digest) {
    throw new WharfError('CONFLICT', `release ${where} already has an asset ${asset.name} with other bytes (${actual ?? 'no digest'}, ${asset.size} bytes; expected ${digest}, ${size} bytes)`, {
      hint: 'delete that asset, or publish under a new version or tag',
    })
  }
}

function pullBody(record: VersionRecord, options: GitHubPublishOptions, url: string): string {
  const artifact = record.artifacts[0]!
  return [
    `Adds \`${record.name}@${record.version}\` (${record.kind}), published by @${options.author}.`,
    '',
    `| artifact | target | size | sha256 |`,
    `|---|---|---|---|`,
    `| [${artifact.name}](${url}) | ${artifact.target} | ${artifact.size} | \`${artifact.sha256}\` |`,
    '',
    `Signed with key \`${record.signature.signatures[0]?.keyid ?? '?'}\`. The gate (\`wharf check\`, then the compatibility matrix) runs on this pull request.`,
  ].join('\n')
}
