/**
 * `wharf build-api`: the static API of an index at the tip of main.
 *
 * A full build reads the first-parent history of main once (to number the
 * change feed and to date every document with the commit that last changed
 * it) and the whole tree at the tip. An incremental build reads only the
 * commits since the one the current output was built from, and rewrites the
 * documents of the packages they touched plus the aggregates. Both call the
 * same renderers with the same inputs, so their bytes are the same.
 */
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { parsePrivateKey, type SigningKey } from '../core/keys.js'
import { classifyPath, NAMESPACES_DIR, REGISTRY_KEY_PATH, REGISTRY_PATH, REPORTS_DIR } from '../core/layout.js'
import type { NamespaceFile, RegistryFile, VersionRecord } from '../core/types.js'
import { diffTrees, isTreeMode, lookupPath as lookup, MAIN, ObjectReader, parseTree, resolveCommit, withRepoLock, type Change, type CommitData, type Repo } from '../git/index.js'
import { artifactPath as storePath, isLocalUrl, LOCAL_URL_PREFIX } from '../store/index.js'
import { cargoConfig, cargoIndexLine, cargoIndexPath, crateKey } from './cargo.js'
import {
  API_FORMAT,
  artifactPath,
  crateDocPath,
  feedPageOf,
  feedPagePath,
  FEED_PAGE_SIZE,
  namespaceDocPath,
  PATHS,
  primaryArtifact,
  renderConfig,
  renderCrateDoc,
  renderFeedHead,
  renderFeedPage,
  renderHealth,
  renderNamespaceDoc,
  renderNamespaceList,
  renderPackageList,
  renderSearchIndex,
  renderSearchShard,
  renderStats,
  renderVersionDoc,
  renderVersionsDoc,
  renderWellKnown,
  searchEntry,
  searchShardOf,
  searchShardPath,
  versionPath,
  versionsPath,
  type Counts,
  type FeedEntry,
  type PackageModel,
  type SearchEntry,
  type Site,
} from './documents.js'
import { firstParentChain, indexChanges, indexTree, readCommitData, type CommitChanges } from './history.js'
import { buildPackage, childrenAt, indexFiles, packageExistsAt, packagesOfNamespace, parseNamespace, readAllPackages, readBlobAt, readNamespaces, readPackage, readRegistryAt, reportTarget } from './model.js'
import { buildsDirOf, currentTree, newTree, OutputTree, swapIn } from './output.js'
import { checkSitePath, dependencyTargets, dependentsPath, foldDependents, NEWEST_COUNT, renderDependentsDoc, type DependentsDoc, type PageContext, type PageRenderer, type SiteFile } from './pages.js'
import { isSnapshotFile, leafOf, leafPath, partPath, renderLeaf, renderPart, renderSnapshot, SNAPSHOT_PATH, type Snapshot, type SnapshotLeaf, type SnapshotPart } from './snapshot.js'

/** Where a local registry answers when no --base-url is given (REGISTRY_URL's default in `wharf serve`). */
export const DEFAULT_BASE_URL = 'http://localhost:8080'
/** How long a snapshot may be trusted: a copy not refreshed within this time is stale. */
export const DEFAULT_SNAPSHOT_TTL_SECONDS = 7 * 24 * 3600

export interface BuildApiOptions {
  repo: Repo
  /** The directory readers are served from. It becomes a symlink to the current build. */
  out: string
  /** Public URL of `out`, without a trailing slash (default http://localhost:8080). */
  baseUrl?: string
  /** The commit the current output was built from: rebuild only what changed since. */
  since?: string
  /** The ref to build (default main). */
  ref?: string
  /** Snapshot generation time (default now). */
  now?: Date
  /** Snapshot lifetime in seconds (default 7 days). */
  ttlSeconds?: number
  /** The registry's private key, PKCS#8 PEM (default: the index's .wharf/registry.key). */
  registryKey?: string
  /** Writes the static site beside the API (src/site's renderer); without it only the API is built. */
  pages?: PageRenderer
  /** Told the phase of the build and, while packages are rendered, how many are done: for a progress line. */
  onProgress?: (progress: { phase: string; done?: number; total?: number }) => void
}

export interface BuildApiResult {
  mode: 'full' | 'incremental'
  /** Why a build asked to be incremental ran in full. */
  reason?: string
  commit: string
  /** The directory the build wrote (what `out` points at). */
  tree: string
  /** Files whose bytes changed (a full build: every file). */
  written: number
  removed: number
  /** Packages whose documents were rendered. */
  packages: number
  /** Change-feed events this build added, and the feed's last sequence number. */
  events: number
  seq: number
  warnings: string[]
}

interface BuildState {
  format: number
  commit: string
  base_url: string
  seq: number
  counts: Counts
  /** The page renderer's format, when the output has pages. */
  pages?: string
}

interface Context {
  repo: Repo
  reader: ObjectReader
  baseUrl: string
  head: CommitData
  key: SigningKey
  now: Date
  ttlSeconds: number
  warnings: string[]
  pages: PageRenderer | undefined
  progress: NonNullable<BuildApiOptions['onProgress']>
}

