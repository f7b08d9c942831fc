/**
 * The local registry behind the HTTP routes: the index repo in the data dir,
 * the write pipeline, the in-memory catalog, the generated API and the
 * download counters, with the operations the routes call.
 */
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { keyId, parsePrivateKey, parsePublicKey, type SigningKey } from '../core/keys.js'
import { namespaceFile, yankNotice } from '../core/records.js'
import { namespacePath, recordPath, REGISTRY_KEY_PATH, REGISTRY_PATH, yankPath } from '../core/layout.js'
import { ownerLogin, type NamespaceFile, type RegistryFile, type VersionRecord } from '../core/types.js'
import { readRegistry } from '../check/index.js'
import { MAIN, openRepo, readJsonAt, resolveCommit, type Repo } from '../git/index.js'
import { probeSandbox } from '../matrix/index.js'
import { componentRecord, createJournal, createPipeline, crateRecord, readCrateArchive, type Pipeline, type Plan } from '../publish/index.js'
import { syncIndex, type SyncResult } from '../sync/index.js'
import { createAuthenticator, loginForNamespace, type Authenticator, type Identity } from './auth.js'
import { defaultBuildApi, readBuilt, removeBuildTemps, writeBuilt, type BuildApi } from './build.js'
import { loadCatalog, type Catalog } from './catalog.js'
import type { NamespaceToken } from './config.js'
import { claimDataDir, dataDirLayout, ensureAdminToken, ensureIndex, type DataDir } from './data-dir.js'
import { openDownloads, type Downloads } from './downloads.js'
import { fieldError } from './http.js'
import { cargoManifest, type CargoPublishMetadata, type ComponentForm } from './requests.js'
import { prepareSigned } from './signed.js'
import { createStaticFiles, type StaticFiles } from './static.js'

export interface RegistryOptions {
  dataDir: string
  baseUrl: string
  adminToken?: string
  tokens: NamespaceToken[]
  log: (line: string) => void
  /** Overrides src/api's buildApi. */
  buildApi?: BuildApi
  /** How uploaded code runs (ServeConfig.sandbox). */
  sandbox?: { bwrap?: string; unsandboxed?: boolean }
  /** The registry's name for a new index (REGISTRY_NAME). */
  name?: string
  /** The registry's public key as configured (PUBLIC_KEY): the index's key must be it. */
  publicKey?: string
}

/** How `POST /tests/{id}` runs uploaded code on this server, settled once at start. */
export type TestSandbox =
  | { kind: 'bwrap'; bwrap: string; version: string }
  /** The operator opted out by name: uploaded code runs with the server's rights. */
  | { kind: 'unsandboxed' }
  /** No sandbox could be made: test runs are refused (503), saying why. */
  | { kind: 'unavailable'; reason: string }

export interface Registry {
  layout: DataDir
  repo: Repo
  baseUrl: string
  catalog: Catalog
  downloads: Downloads
  auth: Authenticator
  statics: StaticFiles
  pipeline: Pipeline
  adminToken: string
  /** True when this start made the admin token (print it). */
  generatedToken: boolean
  startedAt: Date
  sandbox: TestSandbox
  registryFile(): Promise<RegistryFile>
  cratesNamespace(): Promise<string>
  publishComponent(who: Identity, form: ComponentForm): Promise<VersionRecord>
  publishCrate(who: Identity, metadata: CargoPublishMetadata, crate: Buffer): Promise<VersionRecord>
  yank(who: Identity, name: string, version: string, reason: string): Promise<{ yanked: boolean }>
  updateRegistry(who: Identity, change: Partial<Pick<RegistryFile, 'description' | 'peers' | 'policy' | 'name'>>): Promise<RegistryFile>
  /** `wharf sync` through this server's pipeline: imports land on main and in the API like any write. */
  sync(options?: { peer?: string; allowConflicts?: boolean }): Promise<SyncResult>
  close(): Promise<void>
}

