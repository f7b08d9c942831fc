/**
 * `wharf publish --crate DIR`: a Rust crate published as a package. `cargo
 * package` makes the `.crate` (the artifact), and the record keeps what a
 * Cargo index line needs, read back from the normalized manifest inside the
 * `.crate` (what cargo itself would send to a registry): the exact crate
 * name, its dependencies with the registry of each one that lives elsewhere,
 * its features, `links`, `rust-version`, and the cksum.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { withoutCredentials } from '../core/credentials.js'
import { WharfError } from '../core/errors.js'
import { PACKAGES_DIR, REGISTRY_PATH } from '../core/layout.js'
import { checkName, cratePackageId, crateToPackageName, parsePackageId } from '../core/names.js'
import { crateFields, type CrateManifest } from '../core/records.js'
import type { RegistryFile } from '../core/types.js'
import { listDir, MAIN, readBlob, readJsonAt, resolveCommit, type Repo } from '../git/index.js'
import { addCleanup, JSON_CAPTURE, runStep } from '../matrix/index.js'
import { unpackCrate } from './crate-archive.js'
import { publishToIndex, type PublishOptions, type PublishResult } from './publish.js'

interface MetadataDependency {
  name: string
  source: string | null
  req: string
  kind: 'dev' | 'build' | null
  rename: string | null
  optional: boolean
  uses_default_features: boolean
  features: string[]
  target: string | null
  registry: string | null
  path?: string
}

interface MetadataPackage {
  name: string
  version: string
  description: string | null
  license: string | null
  repository: string | null
  homepage: string | null
  keywords: string[]
  links: string | null
  rust_version: string | null
  features: Record<string, string[]>
  dependencies: MetadataDependency[]
  manifest_path: string
}

interface Metadata {
  packages: MetadataPackage[]
  target_directory: string
}

export interface CargoRunner {
  /** The cargo binary (default: $CARGO, else `cargo` on PATH). */
  cargo?: string
  env?: NodeJS.ProcessEnv
  /** Told each phase (cargo metadata, cargo package, reading the .crate): for a progress line. */
  onProgress?: (progress: { phase: string }) => void
}

/** `cargo package` builds the crate to verify it; a stuck build still ends. */
const CARGO_TIMEOUT_MS = 30 * 60_000

/** Runs cargo as a child wharf stops on Ctrl-C (matrix/children.ts), and returns its stdout. */
async function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; json?: boolean }): Promise<string> {
  let out
  try {
    out = await runStep(command, args, { cwd: options.cwd ?? process.cwd(), env: options.env ?? process.env, timeoutMs: CARGO_TIMEOUT_MS, ...(options.json ? { captureBytes: JSON_CAPTURE } : {}) })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    throw new WharfError('TOOLCHAIN', `${command} is not installed`, { hint: 'install Rust with rustup (https://rustup.rs), or set $CARGO' })
  }
  if (out.code === 0 && options.json && out.stdoutCut) {
    throw new WharfError('TOOLCHAIN', `${command} ${args[0]} printed over ${JSON_CAPTURE / 1024 / 1024} MiB`, { hint: 'shrink the crate\'s [package.metadata] tables' })
  }
  if (out.code === 0) return out.stdout
  const why = out.timedOut ? `did not finish in ${CARGO_TIMEOUT_MS / 60_000} minutes` : (out.stderr || `exited ${out.code ?? out.signal}`).trim().split('\n').slice(-3).join(' ')
  throw new WharfError('TOOLCHAIN', `${command} ${args[0]} failed: ${why}`, { hint: 'fix what cargo reports, then publish again' })
}

async function metadata(runner: { cargo: string; env: NodeJS.ProcessEnv }, manifest: string, offline: boolean): Promise<Metadata> {
  const args = ['metadata', '--no-deps', '--format-version', '1', '--manifest-path', manifest, ...(offline ? ['--offline'] : [])]
  const text = await run(runner.cargo, args, { env: runner.env, json: true })
  try {
    return JSON.parse(text) as Metadata
  } catch (e) {
    throw new WharfError('TOOLCHAIN', `cargo metadata printed no JSON (${(e as Error).message})`, { hint: 'run cargo metadata --format-version 1 --no-deps in the crate to see what it prints' })
  }
}