interface RawEvent {
  type: 'publish' | 'yank'
  id: string
  version: string
  path: string
  commit: CommitData
}

/** What a run of commits did, in the terms the documents care about. */
class Scan {
  /** Document key (`p:<id>`, `v:<id>@<version>`, `n:<ns>`, `packages`, `namespaces`) to the last commit that changed it. */
  readonly touched = new Map<string, CommitData>()
  readonly events: RawEvent[] = []
  readonly newPackages = new Set<string>()
  readonly affected = new Set<string>()
  readonly namespaces = new Set<string>()
  /** Namespace files added minus namespace files removed. */
  namespaceDelta = 0
  /** Published files that were changed or removed: an incremental build cannot number those. */
  readonly rewrites: string[] = []
  private readonly evented = new Set<string>()

  constructor(private readonly isNewPackage: (id: string) => boolean) {}

  private touch(key: string, commit: CommitData): void {
    this.touched.set(key, commit)
  }

  add({ commit, changes }: CommitChanges): void {
    for (const change of changes) {
      const where = classifyPath(change.path)
      if (where.kind === 'record' || where.kind === 'yank') {
        const { name: id, version } = where
        if (change.status === 'added' && !this.evented.has(change.path)) {
          this.evented.add(change.path)
          this.events.push({ type: where.kind === 'record' ? 'publish' : 'yank', id, version, path: change.path, commit })
          if (where.kind === 'record' && !this.newPackages.has(id) && this.isNewPackage(id)) {
            this.newPackages.add(id)
            this.touch('packages', commit)
            this.touch(`n:${id.slice(0, id.indexOf(':'))}`, commit)
            this.namespaces.add(id.slice(0, id.indexOf(':')))
          }
        } else if (change.status !== 'added') this.rewrites.push(change.path)
        this.touch(`p:${id}`, commit)
        this.touch(`v:${id}@${version}`, commit)
        this.affected.add(id)
      } else if (where.kind === 'report') {
        const target = reportTarget(change.path)
        if (!target) continue
        this.touch(`v:${target.id}@${target.version}`, commit)
        this.affected.add(target.id)
      } else if (where.kind === 'namespace') {
        this.touch(`n:${where.namespace}`, commit)
        this.namespaces.add(where.namespace)
        if (change.status !== 'modified') {
          this.touch('namespaces', commit)
          this.namespaceDelta += change.status === 'added' ? 1 : -1
        }
      }
    }
  }
}

function normalizeBaseUrl(url: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new WharfError('USAGE', `--base-url "${url}" is not an http(s) URL`, { hint: 'pass the public URL the output is served at, e.g. https://example.github.io/registry' })
  return url.replace(/\/+$/, '')
}

async function loadKey(repo: Repo, registry: RegistryFile, pem: string | undefined): Promise<SigningKey> {
  let text = pem
  if (text === undefined) {
    const file = path.join(repo.dir, REGISTRY_KEY_PATH)
    try {
      text = await fs.promises.readFile(file, 'utf8')
    } catch {
      throw new WharfError('BAD_KEY', `there is no registry key at ${file} to sign the snapshot with`, {
        hint: 'build on the machine that ran `wharf init` (the key never leaves it), or pass the key in WHARF_REGISTRY_KEY',
      })
    }
  }
  const key = parsePrivateKey(text)
  const listed = registry.keys.find((k) => k.id === key.id && !k.revoked)
  if (!listed) {
    throw new WharfError('BAD_KEY', `the registry key ${key.id} is not an unrevoked key of index/registry.json`, {
      hint: 'add its public half to the keys of index/registry.json, or use the key that `wharf init` made',
    })
  }
  return key
}

/** Builds the API of `options.repo` at main into `options.out`. Safe to call again and again; calls on one `out` take turns. */
export async function buildApi(options: BuildApiOptions): Promise<BuildApiResult> {
  const out = path.resolve(options.out)
  const baseUrl = normalizeBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL)
  await fs.promises.mkdir(buildsDirOf(out), { recursive: true })
  return withRepoLock(buildsDirOf(out), async () => {
    const headOid = await resolveCommit(options.repo, options.ref ?? MAIN)
    const reader = new ObjectReader(options.repo.dir)
    try {
      const head = readCommitData(reader, headOid)
      const registry = readRegistryAt(reader, head.tree)
      const ctx: Context = {
        repo: options.repo,
        reader,
        baseUrl,
        head,
        key: await loadKey(options.repo, registry, options.registryKey),
        now: options.now ?? new Date(),
        ttlSeconds: options.ttlSeconds ?? DEFAULT_SNAPSHOT_TTL_SECONDS,
        warnings: [],
        pages: options.pages,
        progress: options.onProgress ?? (() => {}),
      }
      let reason: string | undefined
      if (options.since !== undefined) {
        // A full commit id is taken as is: resolving it through isomorphic-git would load every pack index.
        const since = /^[0-9a-f]{40}$/.test(options.since) ? options.since : await resolveCommit(options.repo, options.since)
        const attempt = await incrementalBuild(ctx, out, since)
        if (typeof attempt !== 'string') return attempt
        reason = attempt
      }
      reader.close()
      const bulk = new ObjectReader(options.repo.dir, true)
      try {
        return await fullBuild({ ...ctx, reader: bulk }, out, reason)
      } finally {
        bulk.close()
      }
    } finally {
      reader.close()
    }
  })
}

