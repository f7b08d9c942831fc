/**
 * STAND-INS for the third-party actions wharf's workflows use. These are not the
 * real actions: each is a small function over the emulator that does what the
 * real one does for wharf (a git checkout through the emulator's http-backend,
 * artifacts stored against the run, Pages deployed into a directory). Matched by
 * `owner/repo[/path]`; the runner refuses them unless pinned by a 40-hex sha.
 * Any other third-party action fails the step loudly.
 */
import fs from 'node:fs'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { unzipSync, zipSync } from 'fflate'
import semver from 'semver'
import type { Emulator } from '../emulator/emulator.js'
import type { Permissions, Run } from '../emulator/state.js'
import { git as gitCli } from '../emulator/git.js'

export interface StandInContext {
  inputs: Record<string, string>
  workspace: string
  runnerTemp: string
  /** The job's token (github.token). */
  token: string
  permissions: Permissions
  github: { repository: string; ref: string; sha: string; serverUrl: string }
  emulator: Emulator
  run: Run
  /** Where deploy-pages publishes (a directory a test serves). */
  pagesDir: string | undefined
  pagesUrl: string | undefined
  /** Where actions/cache keeps its entries (a directory the test owns). */
  cacheDir: string | undefined
  log: (line: string) => void
}

export type StandIn = (ctx: StandInContext) => Promise<Record<string, string>>

export class StandInError extends Error {}

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    return await gitCli(cwd, args)
  } catch (e) {
    throw new StandInError(`git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''} failed: ${(e as Error).message.replace(/AUTHORIZATION: basic \S+/g, 'AUTHORIZATION: ***')}`)
  }
}