function packageOf(meta: Metadata, manifest: string): MetadataPackage {
  const found = meta.packages.find((p) => path.resolve(p.manifest_path) === path.resolve(manifest))
  if (!found) throw new WharfError('USAGE', `${manifest} is a virtual workspace manifest, not a crate`, { hint: 'pass the directory of one member crate to --crate' })
  return found
}

export interface PackagedCrate {
  /** The .crate file cargo wrote. */
  file: string
  bytes: Buffer
  /** The crate as its normalized (packaged) manifest describes it. */
  manifest: MetadataPackage
}

/** Runs `cargo package` in `dir` and reads the packaged manifest back out of the `.crate`. */
export async function packageCrate(dir: string, options: CargoRunner = {}): Promise<PackagedCrate> {
  const runner = { cargo: options.cargo ?? process.env.CARGO ?? 'cargo', env: withoutCredentials(options.env ?? process.env) }
  const progress = options.onProgress ?? (() => {})
  const manifest = path.resolve(dir, 'Cargo.toml')
  if (!fs.existsSync(manifest)) throw new WharfError('NOT_FOUND', `${dir} has no Cargo.toml`, { hint: 'pass the directory of the crate to --crate' })
  progress({ phase: 'cargo metadata' })
  const source = await metadata(runner, manifest, false)
  const pkg = packageOf(source, manifest)
  progress({ phase: `cargo package (builds ${pkg.name} ${pkg.version} to verify it)` })
  await run(runner.cargo, ['package', '--manifest-path', manifest], { env: runner.env })
  progress({ phase: 'reading the .crate' })
  const file = path.join(source.target_directory, 'package', `${pkg.name}-${pkg.version}.crate`)
  const bytes = await fs.promises.readFile(file)
  const unpacked = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-crate-'))
  const removeUnpacked = () => fs.promises.rm(unpacked, { recursive: true, force: true })
  const forget = addCleanup(removeUnpacked)
  try {
    // The same reader the registry applies to uploads: a .crate with links or paths outside its directory goes no further.
    const top = await unpackCrate(bytes, unpacked, { topDir: `${pkg.name}-${pkg.version}` })
    const packedManifest = path.join(top, 'Cargo.toml')
    const packed = await metadata(runner, packedManifest, true)
    return { file, bytes, manifest: packageOf(packed, packedManifest) }
  } finally {
    forget()
    await removeUnpacked()
  }
}

/** The package that holds crate `crate` in this index, looked for in `namespaces` in order. */
async function crateInIndex(repo: Repo, crate: string, namespaces: string[]): Promise<string | undefined> {
  const main = await resolveCommit(repo, MAIN)
  const key = crateToPackageName(crate)
  for (const ns of namespaces) {
    const id = `${ns}:${key}`
    const entries = (await listDir(repo, main, `${PACKAGES_DIR}/${ns}/${key}`)) ?? []
    const record = entries.find((e) => e.type === 'blob' && e.name.endsWith('.json') && !e.name.endsWith('.yank.json'))
    if (!record) continue
    const parsed = JSON.parse(Buffer.from(await readBlob(repo, record.oid)).toString('utf8')) as { crate?: { name: string } }
    if (parsed.crate && crateToPackageName(parsed.crate.name) === key) return id
  }
  return undefined
}

export interface CratePublishOptions extends Omit<PublishOptions, 'artifact' | 'name' | 'version' | 'kind' | 'crate' | 'target'>, CargoRunner {
  /** The crate's directory (with Cargo.toml). */
  crateDir: string
  /** Package id, `<ns>:<crate name, lower case, _ as ->` (it picks the namespace); default in the crates namespace. */
  name?: string
  /** Must equal the crate's version when given. */
  version?: string
}

/** A packaged crate with the publish options its record is built from. */
export interface PreparedCrate {
  /** The .crate file cargo wrote, and its bytes. */
  file: string
  bytes: Buffer
  options: PublishOptions
}

/**
 * Packages the crate and maps its manifest onto publish options. `packageOf`
 * names the package of the index that holds a dependency (called only for
 * a dependency that names a registry, as one of this index does), or
 * undefined for a crate of another registry.
 */