function siteOf(ctx: Context): Site {
  return { baseUrl: ctx.baseUrl, head: ctx.head.oid, registry: readRegistryAt(ctx.reader, ctx.head.tree) }
}

/** Feed entries for raw events, numbered from `first`; events whose file is gone at the tip are dropped (both builds do the same). */
function feedEntries(events: RawEvent[], packages: (id: string) => PackageModel | undefined, first: number): FeedEntry[] {
  const entries: FeedEntry[] = []
  for (const event of events) {
    const entry = packages(event.id)?.versions.find((v) => v.version === event.version)
    if (!entry) continue
    const file = event.type === 'publish' ? entry.file : entry.yank?.file
    if (!file || file.path !== event.path) continue
    entries.push({
      seq: first + entries.length,
      type: event.type,
      name: event.id,
      version: event.version,
      commit: event.commit.oid,
      time: new Date(event.commit.time * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      sha256: primaryArtifact(entry.record).sha256,
      file: file.path,
      file_sha256: sha256Hex(file.bytes),
    })
  }
  return entries
}

/** Local artifacts of a record, linked into the output from the index's store. */
async function placeArtifacts(ctx: Context, tree: OutputTree, record: VersionRecord): Promise<void> {
  for (const artifact of record.artifacts) {
    if (!isLocalUrl(artifact.url)) continue
    const sha = artifact.url.slice(LOCAL_URL_PREFIX.length)
    const source = storePath(ctx.repo.dir, sha)
    if (!fs.existsSync(source)) {
      throw new WharfError('NOT_FOUND', `${record.name}@${record.version}: artifact ${artifact.name} (${artifact.url}) is not in the artifact store ${path.dirname(source)}`, {
        hint: 'build the API on the machine that holds the store, or restore the artifact there',
      })
    }
    await tree.link(artifactPath(sha), source, sha)
  }
}

interface Claim {
  crate: string
  package: string
  commit: CommitData
}

/** The crate a publish event claims, when it is the first to name it (the first claimant keeps a crate name, as on crates.io). */
async function claimCrates(events: RawEvent[], packages: (id: string) => PackageModel | undefined, owner: (key: string) => Promise<string | undefined>): Promise<Map<string, Claim>> {
  const claims = new Map<string, Claim>()
  for (const event of events) {
    if (event.type !== 'publish') continue
    const record = packages(event.id)?.versions.find((v) => v.version === event.version)?.record
    if (!record?.crate) continue
    const key = crateKey(record.crate.name)
    if (claims.has(key) || (await owner(key)) !== undefined) continue
    claims.set(key, { crate: record.crate.name, package: event.id, commit: event.commit })
  }
  return claims
}

/** The cargo index file of a package's crate, when the package owns the crate name. */
async function writeCargo(ctx: Context, tree: OutputTree, pkg: PackageModel, owner: (key: string) => Promise<string | undefined>): Promise<boolean> {
  const crates = new Map<string, PackageModel['versions']>()
  for (const entry of pkg.versions) {
    if (!entry.record.crate) continue
    const key = crateKey(entry.record.crate.name)
    crates.set(key, [...(crates.get(key) ?? []), entry])
  }
  let wrote = false
  for (const [key, entries] of crates) {
    const holder = await owner(key)
    if (holder !== pkg.id) {
      ctx.warnings.push(`${pkg.id}: crate name ${entries[0]!.record.crate!.name} belongs to ${holder ?? 'no package'}; its versions are left out of the Cargo index`)
      continue
    }
    const lines = entries.map((e) => `${cargoIndexLine(e.record, Boolean(e.yank))}\n`).join('')
    await tree.write(cargoIndexPath(entries[0]!.record.crate!.name), lines)
    wrote = true
  }
  return wrote
}

const commitOf = (scan: Scan, key: string): string | undefined => scan.touched.get(key)?.oid

/** Writes what the page renderer returned, refusing any path that is not a plain relative one. */
async function writeSiteFiles(tree: OutputTree, files: SiteFile[]): Promise<void> {
  for (const file of files) {
    const bytes = typeof file.bytes === 'string' ? file.bytes : Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength)
    await tree.write(checkSitePath(file.path), bytes)
  }
}

const pageContext = (site: Site): PageContext => ({ baseUrl: site.baseUrl, registry: site.registry })

/** `ns:a/b` is nested under `ns:a`; a top-level name has no parent. */
const parentOf = (id: string): string | undefined => (id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : undefined)

/** The records that publish events added and the tip still holds, with the commit that added each (feed order). */
function publishedRecords(events: RawEvent[], packages: (id: string) => PackageModel | undefined): { record: VersionRecord; commit: string }[] {
  const out: { record: VersionRecord; commit: string }[] = []
  for (const event of events) {
    if (event.type !== 'publish') continue
    const entry = packages(event.id)?.versions.find((v) => v.version === event.version)
    if (entry && entry.file.path === event.path) out.push({ record: entry.record, commit: event.commit.oid })
  }
  return out
}

