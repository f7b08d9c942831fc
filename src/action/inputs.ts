/**
 * The Action's inputs, read once at the entry into one typed object. The
 * names are action.yml's; every other file uses the constants, never a string.
 */
import { WharfError } from '../core/errors.js'

export const INPUT = {
  command: 'command',
  token: 'token',
  index: 'index',
  pullRequest: 'pull-request',
  teamToken: 'team-token',
  mergeToken: 'merge-token',
  runId: 'run-id',
  validateWorkflow: 'validate-workflow',
  package: 'package',
  target: 'target',
  paceWrites: 'pace-writes',
  before: 'before',
  after: 'after',
  artifact: 'artifact',
  crate: 'crate',
  name: 'name',
  version: 'version',
  key: 'key',
  indexRepo: 'index-repo',
  tag: 'tag',
  out: 'out',
  baseUrl: 'base-url',
  releases: 'releases',
  registryKey: 'registry-key',
} as const

/** The commands this version runs, and those a later version adds. */
export const COMMANDS = ['check', 'test', 'merge', 'publish', 'release', 'build-api'] as const
export const LATER_COMMANDS = ['sync'] as const
export type Command = (typeof COMMANDS)[number]

export interface Inputs {
  command: Command
  /** The job's token (github.token unless given). */
  token: string
  /** The index repo's checkout, relative to the workspace. */
  index: string
  /** The pull request to judge, when the event does not name one. */
  pullRequest: number | undefined
  /** A token that may read organization teams (members: read), for `@org/team` owners. */
  teamToken: string | undefined
  /** The token merge merges with: one whose pushes start workflows (a GitHub App's or a PAT), else `token`. */
  mergeToken: string | undefined
  /** merge: the validate run whose reports merge reads (default: the workflow_run event's). */
  runId: number | undefined
  /** merge: the validate workflow's file name. */
  validateWorkflow: string
  /** test: `namespace:name@version`. */
  package: string | undefined
  /** test: the one target this leg runs. */
  target: string | undefined
  /** Space writes one second apart, as GitHub asks of integrations (default true). */
  paceWrites: boolean
  /** release: the commit main was at before the push (default: the push event's `before`). */
  before: string | undefined
  /** release: the commit the push moved main to (default: the push event's `after`, else the job's commit). */
  after: string | undefined
  /** publish: the built artifact (a .wasm), relative to the workspace. */
  artifact: string | undefined
  /** publish: the Rust crate's directory, relative to the workspace (cargo package makes the artifact). */
  crate: string | undefined
  /** publish: `namespace:name` (a crate's default: `<ns>:<crate>`, `<ns>` the index repo's `policy.namespaces.crates`, default `crates`). */
  name: string | undefined
  /** publish: the SemVer version (a crate's default: Cargo.toml's). */
  version: string | undefined
  /** publish: the namespace's private key (PKCS#8 PEM), from a secret. */
  key: string | undefined
  /** publish: the index repo the pull request goes to. */
  indexRepo: { owner: string; repo: string } | undefined
  /** publish: the tag of this repo's release that holds the artifact (default v<version>). */
  tag: string | undefined
  /** build-api: where the output is written, inside the workspace (default _site). */
  out: string
  /** build-api: the public URL the output is served at (configure-pages' base_url). */
  baseUrl: string | undefined
  /** build-api: the index repo's web URL whose releases hold the artifacts (default this repo's). */
  releases: string | undefined
  /** build-api: the registry's private key, which signs the snapshot, from a secret. */
  registryKey: string | undefined
}

/** Reads an input as the runner passes it: `INPUT_<NAME>` with the name upper-cased, spaces as underscores, hyphens kept. */
export type ReadInput = (name: string) => string

export function envInput(env: NodeJS.ProcessEnv): ReadInput {
  return (name) => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
}

function positive(read: ReadInput, name: string): number | undefined {
  const text = read(name)
  if (!text) return undefined
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new WharfError('USAGE', `input ${name}: "${text}" is not a positive whole number`, { hint: `set ${name} to a number, or leave it out` })
  return Number(text)
}

function bool(read: ReadInput, name: string, fallback: boolean): boolean {
  const text = read(name).toLowerCase()
  if (!text) return fallback
  if (text === 'true' || text === 'false') return text === 'true'
  throw new WharfError('USAGE', `input ${name}: "${text}" is not true or false`, { hint: `set ${name} to true or false` })
}

/** A commit id or a ref name; anything else (an option, a revision expression) is refused before git sees it. */
function commitish(read: ReadInput, name: string): string | undefined {
  const text = read(name)
  if (!text) return undefined
  if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$|^[A-Za-z0-9_][A-Za-z0-9._/-]{0,254}$/.test(text) || text.includes('..')) {
    throw new WharfError('USAGE', `input ${name}: "${text}" is not a commit id or a branch name`, { hint: `set ${name} to a full commit sha, or leave it out to take the push event's` })
  }
  return text
}

function repoRef(read: ReadInput, name: string): { owner: string; repo: string } | undefined {
  const text = read(name)
  if (!text) return undefined
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(text)
  if (!m || m[2] === '.' || m[2] === '..') throw new WharfError('USAGE', `input ${name}: "${text}" is not owner/name`, { hint: `set ${name} to the index repo, e.g. acme/registry` })
  return { owner: m[1]!, repo: m[2]! }
}

export function parseInputs(read: ReadInput, env: NodeJS.ProcessEnv = {}): Inputs {
  const command = read(INPUT.command)
  if ((LATER_COMMANDS as readonly string[]).includes(command)) {
    throw new WharfError('USAGE', `command "${command}" is not in this version of the wharf Action yet: it runs ${COMMANDS.join(', ')}`, {
      hint: 'sync comes in a later version; run it with the wharf CLI until then',
    })
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new WharfError('USAGE', `input command: "${command}" is not a command of the wharf Action`, { hint: `set command to one of ${COMMANDS.join(', ')}` })
  }
  const token = read(INPUT.token)
  if (!token) throw new WharfError('USAGE', 'input token is empty', { hint: 'leave token at its default (github.token) or pass a token' })
  return {
    command: command as Command,
    token,
    index: read(INPUT.index) || '.',
    pullRequest: positive(read, INPUT.pullRequest),
    teamToken: read(INPUT.teamToken) || undefined,
    mergeToken: read(INPUT.mergeToken) || undefined,
    runId: positive(read, INPUT.runId),
    validateWorkflow: read(INPUT.validateWorkflow) || 'validate.yml',
    package: read(INPUT.package) || undefined,
    target: read(INPUT.target) || undefined,
    paceWrites: bool(read, INPUT.paceWrites, env.WHARF_PACE_WRITES !== 'false'),
    before: commitish(read, INPUT.before),
    after: commitish(read, INPUT.after),
    artifact: read(INPUT.artifact) || undefined,
    crate: read(INPUT.crate) || undefined,
    name: read(INPUT.name) || undefined,
    version: read(INPUT.version) || undefined,
    key: read(INPUT.key) || undefined,
    indexRepo: repoRef(read, INPUT.indexRepo),
    tag: read(INPUT.tag) || undefined,
    out: read(INPUT.out) || '_site',
    baseUrl: read(INPUT.baseUrl) || undefined,
    releases: read(INPUT.releases) || undefined,
    registryKey: read(INPUT.registryKey) || undefined,
  }
}
