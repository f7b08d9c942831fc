import fs from 'node:fs'
import path from 'node:path'
import { credentialsFile, publishRemote, readToken } from '../client/index.js'
import { WharfError } from '../core/errors.js'
import { parsePrivateKey } from '../core/keys.js'
import { parsePackageId } from '../core/names.js'
import { parseVersion } from '../core/versions.js'
import { openRepo } from '../git/index.js'
import type { GitHub } from '../github/index.js'
import { componentRecord, parseDependency, prepareCrateForGitHub, publishCrate, publishToGitHub, publishToIndex, readArtifactFile, type PublishOptions } from '../publish/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, list, optionalString, printJson, readInputFile, required, type Command, type Io, type Values } from './command.js'
import { createProgress } from './progress.js'

export const publish: Command = {
  help: `wharf publish ARTIFACT --name ID --version V --key FILE [--index DIR | --github OWNER/REPO] [options]
       wharf publish --crate DIR --key FILE [--name ID] [--index DIR | --github OWNER/REPO] [options]
       wharf publish ARTIFACT --name ID --version V --registry URL [--token T] [--key FILE] [options]

Stores ARTIFACT in the index's artifact store, writes the version record,
signs it with FILE and commits it on the proposal branch
publish/<namespace>/<name>/<version>. Merge it with \`wharf merge\`.
--registry and --github publish elsewhere (below). An option that the way
of publishing chosen does not use is refused, never ignored.

  --name ID                 package id, <namespace>:<name>
  --version V               SemVer 2.0 version
  --key FILE                private key from \`wharf keygen\`, registered in the namespace; optional
                            with --registry, which signs the record with its own key without it
  --description TEXT        one-line description
  --license SPDX            license expression, e.g. MIT OR Apache-2.0
  --repository URL          source repository
  --dependency ID@RANGE     a dependency (repeatable), e.g. wasi:io@^0.2.0
  --target T                target of the artifact (default: read from the wasm); not with --crate
  --keyword WORD            a search keyword (repeatable); with --registry only with --key
  --author LOGIN            the publisher the record names (default: $WHARF_AUTHOR, else admin;
                            with --github: $WHARF_AUTHOR, else $GITHUB_ACTOR, else an error);
                            with --registry only with --key: without it the registry names the
                            owner of the token
  --index DIR               the local index repo (default: $WHARF_INDEX or the current directory)
  --registry URL --token T  publish to a running registry instead (wharf serve); without --token,
                            $WHARF_TOKEN, else the token $XDG_CONFIG_HOME/wharf/credentials.toml
                            (~/.config when unset) holds for URL
  --github OWNER/REPO       publish to the index repo OWNER/REPO on GitHub instead: upload the
                            artifact as an asset of the release --tag of --from, sign the record
                            with its URL, and open a pull request adding it (from your fork when
                            the token cannot push to OWNER/REPO). Token: $GITHUB_TOKEN, else the
                            credentials file's entry for $GITHUB_API_URL (default https://api.github.com)
  --from OWNER/REPO         with --github: the crate or component repo whose release holds the
                            artifact (default: $GITHUB_REPOSITORY)
  --tag TAG                 with --github: that release's tag, made when absent (default: v<version>)
  --crate DIR               publish the Rust crate in DIR: runs cargo package and records the
                            .crate with its Cargo name, dependencies, features and cksum. The
                            package is <ns>:<crate name, lower case, _ as ->: --name picks <ns>,
                            by default the index's policy.namespaces.crates (crates; with --github
                            read from the index repo's default branch); --version defaults to the
                            crate's. To a registry:
                            \`cargo publish --registry\`
  --json                    print {branch, base, head, record}; with --registry the registry's
                            answer, the new version as the Run 2.0 API shows it (name, version,
                            description, size, sha256, download_url, ...); with --github
                            {record, asset, pullRequest, head, viaFork, requests}`,
  options: {
    name: { type: 'string' },
    version: { type: 'string' },
    key: { type: 'string' },
    description: { type: 'string' },
    license: { type: 'string' },
    repository: { type: 'string' },
    dependency: { type: 'string', multiple: true },
    target: { type: 'string' },
    keyword: { type: 'string', multiple: true },
    author: { type: 'string' },
    registry: { type: 'string' },
    token: { type: 'string' },
    github: { type: 'string' },
    from: { type: 'string' },
    tag: { type: 'string' },
    crate: { type: 'string' },
    ...INDEX_OPTION,
    ...JSON_OPTION,
  },
  positionals: [0, 1],
  async run({ values, positionals }, io) {
    const way = wayOf(values)
    refuseUnused(values, way)
    if (way.to === 'github') return publishGitHubCommand(values, positionals, io)
    if (way.to === 'registry') return publishRemoteCommand(values, positionals, io)
    const crateDir = optionalString(values, 'crate')
    if (crateDir !== undefined) return publishCrateCommand(values, positionals, crateDir, io)
    if (positionals.length === 0) throw new WharfError('USAGE', 'publish: missing argument ARTIFACT', { hint: 'pass the .wasm file to publish, or --crate DIR for a Rust crate' })
    const name = required(values, 'name', 'publish')
    const version = required(values, 'version', 'publish')
    // Arguments are checked before any file is read, so the first error is about what was typed.
    parsePackageId(name)
    parseVersion(version)
    const repo = openRepo(indexDir(values, io))
    const result = await publishToIndex(repo, {
      artifact: positionals[0]!,
      name,
      version,
      ...(await signedFields(values, io)),
      target: optionalString(values, 'target'),
    })
    if (values.json) printJson(io, result)
    else io.stdout(`Proposed ${result.record.name}@${result.record.version} on branch ${result.branch}\n`)
    return 0
  },
}