const sortedDependents = (doc: DependentsDoc | undefined) => [...(doc?.dependents ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1))

/** The home page, the lists and the shared assets: rendered by every build. */
async function writeSitePages(ctx: Context, tree: OutputTree, site: Site, counts: Counts, newest: FeedEntry[], namespaces: string[]): Promise<void> {
  if (!ctx.pages) return
  await writeSiteFiles(tree, ctx.pages.aggregates({ context: pageContext(site), head: site.head, counts, newest, namespaces: [...namespaces].sort() }))
}

async function fullBuild(ctx: Context, out: string, reason: string | undefined): Promise<BuildApiResult> {
  const { reader } = ctx
  const tree = new OutputTree(await newTree(out), false)
  try {
    ctx.progress({ phase: 'reading the history of main' })
    const chain = firstParentChain(reader, ctx.head.oid)!
    const ordinal = new Map(chain.map((c, i) => [c.oid, i]))
    const scan = new Scan(() => true)
    for (const commit of indexChanges(reader, chain, undefined)) scan.add(commit)

    const site = siteOf(ctx)
    const root = indexTree(reader, ctx.head.tree)
    const packages = new Map<string, PackageModel>()
    for (const [id, files] of readAllPackages(reader, root)) {
      if (files.records.length) packages.set(id, buildPackage(id, files, reader, ctx.repo.dir))
    }
    const namespaceBlobs = readNamespaces(reader, ctx.head.tree)
    const entries = feedEntries(scan.events, (id) => packages.get(id), 1)
    const claims = await claimCrates(scan.events, (id) => packages.get(id), async () => undefined)
    const owner = async (key: string) => claims.get(key)?.package
    const dependents = new Map<string, DependentsDoc>()
    for (const { record, commit } of publishedRecords(scan.events, (id) => packages.get(id))) foldDependents(dependents, record, commit)
    const namespaceFiles = new Map([...namespaceBlobs].map(([ns, blob]) => [ns, parseNamespace(blob)]))
    const children = new Map<string, string[]>()
    for (const id of [...packages.keys()].sort()) {
      const parent = parentOf(id)
      if (parent && packages.has(parent)) children.set(parent, [...(children.get(parent) ?? []), id])
    }

    // Leaves first: the signed index files, artifacts, then the documents that point at them.
    const fromPackages = new Map<string, Buffer>()
    for (const pkg of packages.values()) {
      for (const v of pkg.versions) {
        fromPackages.set(v.file.path, v.file.bytes)
        if (v.yank) fromPackages.set(v.yank.file.path, v.yank.file.bytes)
        for (const r of v.reports) fromPackages.set(r.path, r.bytes)
      }
    }
    ctx.progress({ phase: 'copying the signed index files' })
    for (const file of indexFiles(reader, root)) await tree.write(file.path, fromPackages.get(file.path) ?? reader.readAs(file.oid, 'blob'))

    const shards = new Map<string, { entries: SearchEntry[]; commit: CommitData }>()
    let rendered = 0
    for (const pkg of [...packages.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      ctx.progress({ phase: 'packages', done: rendered++, total: packages.size })
      for (const v of pkg.versions) {
        await placeArtifacts(ctx, tree, v.record)
        await tree.write(versionPath(pkg.id, v.version), renderVersionDoc(site, pkg, v, commitOf(scan, `v:${pkg.id}@${v.version}`)!))
      }
      const commit = scan.touched.get(`p:${pkg.id}`)!
      await tree.write(versionsPath(pkg.id), renderVersionsDoc(pkg, commit.oid))
      await writeCargo(ctx, tree, pkg, owner)
      const shard = searchShardOf(pkg.id)
      const current = shards.get(shard)
      const entry = searchEntry(pkg, commit.oid)
      if (!current) shards.set(shard, { entries: [entry], commit })
      else {
        current.entries.push(entry)
        if (ordinal.get(commit.oid)! > ordinal.get(current.commit.oid)!) current.commit = commit
      }
      if (ctx.pages) {
        const input = { context: pageContext(site), package: pkg, namespace: namespaceFiles.get(pkg.namespace), dependents: sortedDependents(dependents.get(pkg.id)), children: children.get(pkg.id) ?? [] }
        await writeSiteFiles(tree, ctx.pages.package(input))
      }
    }
    for (const doc of dependents.values()) await tree.write(dependentsPath(doc.name), renderDependentsDoc(doc))
    for (const [key, claim] of claims) await tree.write(crateDocPath(key), renderCrateDoc(site, claim.crate, claim.package, claim.commit.oid, cargoIndexPath(claim.crate)))

    const byNamespace = new Map<string, string[]>()
    for (const id of packages.keys()) {
      const ns = id.slice(0, id.indexOf(':'))
      byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), id])
    }
    for (const [ns, blob] of namespaceBlobs) {
      const members = [...(byNamespace.get(ns) ?? [])].sort()
      await tree.write(namespaceDocPath(ns), renderNamespaceDoc(site, namespaceFiles.get(ns)!, members, commitOf(scan, `n:${ns}`) ?? ctx.head.oid, blob.path))
      if (ctx.pages) await writeSiteFiles(tree, ctx.pages.namespace({ context: pageContext(site), namespace: namespaceFiles.get(ns)!, packages: members }))
    }
    await tree.write(PATHS.packages, renderPackageList([...packages.keys()], commitOf(scan, 'packages') ?? null))
    await tree.write(PATHS.namespaces, renderNamespaceList([...namespaceBlobs.keys()], commitOf(scan, 'namespaces') ?? null))

    for (let page = 0; page * FEED_PAGE_SIZE < entries.length; page++) {
      await tree.write(feedPagePath(page), renderFeedPage(page, entries.slice(page * FEED_PAGE_SIZE, (page + 1) * FEED_PAGE_SIZE)))
    }
    const shardInfo = new Map<string, { count: number; sha256: string }>()
    for (const [shard, { entries: list, commit }] of shards) {
      const text = renderSearchShard(shard, list, commit.oid)
      await tree.write(searchShardPath(shard), text)
      shardInfo.set(shard, { count: list.length, sha256: sha256Hex(text) })
    }
    const counts: Counts = {
      packages: packages.size,
      versions: [...packages.values()].reduce((n, p) => n + p.versions.length, 0),
      yanked: [...packages.values()].reduce((n, p) => n + p.versions.filter((v) => v.yank).length, 0),
      namespaces: namespaceBlobs.size,
      crates: claims.size,
    }
    await writeAggregates(ctx, tree, site, counts, entries.length, shardInfo)
    const newest = entries.filter((e) => e.type === 'publish').slice(-NEWEST_COUNT).reverse()
    await writeSitePages(ctx, tree, site, counts, newest, [...namespaceBlobs.keys()])
    ctx.progress({ phase: 'signing the snapshot' })
    await writeSnapshot(ctx, tree, site, undefined)
    await tree.write(PATHS.state, `${JSON.stringify({ format: API_FORMAT, commit: ctx.head.oid, base_url: ctx.baseUrl, seq: entries.length, counts, pages: ctx.pages?.format } satisfies BuildState, null, 2)}\n`)
    await tree.flush()
    await swapIn(out, tree.root)
    return {
      mode: 'full',
      ...(reason ? { reason } : {}),
      commit: ctx.head.oid,
      tree: tree.root,
      written: tree.written.size,
      removed: 0,
      packages: packages.size,
      events: entries.length,
      seq: entries.length,
      warnings: ctx.warnings,
    }
  } catch (e) {
    await tree.flush().catch(() => undefined)
    await fs.promises.rm(tree.root, { recursive: true, force: true })
    throw e
  }
}