async function settleSandbox(wanted: RegistryOptions['sandbox']): Promise<TestSandbox> {
  if (wanted?.unsandboxed) return { kind: 'unsandboxed' }
  const bwrap = wanted?.bwrap ?? 'bwrap'
  const probe = await probeSandbox(bwrap)
  return probe.ok ? { kind: 'bwrap', bwrap, version: probe.version } : { kind: 'unavailable', reason: probe.reason }
}

/** Refuses a registry key other than the configured one: peers pin it, so a swapped data dir must not serve under it. */
function assertPublicKey(key: SigningKey, configured: string, index: string): void {
  let wanted: string
  try {
    wanted = /^[0-9a-f]{16}$/.test(configured) ? configured : keyId(parsePublicKey(configured))
  } catch (e) {
    throw new WharfError('BAD_KEY', `PUBLIC_KEY is not an Ed25519 public key: ${(e as Error).message}`, { hint: 'give the base64 public key (or its 16-hex id) that config.json lists under keys' })
  }
  if (wanted !== key.id) {
    throw new WharfError('BAD_KEY', `the registry key in ${index}/${REGISTRY_KEY_PATH} is ${key.id} (${key.publicKey}), not the PUBLIC_KEY ${wanted}`, {
      hint: 'peers pin PUBLIC_KEY: point REGISTRY_DATA_DIR at the data dir that holds its private key, or set PUBLIC_KEY to this key if it is the one to publish',
    })
  }
}

export async function openRegistry(options: RegistryOptions): Promise<Registry> {
  const layout = dataDirLayout(options.dataDir)
  const release = await claimDataDir(layout)
  try {
    return await open(layout, options, release)
  } catch (e) {
    release()
    throw e
  }
}