/** How a publish goes: where to, whether it packages a crate, and whether the record is signed here. */
interface Way {
  to: 'index' | 'registry' | 'github'
  crate: boolean
  signed: boolean
}

function wayOf(values: Values): Way {
  const to = values.github !== undefined ? 'github' : values.registry !== undefined ? 'registry' : 'index'
  // Only --registry makes --key optional: the registry signs what it is sent unsigned.
  return { to, crate: values.crate !== undefined, signed: to !== 'registry' || Boolean(optionalString(values, 'key')) }
}

const WITHOUT_GITHUB = (w: Way) => (w.to === 'github' ? undefined : 'publish without --github')
const UNSIGNED = (w: Way) => (w.signed ? undefined : 'publish --registry without --key')

/**
 * The options that some ways of publishing do not use, checked in this order:
 * `unusedBy` names the way that would ignore the option, or undefined where it
 * is used. What was typed must reach the record or be refused, never vanish.
 */
const PARTIAL_OPTIONS: { option: string; unusedBy: (w: Way) => string | undefined; why: string; hint: string }[] = [
  {
    option: 'registry',
    unusedBy: (w) => (w.to === 'github' ? 'publish --github' : undefined),
    why: 'it publishes to a running registry instead',
    hint: 'choose where to publish: --github, --registry or --index',
  },
  {
    option: 'crate',
    unusedBy: (w) => (w.to === 'registry' ? 'publish --registry' : undefined),
    why: 'a crate goes to a registry with `cargo publish --registry`',
    hint: 'see the README section on the local registry',
  },
  {
    option: 'index',
    unusedBy: (w) => (w.to === 'index' ? undefined : `publish --${w.to}`),
    why: 'it names a local index repo',
    hint: 'drop --index, or drop --registry and --github to propose into that index',
  },
  {
    option: 'token',
    unusedBy: (w) => (w.to === 'registry' ? undefined : 'publish without --registry'),
    why: 'it is the token for --registry URL',
    hint: 'drop --token; publish --github reads $GITHUB_TOKEN or the credentials file',
  },
  { option: 'from', unusedBy: WITHOUT_GITHUB, why: 'it names the repo whose GitHub release holds the artifact', hint: 'drop --from, or publish with --github OWNER/REPO' },
  { option: 'tag', unusedBy: WITHOUT_GITHUB, why: 'it names the GitHub release that holds the artifact', hint: 'drop --tag, or publish with --github OWNER/REPO' },
  { option: 'target', unusedBy: (w) => (w.crate ? 'publish --crate' : undefined), why: 'a .crate is Rust source, built for no wasm target', hint: 'drop --target' },
  {
    option: 'keyword',
    unusedBy: UNSIGNED,
    why: 'the registry builds the record from the Run publish form, which has no keywords',
    hint: 'sign the record here with --key FILE (a key of the namespace), or drop --keyword',
  },
  {
    option: 'author',
    unusedBy: UNSIGNED,
    why: 'the registry names the owner of the token as the publisher',
    hint: 'sign the record here with --key FILE to publish as --author, or drop --author',
  },
]