async function writeAggregates(ctx: Context, tree: OutputTree, site: Site, counts: Counts, seq: number, shards: Map<string, { count: number; sha256: string }>): Promise<void> {
  await tree.write(PATHS.searchIndex, renderSearchIndex(site, shards))
  await tree.write(PATHS.stats, renderStats(site, counts))
  await tree.write(PATHS.feedHead, renderFeedHead(site, seq))
  await tree.write(PATHS.cargoConfig, `${JSON.stringify(cargoConfig(ctx.baseUrl), null, 2)}\n`)
  await tree.write(PATHS.config, renderConfig(site))
  await tree.write(PATHS.wellKnown, renderWellKnown(site))
  await tree.write(PATHS.health, renderHealth(site))
}

/**
 * Writes the snapshot of everything this build wrote: in a full build every
 * leaf and part; in an incremental one the leaves of the files it wrote or
 * removed (a leaf whose entries did not change is left alone, so is a part
 * none of whose leaves changed), then the signed top.
 */
async function writeSnapshot(ctx: Context, tree: OutputTree, site: Site, previous: Snapshot | undefined): Promise<void> {
  await tree.flush()
  const listed = (file: string) => !isSnapshotFile(file) && file !== PATHS.state
  const byLeaf = new Map<string, { set: [string, string][]; removed: string[] }>()
  const slot = (leaf: string) => {
    let entry = byLeaf.get(leaf)
    if (!entry) byLeaf.set(leaf, (entry = { set: [], removed: [] }))
    return entry
  }
  for (const [file, sha] of tree.written) if (listed(file)) slot(leafOf(file)).set.push([file, sha])
  for (const file of tree.removed) if (listed(file)) slot(leafOf(file)).removed.push(file)

  let fileCount = previous?.file_count ?? 0
  const leafDigests = new Map<string, Map<string, string | null>>()
  for (const [leaf, change] of byLeaf) {
    const old = previous ? ((await tree.readJson<SnapshotLeaf>(leafPath(leaf)))?.files ?? {}) : {}
    const files = new Map(Object.entries(old))
    for (const [file, sha] of change.set) files.set(file, sha)
    for (const file of change.removed) files.delete(file)
    if (previous && files.size === Object.keys(old).length && [...files].every(([f, sha]) => old[f] === sha)) continue
    fileCount += files.size - Object.keys(old).length
    const part = leaf.slice(0, 2)
    if (!leafDigests.has(part)) leafDigests.set(part, new Map())
    if (files.size === 0) {
      await tree.remove(leafPath(leaf))
      leafDigests.get(part)!.set(leaf.slice(2), null)
    } else {
      const text = renderLeaf(leaf, files)
      await tree.write(leafPath(leaf), text)
      leafDigests.get(part)!.set(leaf.slice(2), sha256Hex(text))
    }
  }
  const parts = new Map(Object.entries(previous?.parts ?? {}))
  for (const [part, changes] of leafDigests) {
    const leaves = new Map(Object.entries(previous ? ((await tree.readJson<SnapshotPart>(partPath(part)))?.leaves ?? {}) : {}))
    for (const [name, digest] of changes) {
      if (digest === null) leaves.delete(name)
      else leaves.set(name, digest)
    }
    if (leaves.size === 0) {
      parts.delete(part)
      await tree.remove(partPath(part))
    } else {
      const text = renderPart(part, leaves)
      parts.set(part, sha256Hex(text))
      await tree.write(partPath(part), text)
    }
  }
  await tree.flush()
  await tree.write(
    SNAPSHOT_PATH,
    renderSnapshot({ registry: site.registry.name, commit: ctx.head.oid, now: ctx.now, ttlSeconds: ctx.ttlSeconds, parts: Object.fromEntries(parts), fileCount, key: ctx.key }),
  )
  await tree.flush()
}