async function open(layout: DataDir, options: RegistryOptions, release: () => void): Promise<Registry> {
  const { log } = options
  const { created } = await ensureIndex(layout, options.name)
  if (created) log(`created index repo ${layout.index}`)
  await fs.promises.mkdir(layout.public, { recursive: true })
  await fs.promises.mkdir(layout.journal, { recursive: true })
  await fs.promises.mkdir(layout.tests, { recursive: true })
  const repo = openRepo(layout.index)
  const key: SigningKey = parsePrivateKey(await fs.promises.readFile(`${layout.index}/${REGISTRY_KEY_PATH}`, 'utf8'))
  const registryKey = { id: key.id, public_key: key.publicKey }
  if (options.publicKey) assertPublicKey(key, options.publicKey, layout.index)
  const initial = await readRegistry(repo, MAIN)
  if (options.name && initial.name !== options.name) log(`note: REGISTRY_NAME is ${options.name}, but this registry is named ${initial.name} (REGISTRY_NAME names a new registry only; PUT /registry renames it)`)
  const adminLogin = initial.maintainers.map(ownerLogin).find(Boolean)
  if (!adminLogin) throw new WharfError('NOT_AN_INDEX', 'index/registry.json names no maintainer login', { hint: 'a maintainer must be a login for the server to act as' })
  const admin = await ensureAdminToken(layout, options.adminToken)
  const auth = createAuthenticator({ token: admin.token, login: adminLogin }, options.tokens)
  const buildApi = options.buildApi ?? defaultBuildApi
  const statics = createStaticFiles(layout.public)
  const downloads = await openDownloads(layout.downloadsFile)
  let catalog = await loadCatalog(repo, await resolveCommit(repo, MAIN))

  // Until a build finishes, one may have been cut short (at start: by a crash) and left temp files among the generated ones.
  let buildUnfinished = true
  const rebuild = async () => {
    const tip = await resolveCommit(repo, MAIN)
    await catalog.advance(repo, tip)
    const built = await readBuilt(layout.builtFile)
    // Documents carry absolute URLs: a new REGISTRY_URL (or port) means building them all again.
    const since = built?.baseUrl === options.baseUrl ? built.commit : undefined
    if (since === tip) {
      buildUnfinished = false
      return
    }
    const started = Date.now()
    if (buildUnfinished) for (const file of await removeBuildTemps(layout.public)) log(`removed ${path.relative(layout.root, file)}, left by a build cut short`)
    buildUnfinished = true
    try {
      await buildApi({ repo, out: layout.public, baseUrl: options.baseUrl, ...(since ? { since } : {}) })
      await writeBuilt(layout.builtFile, { commit: tip, baseUrl: options.baseUrl })
    } catch (e) {
      // The build stops at its first failed write (a full disk): what it had half-written goes now, the rest at the next build.
      await removeBuildTemps(layout.public).catch(() => undefined)
      throw e
    }
    buildUnfinished = false
    statics.invalidate()
    log(`build-api ${since ? `since ${since.slice(0, 12)}` : 'full'} -> ${tip.slice(0, 12)} ${Date.now() - started}ms`)
  }

  const pipeline = createPipeline(repo, createJournal(layout.journal), {
    log,
    async afterMerge() {
      await rebuild()
    },
  })
  const sandbox = await settleSandbox(options.sandbox)
  log(
    sandbox.kind === 'bwrap'
      ? `test runs: sandboxed (${sandbox.version})`
      : sandbox.kind === 'unsandboxed'
        ? 'test runs: NOT sandboxed (REGISTRY_UNSANDBOXED_TESTS): uploaded crates run with this server\'s rights'
        : `test runs: refused, no sandbox: ${sandbox.reason}`,
  )

  const recovered = await pipeline.recover({ stateDirs: [layout.state] })
  for (const label of recovered.finished) log(`recovered: finished ${label}`)
  for (const label of recovered.rolledBack) log(`recovered: rolled back ${label}`)
  // The catalog read main before recovery; recovery never moves main, but a finished write may postdate the API.
  catalog = await loadCatalog(repo, await resolveCommit(repo, MAIN))
  await rebuild()

  const namespaceAt = (commit: string, ns: string) => readJsonAt<NamespaceFile>(repo, commit, namespacePath(ns))

  /** Creates `ns` when main lacks it, owned by `owner` and the admin, with the registry key. */
  const ensureNamespace = async (ns: string, owner: string) => {
    if (await namespaceAt(MAIN, ns)) return
    await pipeline.submit(async (base) => {
      if (await namespaceAt(base, ns)) return undefined
      return {
        label: `namespace ${ns}`,
        branch: `namespace/${ns}`,
        // The server claims as the maintainer: the token holder is authorised at the HTTP edge.
        author: adminLogin,
        message: `Claim namespace ${ns}`,
        files: [{ path: namespacePath(ns), json: namespaceFile(ns, [...new Set([owner, adminLogin])].map((login) => ({ login })), key, new Date()), schema: 'namespace' }],
      }
    })
  }

  for (const t of options.tokens) if (t.namespace !== '*') await ensureNamespace(t.namespace, loginForNamespace(t.namespace))

  const assertNew = (name: string, version: string) => {
    const existing = catalog.get(name, version)
    if (existing) {
      throw fieldError('VERSION_EXISTS', 'version', `${name}@${existing.record.version} is already published`, 'versions are immutable; bump the version and publish again')
    }
  }

  const publish = async (
    who: Identity,
    ns: string,
    label: string,
    build: () => VersionRecord,
    artifact: Uint8Array,
    fetched?: ReadonlyMap<string, Uint8Array>,
  ): Promise<VersionRecord> => {
    auth.authorize(who, ns)
    await ensureNamespace(ns, who.login)
    let published: VersionRecord | undefined
    await pipeline.submit(async (base) => {
      await catalog.advance(repo, base)
      const record = build()
      assertNew(record.name, record.version)
      published = record
      const plan: Plan = {
        label,
        branch: `publish/${record.name.replace(':', '/')}/${record.version}`,
        author: who.login,
        message: `Publish ${record.name}@${record.version}`,
        files: [{ path: recordPath(record.name, record.version), json: record, schema: 'record' }],
        artifact,
        ...(fetched ? { fetched } : {}),
      }
      return plan
    })
    return published!
  }

  const registry: Registry = {
    layout,
    repo,
    baseUrl: options.baseUrl,
    get catalog() {
      return catalog
    },
    downloads,
    auth,
    statics,
    pipeline,
    adminToken: admin.token,
    generatedToken: admin.generated,
    startedAt: new Date(),
    sandbox,
    registryFile: () => readRegistry(repo, MAIN),
    async cratesNamespace() {
      return (await readRegistry(repo, MAIN)).policy.namespaces.crates ?? 'crates'
    },
    async publishComponent(who, form) {
      const ns = form.name.slice(0, form.name.indexOf(':'))
      auth.authorize(who, ns)
      // A record the publisher signed is verified, and its remote artifacts fetched, before the write lock is taken.
      const fetched = form.signed ? await prepareSigned(repo, { record: form.signed, bytes: form.bytes, sha256: form.sha256 }, { registryKey }) : undefined
      return publish(who, ns, `${form.name}@${form.version}`, () => form.signed ?? componentRecord(form, who.login, key, new Date()), form.bytes, fetched)
    },
    async publishCrate(who, metadata, crate) {
      // Every field is checked (a 400 naming it) before anything is written.
      const manifest = cargoManifest(metadata)
      const ns = await registry.cratesNamespace()
      return publish(
        who,
        ns,
        `crate ${manifest.name}@${manifest.version}`,
        () => {
          // Read, not unpacked: every member a plain file under <name>-<version>/, before anything is stored.
          readCrateArchive(crate, { topDir: `${manifest.name}-${manifest.version}` })
          return crateRecord(ns, manifest, crate, who.login, key, new Date())
        },
        crate,
      )
    },
    async yank(who, name, version, reason) {
      auth.authorize(who, name.slice(0, name.indexOf(':')))
      let yanked = false
      await pipeline.submit(async (base) => {
        await catalog.advance(repo, base)
        const entry = catalog.get(name, version)
        if (!entry) throw new WharfError('NOT_FOUND', `${name}@${version} is not published`, { hint: 'check the name and version' })
        // Yanking twice is not an error (as on crates.io): the notice is already there.
        if (entry.yank) return undefined
        yanked = true
        const v = entry.record.version
        return {
          label: `yank ${name}@${v}`,
          branch: `yank/${name.replace(':', '/')}/${v}`,
          author: who.login,
          message: `Yank ${name}@${v}`,
          files: [{ path: yankPath(name, v), json: yankNotice({ name, version: v, reason, publisher: who.login, yankedAt: new Date() }, key), schema: 'yank' }],
        }
      })
      return { yanked }
    },
    async updateRegistry(who, change) {
      if (who.namespace !== '*') throw new WharfError('FORBIDDEN', 'only the admin token may change the registry', { hint: 'use REGISTRY_ADMIN_TOKEN' })
      let next: RegistryFile | undefined
      await pipeline.submit(async (base) => {
        const current = await readRegistry(repo, base)
        next = { ...current, ...change, schema: 'wharf:registry/v1', maintainers: current.maintainers, keys: current.keys }
        if (JSON.stringify(next) === JSON.stringify(current)) return undefined
        return { label: 'registry.json', branch: 'registry/update', author: adminLogin, message: 'Update registry.json', files: [{ path: REGISTRY_PATH, json: next, schema: 'registry' }] }
      })
      return next!
    },
    sync(sync = {}) {
      return syncIndex({ repo, pipeline, author: adminLogin, ...(sync.peer !== undefined ? { peer: sync.peer } : {}), ...(sync.allowConflicts ? { allowConflicts: true } : {}) })
    },
    async close() {
      await pipeline.idle()
      await downloads.close()
      release()
    },
  }
  return registry
}