/** actions/checkout: clone through the emulator with the job's token; ref, fetch-depth, persist-credentials, repository, path, token. */
const checkout: StandIn = async (ctx) => {
  const repository = ctx.inputs.repository || ctx.github.repository
  const token = ctx.inputs.token || ctx.token
  const dir = path.resolve(ctx.workspace, ctx.inputs.path || '.')
  if (!dir.startsWith(ctx.workspace)) throw new StandInError(`path ${ctx.inputs.path} is outside the workspace`)
  const depth = Number(ctx.inputs['fetch-depth'] ?? '1')
  let ref = ctx.inputs.ref || (repository === ctx.github.repository ? ctx.github.ref : '')
  await fs.promises.mkdir(dir, { recursive: true })
  const url = `${ctx.github.serverUrl}/${repository}`
  const header = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`
  await git(dir, ['init', '-q'])
  await git(dir, ['remote', 'add', 'origin', url])
  const auth = ['-c', `http.${url}/.extraheader=${header}`]
  const depthArgs = depth > 0 ? [`--depth=${depth}`] : []
  if (!ref) ref = `refs/heads/${ctx.emulator.requireRepo(repository).defaultBranch}`
  const isSha = /^[0-9a-f]{40}$/.test(ref)
  const qualified = isSha || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`
  if (depth === 0) await git(dir, [...auth, 'fetch', '-q', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'])
  const target = isSha ? ref : `+${qualified}:${qualified.replace(/^refs\/heads\//, 'refs/remotes/origin/')}`
  await git(dir, [...auth, 'fetch', '-q', '--no-tags', ...depthArgs, 'origin', target])
  const branch = /^refs\/heads\/(.+)$/.exec(qualified)?.[1]
  if (branch) await git(dir, ['checkout', '-q', '-B', branch, `refs/remotes/origin/${branch}`])
  else await git(dir, ['checkout', '-q', '--detach', isSha ? ref : 'FETCH_HEAD'])
  if (ctx.inputs['persist-credentials'] !== 'false') await git(dir, ['config', '--local', `http.${url}/.extraheader`, header])
  const commit = (await git(dir, ['rev-parse', 'HEAD'])).trim()
  ctx.log(`Checked out ${repository}@${commit} into ${path.relative(ctx.workspace, dir) || '.'}`)
  return { ref: qualified, commit }
}

/** The files a multi-line `path` input names (files, directories, simple globs), relative to their common root. */
function collect(workspace: string, spec: string): { root: string; files: string[] } {
  const paths = spec
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((p) => path.resolve(workspace, p))
    .filter((p) => fs.existsSync(p))
  const files: string[] = []
  const walk = (p: string) => {
    const stat = fs.statSync(p)
    if (stat.isDirectory()) for (const entry of fs.readdirSync(p)) walk(path.join(p, entry))
    else if (stat.isFile()) files.push(p)
  }
  paths.forEach(walk)
  if (files.length === 0) return { root: workspace, files: [] }
  const dirs = paths.map((p) => (fs.statSync(p).isDirectory() ? p : path.dirname(p)))
  let root = dirs[0]!
  while (!dirs.every((d) => d === root || d.startsWith(`${root}${path.sep}`))) root = path.dirname(root)
  return { root, files }
}

function zipFiles(root: string, files: string[]): Buffer {
  const entries: Record<string, Uint8Array> = {}
  for (const file of files) entries[path.relative(root, file).split(path.sep).join('/')] = fs.readFileSync(file)
  return Buffer.from(zipSync(entries, { level: 6 }))
}

/** Unzips into `dir`, refusing entries that would land outside it. */
async function unzipInto(zip: Uint8Array, dir: string): Promise<void> {
  for (const [name, bytes] of Object.entries(unzipSync(zip))) {
    const target = path.resolve(dir, name)
    if (!target.startsWith(path.resolve(dir) + path.sep)) throw new StandInError(`artifact entry ${name} would be written outside ${dir}`)
    if (name.endsWith('/')) continue
    await fs.promises.mkdir(path.dirname(target), { recursive: true })
    await fs.promises.writeFile(target, bytes)
  }
}

/** actions/upload-artifact: zips `path` and stores it against the run. */
const uploadArtifact: StandIn = async (ctx) => {
  const name = ctx.inputs.name || 'artifact'
  const { root, files } = collect(ctx.workspace, ctx.inputs.path ?? '')
  if (files.length === 0) {
    const mode = ctx.inputs['if-no-files-found'] || 'warn'
    if (mode === 'error') throw new StandInError(`No files were found with the provided path: ${ctx.inputs.path}. No artifacts will be uploaded.`)
    ctx.log(`No files were found with the provided path: ${ctx.inputs.path}. No artifacts will be uploaded.`)
    return {} as Record<string, string>
  }
  const artifact = await ctx.emulator.addArtifact(ctx.run, name, zipFiles(root, files))
  ctx.log(`Uploaded artifact ${name} (${files.length} files, ${artifact.size} bytes)`)
  return { 'artifact-id': String(artifact.id), 'artifact-url': `${ctx.github.serverUrl}/${ctx.github.repository}/actions/runs/${ctx.run.id}/artifacts/${artifact.id}`, 'artifact-digest': artifact.digest }
}

/** actions/download-artifact: from this run, or (`run-id` with `github-token`) from another run through the REST API. */
const downloadArtifact: StandIn = async (ctx) => {
  const dest = path.resolve(ctx.workspace, ctx.inputs.path || '.')
  const name = ctx.inputs.name
  const runId = ctx.inputs['run-id']
  const wanted = (n: string) => (name ? n === name : ctx.inputs.pattern ? new RegExp(`^${ctx.inputs.pattern.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(n) : true)
  const found: Array<{ name: string; zip: Uint8Array }> = []
  if (runId) {
    const token = ctx.inputs['github-token']
    if (!token) throw new StandInError('run-id needs github-token (the real action cannot download from another run without it)')
    const repository = ctx.inputs.repository || ctx.github.repository
    const api = ctx.emulator.urls.api
    const headers = { authorization: `token ${token}`, accept: 'application/vnd.github+json' }
    const listing = await fetch(`${api}/repos/${repository}/actions/runs/${runId}/artifacts?per_page=100`, { headers })
    if (!listing.ok) throw new StandInError(`listing artifacts of run ${runId}: ${listing.status} ${await listing.text()}`)
    for (const artifact of ((await listing.json()) as { artifacts: Array<{ id: number; name: string }> }).artifacts) {
      if (!wanted(artifact.name)) continue
      const redirect = await fetch(`${api}/repos/${repository}/actions/artifacts/${artifact.id}/zip`, { headers, redirect: 'manual' })
      const location = redirect.headers.get('location')
      if (redirect.status !== 302 || !location) throw new StandInError(`downloading artifact ${artifact.name}: ${redirect.status}`)
      const bytes = await fetch(location)
      found.push({ name: artifact.name, zip: new Uint8Array(await bytes.arrayBuffer()) })
    }
  } else {
    for (const artifact of ctx.run.artifacts) if (wanted(artifact.name)) found.push({ name: artifact.name, zip: await fs.promises.readFile(artifact.file) })
  }
  if (name && found.length === 0) throw new StandInError(`Unable to download artifact(s): Artifact not found for name: ${name}`)
  for (const artifact of found) {
    const into = name || ctx.inputs['merge-multiple'] === 'true' ? dest : path.join(dest, artifact.name)
    await unzipInto(artifact.zip, into)
    ctx.log(`Downloaded artifact ${artifact.name} to ${path.relative(ctx.workspace, into) || '.'}`)
  }
  return { 'download-path': dest }
}

/** actions/setup-node: installs nothing; checks that the node on PATH is the version asked for. */
const setupNode: StandIn = async (ctx) => {
  const wanted = ctx.inputs['node-version'] || ''
  const have = process.versions.node
  if (wanted && !semver.satisfies(have, /^\d+$/.test(wanted) ? `${wanted}.x` : wanted)) {
    throw new StandInError(`node ${wanted} was asked for, but this runner has node ${have} and the stand-in installs nothing`)
  }
  ctx.log(`Using node ${have} from the runner (nothing installed)`)
  return { 'node-version': `v${have}` }
}

/** bytecodealliance's wasmtime setup: there is no wasmtime here; the stand-in installs nothing and says so. */
const setupWasmtime: StandIn = async (ctx) => {
  ctx.log('wasmtime is not installed by this stand-in: wharf test falls back to node:wasi for p1 modules and jco for components')
  return {}
}

/** actions/configure-pages: the Pages site's URL. */
const configurePages: StandIn = async (ctx) => {
  const base = ctx.pagesUrl ?? `${ctx.github.serverUrl}/pages/${ctx.github.repository}`
  const url = new URL(base)
  return { base_url: base.replace(/\/$/, ''), origin: url.origin, host: url.host, base_path: url.pathname.replace(/\/$/, '') }
}

/** actions/upload-pages-artifact: the site directory as the run's `github-pages` artifact. */
const uploadPagesArtifact: StandIn = async (ctx) => {
  const dir = path.resolve(ctx.workspace, ctx.inputs.path || '_site/')
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new StandInError(`upload-pages-artifact: ${ctx.inputs.path || '_site/'} is not a directory`)
  const { files } = collect(dir, '.')
  const artifact = await ctx.emulator.addArtifact(ctx.run, ctx.inputs.name || 'github-pages', zipFiles(dir, files))
  return { 'artifact-id': String(artifact.id) }
}

/** actions/deploy-pages: needs `pages: write` and `id-token: write`, as the real one does; publishes the artifact into the Pages directory. */
const deployPages: StandIn = async (ctx) => {
  for (const scope of ['pages', 'id-token'] as const) {
    if (ctx.permissions[scope] !== 'write') throw new StandInError(`deploy-pages needs permissions ${scope}: write (the job has ${ctx.permissions[scope] ?? 'none'})`)
  }
  if (!ctx.pagesDir) throw new StandInError('deploy-pages: this runner was given no Pages directory')
  const artifact = ctx.run.artifacts.find((a) => a.name === (ctx.inputs.artifact_name || 'github-pages'))
  if (!artifact) throw new StandInError('deploy-pages: no github-pages artifact in this run (upload-pages-artifact first)')
  const staging = `${ctx.pagesDir}.staging-${process.pid}-${Date.now()}`
  await unzipInto(await fs.promises.readFile(artifact.file), staging)
  await fs.promises.rm(ctx.pagesDir, { recursive: true, force: true })
  await fs.promises.rename(staging, ctx.pagesDir)
  const url = ctx.pagesUrl ?? `${ctx.github.serverUrl}/pages/${ctx.github.repository}/`
  ctx.log(`Deployed to ${url}`)
  return { page_url: url }
}

/** One saved cache: its key, the `path` input it was saved with (part of its version, as in the real action), the ref whose scope holds it. */
interface CacheEntry {
  key: string
  paths: string
  ref: string
  file: string
  savedAt: number
}

function cacheIndex(ctx: StandInContext): { dir: string; entries: CacheEntry[] } {
  if (!ctx.cacheDir) throw new StandInError('actions/cache: this runner was given no cache directory')
  const file = path.join(ctx.cacheDir, 'entries.json')
  const entries = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as CacheEntry[]) : []
  return { dir: ctx.cacheDir, entries }
}

const cachePaths = (spec: string | undefined) =>
  (spec ?? '')
    .split('\n')
    .map((p) => p.trim())
    .filter(Boolean)

function tar(cwd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile('tar', args, { cwd }, (e, _out, err) => (e ? reject(new StandInError(`tar failed: ${err || e.message}`)) : resolve())))
}

/**
 * actions/cache/restore: the entry saved under `key`, else the newest whose key starts with a `restore-keys` line
 * (in order), saved with the same `path` input, in this ref's scope or the default branch's; extracted into the workspace.
 */
const cacheRestore: StandIn = async (ctx) => {
  const key = ctx.inputs.key ?? ''
  if (!key) throw new StandInError('Input required and not supplied: key')
  const paths = cachePaths(ctx.inputs.path).join('\n')
  if (!paths) throw new StandInError('Input required and not supplied: path')
  const { dir, entries } = cacheIndex(ctx)
  const defaultRef = `refs/heads/${ctx.emulator.requireRepo(ctx.github.repository).defaultBranch}`
  const usable = entries.filter((e) => e.paths === paths && (e.ref === ctx.github.ref || e.ref === defaultRef)).sort((a, b) => b.savedAt - a.savedAt)
  let match = usable.find((e) => e.key === key)
  for (const prefix of cachePaths(ctx.inputs['restore-keys'])) match ??= usable.find((e) => e.key.startsWith(prefix))
  if (!match) {
    if (ctx.inputs['fail-on-cache-miss'] === 'true') throw new StandInError(`Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: ${key}`)
    ctx.log(`Cache not found for input keys: ${[key, ...cachePaths(ctx.inputs['restore-keys'])].join(', ')}`)
    return { 'cache-hit': 'false', 'cache-primary-key': key } as Record<string, string>
  }
  if (ctx.inputs['lookup-only'] !== 'true') await tar(ctx.workspace, ['-xf', path.join(dir, match.file)])
  ctx.log(`Cache restored from key: ${match.key}`)
  return { 'cache-hit': String(match.key === key), 'cache-primary-key': key, 'cache-matched-key': match.key }
}

/** actions/cache/save: the `path` entries (symlinks kept) as a new entry under `key`; a key already saved is left as it is, with a warning. */
const cacheSave: StandIn = async (ctx) => {
  const key = ctx.inputs.key ?? ''
  if (!key) throw new StandInError('Input required and not supplied: key')
  const list = cachePaths(ctx.inputs.path)
  const { dir, entries } = cacheIndex(ctx)
  if (entries.some((e) => e.key === key && e.ref === ctx.github.ref)) {
    ctx.log(`::warning::Failed to save: Unable to reserve cache with key ${key}, another job may be creating this cache.`)
    return {}
  }
  const present = list.filter((p) => fs.lstatSync(path.resolve(ctx.workspace, p), { throwIfNoEntry: false }) !== undefined)
  for (const p of present) if (!path.resolve(ctx.workspace, p).startsWith(`${ctx.workspace}${path.sep}`)) throw new StandInError(`path ${p} is outside the workspace`)
  if (present.length === 0) {
    ctx.log('::warning::Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.')
    return {}
  }
  await fs.promises.mkdir(dir, { recursive: true })
  const file = `${entries.length + 1}-${Date.now()}.tar`
  await tar(ctx.workspace, ['-cf', path.join(dir, file), '--', ...present])
  entries.push({ key, paths: list.join('\n'), ref: ctx.github.ref, file, savedAt: Date.now() })
  await fs.promises.writeFile(path.join(dir, 'entries.json'), JSON.stringify(entries, null, 2))
  ctx.log(`Cache saved with key: ${key}`)
  return {}
}

/** Stand-ins by `owner/repo[/path]`, as a workflow names them before the `@`. */
export const STAND_INS: ReadonlyMap<string, StandIn> = new Map([
  ['actions/checkout', checkout],
  ['actions/upload-artifact', uploadArtifact],
  ['actions/download-artifact', downloadArtifact],
  ['actions/setup-node', setupNode],
  ['actions/configure-pages', configurePages],
  ['actions/upload-pages-artifact', uploadPagesArtifact],
  ['actions/deploy-pages', deployPages],
  ['actions/cache/restore', cacheRestore],
  ['actions/cache/save', cacheSave],
  ['bytecodealliance/actions/wasmtime/setup', setupWasmtime],
])