/** An incremental build, or the reason it cannot be one. */
async function incrementalBuild(ctx: Context, out: string, since: string): Promise<BuildApiResult | string> {
  const { reader } = ctx
  ctx.progress({ phase: 'reading the changes' })
  const current = currentTree(out)
  if (!current) return `there is no previous output at ${out}`
  const tree = new OutputTree(current, true)
  const state = await tree.readJson<BuildState>(PATHS.state).catch(() => undefined)
  if (!state) return `${out} holds no build state`
  const previousSnapshot = await tree.readJson<Snapshot>(SNAPSHOT_PATH).catch(() => undefined)
  if (!previousSnapshot) return `${out} has no snapshot.json`
  if (state.format !== API_FORMAT) return `the output is of format ${state.format}, this wharf writes format ${API_FORMAT}`
  if (state.base_url !== ctx.baseUrl) return `the output was built for ${state.base_url}, not ${ctx.baseUrl}`
  if (state.commit !== since) return `the output was built from ${state.commit.slice(0, 12)}, not from ${since.slice(0, 12)}`
  if ((state.pages ?? null) !== (ctx.pages?.format ?? null)) {
    return ctx.pages ? (state.pages ? `its pages are of format ${state.pages}, this build writes ${ctx.pages.format}` : 'the output has no pages yet') : 'the output has pages and this build writes none'
  }
  const chain = firstParentChain(reader, ctx.head.oid, since)
  if (!chain) return `${since.slice(0, 12)} is not on the first-parent history of ${ctx.head.oid.slice(0, 12)}`

  const before = readCommitData(reader, since)
  const existedBefore = new Map<string, boolean>()
  const scan = new Scan((id) => {
    if (!existedBefore.has(id)) existedBefore.set(id, packageExistsAt(reader, before.tree, id))
    return !existedBefore.get(id)
  })
  for (const commit of indexChanges(reader, chain, before)) scan.add(commit)
  if (scan.rewrites.length) return `published files were changed or removed since ${since.slice(0, 12)} (${scan.rewrites.slice(0, 3).join(', ')})`
  const blobAt = (tree: string, file: string) => lookup(reader, tree, file)?.oid
  // Every page names the registry; a namespace page has no document left to say it is gone.
  if (ctx.pages && blobAt(before.tree, REGISTRY_PATH) !== blobAt(ctx.head.tree, REGISTRY_PATH)) return `${REGISTRY_PATH} changed since ${since.slice(0, 12)}, and every page shows it`
  const namespaceFileChanged = [...scan.namespaces].filter((ns) => blobAt(before.tree, `${NAMESPACES_DIR}/${ns}.json`) !== blobAt(ctx.head.tree, `${NAMESPACES_DIR}/${ns}.json`))
  if (ctx.pages && namespaceFileChanged.some((ns) => blobAt(ctx.head.tree, `${NAMESPACES_DIR}/${ns}.json`) === undefined)) return `a namespace file was removed since ${since.slice(0, 12)}`
  const net: Change[] = []
  diffTrees(reader, indexTree(reader, before.tree), indexTree(reader, ctx.head.tree), 'index/', net)
  // A package's pages and badges are a set of files that only grows while its reports do; a removed report could shrink it.
  if (ctx.pages && net.some((c) => c.status === 'deleted' && c.path.startsWith(`${REPORTS_DIR}/`))) return `a compatibility report was removed since ${since.slice(0, 12)}`

  const site = siteOf(ctx)
  const packages = new Map<string, PackageModel>()
  for (const id of [...scan.affected].sort()) {
    const files = readPackage(reader, ctx.head.tree, id)
    if (files) packages.set(id, buildPackage(id, files, reader, ctx.repo.dir))
  }
  const entries = feedEntries(scan.events, (id) => packages.get(id), state.seq + 1)
  const ownerInOutput = async (key: string) => (await tree.readJson<{ package: string }>(crateDocPath(key)))?.package
  const claims = await claimCrates(scan.events, (id) => packages.get(id), ownerInOutput)
  const owner = async (key: string) => claims.get(key)?.package ?? (await ownerInOutput(key))
  const published = publishedRecords(scan.events, (id) => packages.get(id))
  const dependents = new Map<string, DependentsDoc>()
  for (const target of new Set(published.flatMap(({ record }) => dependencyTargets(record)))) {
    const doc = await tree.readJson<DependentsDoc>(dependentsPath(target))
    if (doc) dependents.set(target, doc)
  }
  const dependentsChanged = new Set<string>()
  for (const { record, commit } of published) for (const target of foldDependents(dependents, record, commit)) dependentsChanged.add(target)

  // The signed index files as they are at the tip.
  for (const change of net) {
    if (change.status === 'deleted') await tree.remove(change.path)
    else await tree.write(change.path, reader.readAs(change.oid!, 'blob'))
  }
  const newVersions = new Set(scan.events.filter((e) => e.type === 'publish').map((e) => `${e.id}@${e.version}`))
  const shardCommits = new Map<string, CommitData>()
  const searchEntries = new Map<string, SearchEntry>()
  let rendered = 0
  for (const pkg of packages.values()) {
    ctx.progress({ phase: 'changed packages', done: rendered++, total: packages.size })
    for (const v of pkg.versions) {
      if (newVersions.has(`${pkg.id}@${v.version}`)) await placeArtifacts(ctx, tree, v.record)
      const commit = commitOf(scan, `v:${pkg.id}@${v.version}`)
      if (commit) await tree.write(versionPath(pkg.id, v.version), renderVersionDoc(site, pkg, v, commit))
    }
    const commit = scan.touched.get(`p:${pkg.id}`)
    if (!commit) continue
    await tree.write(versionsPath(pkg.id), renderVersionsDoc(pkg, commit.oid))
    await writeCargo(ctx, tree, pkg, owner)
    searchEntries.set(pkg.id, searchEntry(pkg, commit.oid))
    const shard = searchShardOf(pkg.id)
    const chainIndex = (c: CommitData) => chain.indexOf(c)
    const known = shardCommits.get(shard)
    if (!known || chainIndex(commit) > chainIndex(known)) shardCommits.set(shard, commit)
  }
  for (const [key, claim] of claims) await tree.write(crateDocPath(key), renderCrateDoc(site, claim.crate, claim.package, claim.commit.oid, cargoIndexPath(claim.crate)))
  for (const target of dependentsChanged) await tree.write(dependentsPath(target), renderDependentsDoc(dependents.get(target)!))

  const namespaceFiles = new Map<string, NamespaceFile | undefined>()
  const namespaceFile = (ns: string) => {
    if (!namespaceFiles.has(ns)) {
      const oid = blobAt(ctx.head.tree, `${NAMESPACES_DIR}/${ns}.json`)
      namespaceFiles.set(ns, oid ? parseNamespace(readBlobAt(reader, `${NAMESPACES_DIR}/${ns}.json`, oid)) : undefined)
    }
    return namespaceFiles.get(ns)
  }
  if (ctx.pages) {
    // Pages change with the package's own files, its dependents, its nested packages and its namespace's file.
    const render = new Set([...packages.keys(), ...dependentsChanged])
    for (const id of scan.newPackages) {
      const parent = parentOf(id)
      if (parent) render.add(parent)
    }
    for (const ns of namespaceFileChanged) for (const id of packagesOfNamespace(reader, ctx.head.tree, ns)) render.add(id)
    for (const id of [...render].sort()) {
      let pkg = packages.get(id)
      if (!pkg) {
        const files = readPackage(reader, ctx.head.tree, id)
        if (!files) continue
        pkg = buildPackage(id, files, reader, ctx.repo.dir)
      }
      const doc = dependents.get(id) ?? (await tree.readJson<DependentsDoc>(dependentsPath(id)))
      const input = { context: pageContext(site), package: pkg, namespace: namespaceFile(pkg.namespace), dependents: sortedDependents(doc), children: childrenAt(reader, ctx.head.tree, id) }
      await writeSiteFiles(tree, ctx.pages.package(input))
    }
  }

  for (const ns of scan.namespaces) {
    const commit = commitOf(scan, `n:${ns}`)
    const entry = lookup(reader, ctx.head.tree, `${NAMESPACES_DIR}/${ns}.json`)
    if (!entry || isTreeMode(entry.mode)) {
      await tree.remove(namespaceDocPath(ns))
      continue
    }
    const previous = await tree.readJson<{ packages: string[] }>(namespaceDocPath(ns))
    const members = (previous ? [...new Set([...previous.packages, ...[...scan.newPackages].filter((id) => id.startsWith(`${ns}:`))])] : packagesOfNamespace(reader, ctx.head.tree, ns)).sort()
    const file = namespaceFile(ns)!
    await tree.write(namespaceDocPath(ns), renderNamespaceDoc(site, file, members, commit ?? ctx.head.oid, `${NAMESPACES_DIR}/${ns}.json`))
    if (ctx.pages) await writeSiteFiles(tree, ctx.pages.namespace({ context: pageContext(site), namespace: file, packages: members }))
  }
  if (scan.newPackages.size) {
    const previous = (await tree.readJson<{ packages: string[] }>(PATHS.packages))?.packages ?? []
    await tree.write(PATHS.packages, renderPackageList([...new Set([...previous, ...scan.newPackages])], commitOf(scan, 'packages')!))
  }
  if (scan.touched.has('namespaces')) await tree.write(PATHS.namespaces, renderNamespaceList(readNamespaceNames(reader, ctx.head.tree), commitOf(scan, 'namespaces')!))

  if (entries.length) {
    const firstPage = feedPageOf(state.seq + 1)
    const previous = state.seq % FEED_PAGE_SIZE === 0 ? [] : ((await tree.readJson<{ entries: FeedEntry[] }>(feedPagePath(firstPage)))?.entries ?? []).filter((e) => e.seq <= state.seq)
    const all = [...previous, ...entries]
    for (let page = firstPage; page <= feedPageOf(state.seq + entries.length); page++) {
      await tree.write(feedPagePath(page), renderFeedPage(page, all.filter((e) => feedPageOf(e.seq) === page)))
    }
  }

  const searchTop = await tree.readJson<{ shards: { shard: string; packages: number; sha256: string }[] }>(PATHS.searchIndex)
  const shardInfo = new Map((searchTop?.shards ?? []).map((s) => [s.shard, { count: s.packages, sha256: s.sha256 }]))
  for (const [shard, commit] of shardCommits) {
    const previous = (await tree.readJson<{ packages: SearchEntry[] }>(searchShardPath(shard)))?.packages ?? []
    const list = [...previous.filter((e) => !searchEntries.has(e.name)), ...[...searchEntries.values()].filter((e) => searchShardOf(e.name) === shard)]
    const text = renderSearchShard(shard, list, commit.oid)
    await tree.write(searchShardPath(shard), text)
    shardInfo.set(shard, { count: list.length, sha256: sha256Hex(text) })
  }

  const published2 = entries.filter((e) => e.type === 'publish').length
  const counts: Counts = {
    packages: state.counts.packages + scan.newPackages.size,
    versions: state.counts.versions + published2,
    yanked: state.counts.yanked + entries.filter((e) => e.type === 'yank').length,
    namespaces: state.counts.namespaces + scan.namespaceDelta,
    crates: state.counts.crates + claims.size,
  }
  const seq = state.seq + entries.length
  await writeAggregates(ctx, tree, site, counts, seq, shardInfo)
  if (ctx.pages) await writeSitePages(ctx, tree, site, counts, await newestSince(tree, state.seq, entries), readNamespaceNames(reader, ctx.head.tree))

  ctx.progress({ phase: 'signing the snapshot' })
  await writeSnapshot(ctx, tree, site, previousSnapshot)
  await tree.sync()
  await tree.write(PATHS.state, `${JSON.stringify({ format: API_FORMAT, commit: ctx.head.oid, base_url: ctx.baseUrl, seq, counts, pages: ctx.pages?.format } satisfies BuildState, null, 2)}\n`)
  await tree.sync()
  return {
    mode: 'incremental',
    commit: ctx.head.oid,
    tree: tree.root,
    written: tree.changed,
    removed: tree.removed.size,
    packages: packages.size,
    events: entries.length,
    seq,
    warnings: ctx.warnings,
  }
}