export async function prepareCrate(
  options: CratePublishOptions & { cratesNamespace: string; packageOf?: (crate: string, namespaces: string[]) => Promise<string | undefined> },
): Promise<PreparedCrate> {
  const { crateDir, cargo, env, onProgress, name: wanted, version: wantedVersion, cratesNamespace, packageOf, ...rest } = options
  const namespace = wanted === undefined ? cratesNamespace : parsePackageId(wanted).namespace
  const packed = await packageCrate(crateDir, { ...(cargo ? { cargo } : {}), ...(env ? { env } : {}), ...(onProgress ? { onProgress } : {}) })
  const meta = packed.manifest
  if (wantedVersion !== undefined && wantedVersion !== meta.version) {
    throw new WharfError('USAGE', `--version ${wantedVersion} is not the crate's version ${meta.version}`, { hint: 'bump the version in Cargo.toml, or leave out --version' })
  }
  const name = cratePackageId(namespace, meta.name)
  const problem = checkName(crateToPackageName(meta.name))
  if (problem) throw new WharfError('INVALID_NAME', `crate "${meta.name}" has no package name: ${problem}`, { hint: 'rename the crate ([package] name in Cargo.toml): no "__", "--" or trailing "-" or "_"' })
  if (wanted !== undefined && wanted !== name) {
    throw new WharfError('USAGE', `--name ${wanted}: crate ${meta.name} is published as ${name}, a crate's package being named after it`, { hint: `give --name ${name}, or leave --name out to publish into ${cratesNamespace}` })
  }
  const searchIn = [...new Set([namespace, cratesNamespace])]
  // A dependency from this index is a package dependency too; the index is read before the pure mapping.
  const internal = new Map<string, string>()
  for (const dep of meta.dependencies) {
    const id = dep.registry !== null && packageOf ? await packageOf(dep.name, searchIn) : undefined
    if (id) internal.set(dep.name, id)
  }
  const manifest: CrateManifest = {
    name: meta.name,
    version: meta.version,
    description: meta.description,
    license: meta.license,
    repository: meta.repository,
    homepage: meta.homepage,
    keywords: meta.keywords,
    links: meta.links,
    rustVersion: meta.rust_version,
    features: meta.features,
    deps: meta.dependencies.map((d) => ({
      crate: d.name,
      req: d.req,
      rename: d.rename,
      features: d.features,
      optional: d.optional,
      defaultFeatures: d.uses_default_features,
      target: d.target,
      kind: d.kind,
      registry: d.registry,
    })),
  }
  const fields = crateFields(manifest, packed.bytes, (dep) => internal.get(dep.crate))
  const dependencies = [...(rest.dependencies ?? [])]
  for (const d of fields.dependencies ?? []) if (!dependencies.some((x) => x.name === d.name)) dependencies.push(d)
  return {
    file: packed.file,
    bytes: packed.bytes,
    options: {
      ...rest,
      artifact: packed.file,
      name,
      version: meta.version,
      kind: 'crate',
      crate: fields.crate,
      description: rest.description ?? fields.description,
      license: rest.license ?? fields.license,
      repository: rest.repository ?? fields.repository,
      homepage: fields.homepage,
      keywords: rest.keywords?.length ? rest.keywords : fields.keywords,
      dependencies,
    },
  }
}

/**
 * Packages the crate and proposes it. A dependency that this index holds
 * (in the package's own namespace or the crates namespace) is recorded as a
 * package dependency too, so `check` verifies it exists; any other
 * dependency names its registry (crates.io's index URL when the manifest
 * names none), as a Cargo index line of another registry must.
 */
export async function publishCrate(repo: Repo, options: CratePublishOptions): Promise<PublishResult> {
  const registry = await readJsonAt<RegistryFile>(repo, MAIN, REGISTRY_PATH)
  const cratesNamespace = registry?.policy.namespaces.crates ?? 'crates'
  const prepared = await prepareCrate({ ...options, cratesNamespace, packageOf: (crate, namespaces) => crateInIndex(repo, crate, namespaces) })
  options.onProgress?.({ phase: `proposing ${prepared.options.name}@${prepared.options.version}` })
  return publishToIndex(repo, prepared.options)
}