/** Refuses, before anything is read or sent, the first option given that this way of publishing would ignore. */
function refuseUnused(values: Values, way: Way): void {
  for (const { option, unusedBy, why, hint } of PARTIAL_OPTIONS) {
    const mode = values[option] === undefined ? undefined : unusedBy(way)
    if (mode) throw new WharfError('USAGE', `${mode} does not take --${option}: ${why}`, { hint })
  }
}

/** Who publishes: --author, else $WHARF_AUTHOR, else the maintainer `init` names by default. */
function author(values: Values, io: Io): string {
  return optionalString(values, 'author') ?? io.env.WHARF_AUTHOR ?? 'admin'
}

/** The key, the author and the record fields typed on the command line, for a publish into a local index. */
async function signedFields(values: Values, io: Io) {
  return {
    privateKey: await readInputFile(required(values, 'key', 'publish'), '--key'),
    author: author(values, io),
    description: optionalString(values, 'description'),
    license: optionalString(values, 'license'),
    repository: optionalString(values, 'repository'),
    dependencies: list(values, 'dependency').map((d) => parseDependency(d)),
    keywords: list(values, 'keyword'),
  }
}

/** `--registry URL --token T`: the Run 2.0 publish request to a running registry (wharf serve or another). */
async function publishRemoteCommand(values: Values, positionals: string[], io: Io): Promise<number> {
  if (positionals.length === 0) throw new WharfError('USAGE', 'publish: missing argument ARTIFACT', { hint: 'pass the .wasm file to publish' })
  const name = required(values, 'name', 'publish')
  const version = required(values, 'version', 'publish')
  parsePackageId(name)
  parseVersion(version)
  const registry = optionalString(values, 'registry')!
  const token = optionalString(values, 'token') || io.env.WHARF_TOKEN || readToken(registry, io.env)
  if (!token) {
    throw new WharfError('USAGE', `publish --registry needs a token: none is stored for ${registry} in ${credentialsFile(io.env)}, and neither --token nor $WHARF_TOKEN is set`, {
      hint: `store it there (mode 0600) as [registries."${registry}"] token = "..."; use a token from the registry's REGISTRY_TOKENS, or its admin token`,
    })
  }
  const artifact = positionals[0]!
  let bytes: Buffer
  try {
    bytes = await fs.promises.readFile(artifact)
  } catch (e) {
    throw new WharfError('NOT_FOUND', `cannot read artifact ${artifact}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'pass the path of a built .wasm file' })
  }
  const fields = {
    name,
    version,
    description: optionalString(values, 'description') ?? '',
    license: optionalString(values, 'license'),
    repository: optionalString(values, 'repository'),
    dependencies: list(values, 'dependency').map((d) => parseDependency(d)),
    targets: optionalString(values, 'target') ? [optionalString(values, 'target')!] : undefined,
  }
  // With --key the record is signed here, with a key of the namespace; without, the registry signs it.
  // Keywords travel in the signed record only: the Run form has no field for them.
  const keyFile = optionalString(values, 'key')
  const record = keyFile
    ? componentRecord(
        { ...fields, keywords: list(values, 'keyword'), bytes, filename: path.basename(artifact) },
        author(values, io),
        parsePrivateKey(await readInputFile(keyFile, '--key')),
        new Date(),
      )
    : undefined
  const answer = await publishRemote({ url: registry }, { ...fields, token, bytes, filename: path.basename(artifact), ...(record ? { record } : {}) })
  if (values.json) printJson(io, answer)
  else io.stdout(`Published ${answer.name}@${answer.version} (sha256 ${answer.sha256})\n`)
  return 0
}

/** `--github OWNER/REPO`: release asset, signed record and pull request, from a terminal as from the action. */
async function publishGitHubCommand(values: Values, positionals: string[], io: Io): Promise<number> {
  // Loaded here: the GitHub client (Octokit) is for this way of publishing only.
  const { githubClient, parseRepoRef } = await import('./github.js')
  const index = parseRepoRef(optionalString(values, 'github')!, '--github')
  const fromText = optionalString(values, 'from') ?? io.env.GITHUB_REPOSITORY
  if (!fromText) throw new WharfError('USAGE', 'publish --github needs --from OWNER/REPO: the repository whose release holds the artifact', { hint: 'pass --from, or run it where $GITHUB_REPOSITORY is set' })
  const from = parseRepoRef(fromText, '--from')
  const crateDir = optionalString(values, 'crate')
  const name = optionalString(values, 'name')
  const version = optionalString(values, 'version')
  if (name !== undefined) parsePackageId(name)
  if (version !== undefined) parseVersion(version)
  const login = optionalString(values, 'author') ?? io.env.WHARF_AUTHOR ?? io.env.GITHUB_ACTOR
  if (!login) throw new WharfError('USAGE', 'publish --github needs --author LOGIN: your GitHub login, which the record names as its publisher', { hint: 'pass --author, or set $WHARF_AUTHOR' })
  const fields = { ...(await signedFields(values, io)), author: login }
  let prepared: { file: string; bytes: Buffer; options: Omit<PublishOptions, 'artifact'> }
  let github: GitHub
  if (crateDir !== undefined) {
    if (positionals.length > 0) throw new WharfError('USAGE', 'publish --crate makes its own artifact; do not pass ARTIFACT too', { hint: 'drop the ARTIFACT argument' })
    // Before cargo runs: without --name, the index's registry.json names the namespace.
    github = githubClient(io, 'publish --github')
    prepared = await prepareCrateForGitHub(github, index, { crateDir, ...(name ? { name } : {}), ...(version ? { version } : {}), ...fields, env: io.env })
  } else {
    if (positionals.length === 0) throw new WharfError('USAGE', 'publish: missing argument ARTIFACT', { hint: 'pass the .wasm file to publish, or --crate DIR for a Rust crate' })
    const file = positionals[0]!
    prepared = { file, bytes: await readArtifactFile(file), options: { ...fields, name: required(values, 'name', 'publish'), version: required(values, 'version', 'publish'), target: optionalString(values, 'target') } }
    github = githubClient(io, 'publish --github')
  }
  const result = await publishToGitHub(github, {
    ...prepared.options,
    bytes: prepared.bytes,
    file: prepared.file,
    index,
    from,
    tag: optionalString(values, 'tag') ?? `v${prepared.options.version}`,
    // A new client: every call it made is this publish's.
    requestsBefore: 0,
  })
  if (values.json) printJson(io, result)
  else {
    const where = result.viaFork ? ` from ${result.head.repo}` : ''
    io.stdout(`${result.asset.uploaded ? 'Uploaded' : 'Found'} ${result.record.artifacts[0]!.name} at ${result.asset.url}\n`)
    io.stdout(`${result.pullRequest.created ? 'Opened' : 'Updated'} pull request #${result.pullRequest.number}${where}: ${result.pullRequest.url} (${result.requests} GitHub requests)\n`)
  }
  return 0
}

/** `--crate DIR`: cargo packages the crate; name and version default to the crate's own. */
async function publishCrateCommand(values: Values, positionals: string[], crateDir: string, io: Io): Promise<number> {
  if (positionals.length > 0) throw new WharfError('USAGE', 'publish --crate makes its own artifact; do not pass ARTIFACT too', { hint: 'drop the ARTIFACT argument' })
  const name = optionalString(values, 'name')
  const version = optionalString(values, 'version')
  if (name !== undefined) parsePackageId(name)
  if (version !== undefined) parseVersion(version)
  const repo = openRepo(indexDir(values, io))
  const progress = createProgress(io, values, 'publish')
  const result = await publishCrate(repo, {
    crateDir,
    ...(name !== undefined ? { name } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(await signedFields(values, io)),
    env: io.env,
    onProgress: progress.report,
  }).finally(() => progress.end())
  if (values.json) printJson(io, result)
  else io.stdout(`Proposed ${result.record.name}@${result.record.version} (crate ${result.record.crate!.name}) on branch ${result.branch}\n`)
  return 0
}