/** The newest publish events, newest first: this build's, then those on the feed pages already written, going back. */
async function newestSince(tree: OutputTree, previousSeq: number, added: FeedEntry[]): Promise<FeedEntry[]> {
  const newest = added.filter((e) => e.type === 'publish').reverse().slice(0, NEWEST_COUNT)
  for (let page = previousSeq > 0 ? feedPageOf(previousSeq) : -1; page >= 0 && newest.length < NEWEST_COUNT; page--) {
    const entries = (await tree.readJson<{ entries: FeedEntry[] }>(feedPagePath(page)))?.entries ?? []
    newest.push(...entries.filter((e) => e.seq <= previousSeq && e.type === 'publish').reverse().slice(0, NEWEST_COUNT - newest.length))
  }
  return newest
}

/** Namespace names with a file at a commit (the listing only; no file is read). */
function readNamespaceNames(reader: ObjectReader, rootTree: string): string[] {
  const dir = lookup(reader, rootTree, NAMESPACES_DIR)
  if (!dir || !isTreeMode(dir.mode)) return []
  return parseTree(reader.readAs(dir.oid, 'tree'))
    .map((e) => classifyPath(`${NAMESPACES_DIR}/${e.name}`))
    .flatMap((w) => (w.kind === 'namespace' ? [w.namespace] : []))
}
