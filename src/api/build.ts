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
import { timestamp } from '../core/time.js'
import { sha256Hex } from '../core/hash.js'
import { parsePrivateKey, type SigningKey } from '../core/keys.js'
import { classifyPath, INDEX_DIR, NAMESPACES_DIR, REGISTRY_KEY_PATH, REGISTRY_PATH, REPORTS_DIR } from '../core/layout.js'
import type { NamespaceFile, RegistryFile, VersionRecord } from '../core/types.js'
import { diffTrees, isTreeMode, lookupPath, MAIN, ObjectReader, resolveCommit, withRepoLock, type Change, type CommitData, type Repo } from '../git/index.js'
import { renderState, writeAggregates, type BuildState } from './aggregates.js'
import { cargoIndexPath, crateKey } from './cargo.js'
import {
  API_FORMAT,
  appendFeedPage,
  crateDocPath,
  feedPageOf,
  feedPagePath,
  FEED_PAGE_SIZE,
  namespaceDocPath,
  PACKAGE_LIST_PAGE_SIZE,
  packageListPagePath,
  PATHS,
  primaryArtifact,
  readSearchIndexElements,
  readSearchShardElements,
  renderCrateDoc,
  renderFeedPage,
  renderNamespaceDoc,
  renderNamespaceList,
  renderPackageList,
  renderPackageListPage,
  renderSearchIndexElements,
  renderSearchShardElements,
  renderVersionDoc,
  renderVersionsDoc,
  rootPaths,
  searchEntry,
  searchIndexElement,
  searchShardElement,
  searchShardPath,
  versionPath,
  versionsPath,
  type Counts,
  type FeedEntry,
  type PackageModel,
  type SearchEntry,
  type Site,
} from './documents.js'
import { fullBuild } from './full.js'
import { crateLines, placeArtifacts } from './groups.js'
import { firstParentChain, forEachIndexChange, indexTree, readCommitData } from './history.js'
import { buildPackage, childrenAt, packageExistsAt, packagesOfNamespace, parseNamespace, readBlobAt, readPackage, readRegistryAt } from './model.js'
import { buildsDirOf, currentTree, OutputTree } from './output.js'
import { closedPage, dependencyTargets, dependentsPath, foldDependents, NEWEST_COUNT, pageContext, renderDependentsDoc, siteFiles, sortedDependents, type DependentsDoc, type PageRenderer, type SiteFile } from './pages.js'
import { Scan, type RawEvent } from './scan.js'
import { mergeElements, type Element } from './elements.js'
import { locateShard, planShards, SEARCH_SHARD_MAX, shardItem, type ShardItem } from './search.js'
import {
  isSnapshotFile,
  LEAF_TARGET,
  leafDigitsFor,
  leafDigitsOf,
  leafOf,
  leafPath,
  nodeLengths,
  nodePath,
  partPath,
  renderLeaf,
  renderPart,
  renderSnapshot,
  renderSubtree,
  replaceDigests,
  SNAPSHOT_PATH,
  type Snapshot,
  type SnapshotLeaf,
  type SnapshotPart,
} from './snapshot.js'

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
  /**
   * The index repo's web URL (`https://github.com/OWNER/REPO`) when `wharf release`
   * mirrors artifacts to its releases: download URLs and Cargo's `dl` then name
   * release assets. Default: the registry's own store under `baseUrl`.
   */
  releases?: string
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
  /** Worker threads for a full build (default: one per core when the index is large enough to pay for them; 0: none). */
  threads?: number
  /** How documents are cut as the registry grows (tests make them small to reach what a large registry does). */
  sizes?: Partial<Sizes>
  /** Writes the static site beside the API (src/site's renderer); without it only the API is built. */
  pages?: PageRenderer
  /** Told the phase of the build and, while packages are rendered, how many are done: for a progress line. */
  onProgress?: (progress: { phase: string; done?: number; total?: number }) => void
}

export interface Sizes {
  /** Packages a search shard holds before it is split (SEARCH_SHARD_MAX). */
  searchShard: number
  /** Files a snapshot leaf holds on average before the tree grows a level (LEAF_TARGET). */
  snapshotLeaf: number
  /** Package ids per page of the package list (PACKAGE_LIST_PAGE_SIZE). */
  packageListPage: number
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

/** What a build works with, full or incremental. */
export interface BuildContext {
  repo: Repo
  reader: ObjectReader
  baseUrl: string
  head: CommitData
  site: Site
  key: SigningKey
  now: Date
  ttlSeconds: number
  sizes: Sizes
  warnings: string[]
  pages: PageRenderer | undefined
  progress: NonNullable<BuildApiOptions['onProgress']>
}

function normalizeBaseUrl(url: string, option = '--base-url'): string {
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new WharfError('USAGE', `${option} "${url}" is not an http(s) URL`, { hint: 'pass the public URL the output is served at, e.g. https://example.github.io/registry' })
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
  const releases = options.releases === undefined ? undefined : normalizeBaseUrl(options.releases, '--releases')
  await fs.promises.mkdir(buildsDirOf(out), { recursive: true })
  return withRepoLock(buildsDirOf(out), async () => {
    const headOid = await resolveCommit(options.repo, options.ref ?? MAIN)
    const reader = new ObjectReader(options.repo.dir)
    try {
      const head = readCommitData(reader, headOid)
      const registry = readRegistryAt(reader, head.tree)
      const ctx: BuildContext = {
        repo: options.repo,
        reader,
        baseUrl,
        head,
        site: { baseUrl, ...(releases ? { releases } : {}), head: head.oid, registry },
        key: await loadKey(options.repo, registry, options.registryKey),
        now: options.now ?? new Date(),
        ttlSeconds: options.ttlSeconds ?? DEFAULT_SNAPSHOT_TTL_SECONDS,
        sizes: { searchShard: SEARCH_SHARD_MAX, snapshotLeaf: LEAF_TARGET, packageListPage: PACKAGE_LIST_PAGE_SIZE, ...options.sizes },
        warnings: [],
        pages: options.pages,
        progress: options.onProgress ?? (() => {}),
      }
      let reason: string | undefined
      if (options.since !== undefined) {
        // A full commit id is taken as is: resolving it would search the object store for a prefix.
        const since = /^[0-9a-f]{40}$/.test(options.since) ? options.since : await resolveCommit(options.repo, options.since)
        // A feed's cursor is a commit on main's first-parent history: if that history lost it, every peer's cursor would be re-pointed.
        if (!firstParentChain(reader, headOid, since)) {
          throw new WharfError('HISTORY_REWRITTEN', `--since ${since.slice(0, 12)} is not on the first-parent history of ${headOid.slice(0, 12)}: the history was rewritten, or the output was built from another index`, {
            hint: 'find out why before publishing anything (wharf audit --expect REV); to start a new output on purpose, build without --since into an empty directory',
          })
        }
        const attempt = await incrementalBuild(ctx, out, since)
        if (typeof attempt !== 'string') return attempt
        reason = attempt
      }
      reader.close()
      const bulk = await ObjectReader.openBulk(options.repo.dir)
      try {
        return await fullBuild({ ...ctx, reader: bulk }, out, reason, { threads: options.threads })
      } finally {
        bulk.close()
      }
    } finally {
      reader.close()
    }
  })
}

/** Feed entries for raw events, numbered from `first`; events whose file is gone at the tip are dropped (a full build does the same). */
function feedEntries(events: RawEvent[], chain: CommitData[], packages: (id: string) => PackageModel | undefined, first: number): FeedEntry[] {
  const entries: FeedEntry[] = []
  for (const event of events) {
    const entry = packages(event.id)?.versions.find((v) => v.version === event.version)
    if (!entry) continue
    const file = event.type === 'publish' ? entry.file : entry.yank?.file
    if (!file || file.path !== event.path) continue
    const commit = chain[event.commit]!
    entries.push({
      commit: commit.oid,
      file: file.path,
      file_sha256: sha256Hex(file.bytes),
      name: event.id,
      seq: first + entries.length,
      sha256: primaryArtifact(entry.record).sha256,
      time: timestamp(new Date(commit.time * 1000)),
      type: event.type,
      version: event.version,
    })
  }
  return entries
}

interface Claim {
  crate: string
  package: string
  commit: string
}

/** The crate a publish event claims, when it is the first to name it (the first claimant keeps a crate name, as on crates.io). */
async function claimCrates(events: RawEvent[], chain: CommitData[], packages: (id: string) => PackageModel | undefined, owner: (key: string) => Promise<string | undefined>): Promise<Map<string, Claim>> {
  const claims = new Map<string, Claim>()
  for (const event of events) {
    if (event.type !== 'publish') continue
    const record = packages(event.id)?.versions.find((v) => v.version === event.version)?.record
    if (!record?.crate) continue
    const key = crateKey(record.crate.name)
    if (claims.has(key) || (await owner(key)) !== undefined) continue
    claims.set(key, { crate: record.crate.name, package: event.id, commit: chain[event.commit]!.oid })
  }
  return claims
}

/** The cargo index file of a package's crate, when the package owns the crate name. */
async function writeCargo(ctx: BuildContext, tree: OutputTree, pkg: PackageModel, owner: (key: string) => Promise<string | undefined>): Promise<void> {
  for (const crate of crateLines(pkg)) {
    const holder = await owner(crate.key)
    if (holder !== pkg.id) ctx.warnings.push(`${pkg.id}: crate name ${crate.name} belongs to ${holder ?? 'no package'}; its versions are left out of the Cargo index`)
    else await tree.write(cargoIndexPath(crate.name), crate.lines)
  }
}

/** Writes what the page renderer returned, refusing any path that is not a plain relative one. */
async function writeSiteFiles(tree: OutputTree, files: SiteFile[]): Promise<void> {
  for (const [file, bytes] of siteFiles(files)) await tree.write(file, bytes)
}

/** `ns:a/b` is nested under `ns:a`; a top-level name has no parent. */
const parentOf = (id: string): string | undefined => (id.includes('/') ? id.slice(0, id.lastIndexOf('/')) : undefined)

/** The records that publish events added and the tip still holds, with the commit that added each (feed order). */
function publishedRecords(events: RawEvent[], chain: CommitData[], packages: (id: string) => PackageModel | undefined): { record: VersionRecord; commit: string }[] {
  const out: { record: VersionRecord; commit: string }[] = []
  for (const event of events) {
    if (event.type !== 'publish') continue
    const entry = packages(event.id)?.versions.find((v) => v.version === event.version)
    if (entry && entry.file.path === event.path) out.push({ record: entry.record, commit: chain[event.commit]!.oid })
  }
  return out
}

/** Every node file of the snapshot tree under `prefix`, leaves with their files, as the output holds it now. */
async function readSubtree(tree: OutputTree, prefix: string, digits: number, nodes: string[], files: Map<string, string>): Promise<void> {
  nodes.push(nodePath(prefix))
  if (prefix.length >= digits) {
    for (const [file, sha] of Object.entries((await tree.readJson<SnapshotLeaf>(nodePath(prefix)))?.files ?? {})) files.set(file, sha)
    return
  }
  for (const child of Object.keys((await tree.readJson<SnapshotPart>(nodePath(prefix)))?.leaves ?? {})) await readSubtree(tree, `${prefix}${child}`, digits, nodes, files)
}

/**
 * Writes the snapshot after an incremental build: the leaves of the files
 * it wrote or removed (a leaf whose entries did not change is left alone),
 * the parts above them up to the top, then the signed top. When the
 * registry has grown (or shrunk) past the size for the tree's depth, the
 * whole tree is laid out again at the depth a full build would give it.
 */
async function writeSnapshot(ctx: BuildContext, tree: OutputTree, previous: Snapshot, rootFiles: string[]): Promise<void> {
  await tree.flush()
  // snapshot.json names these itself; a file that leaves them (a feed page another has followed) goes to its leaf, and the other way round.
  const root = new Set(rootFiles)
  const previousRoot = previous.files ?? {}
  const listed = (file: string) => !isSnapshotFile(file) && file !== PATHS.state && !root.has(file)
  const digits = leafDigitsOf(previous)
  const byLeaf = new Map<string, { set: [string, string][]; removed: string[] }>()
  const slot = (leaf: string) => {
    let entry = byLeaf.get(leaf)
    if (!entry) byLeaf.set(leaf, (entry = { set: [], removed: [] }))
    return entry
  }
  for (const [file, sha] of tree.written) if (listed(file)) slot(leafOf(file, digits)).set.push([file, sha])
  for (const file of tree.removed) if (listed(file)) slot(leafOf(file, digits)).removed.push(file)
  for (const [file, sha] of Object.entries(previousRoot)) if (listed(file) && !tree.written.has(file) && !tree.removed.has(file)) slot(leafOf(file, digits)).set.push([file, sha])
  for (const file of root) if (!Object.hasOwn(previousRoot, file)) slot(leafOf(file, digits)).removed.push(file)
  const named: Record<string, string> = {}
  for (const file of root) {
    const sha = tree.written.get(file) ?? (Object.hasOwn(previousRoot, file) ? previousRoot[file] : undefined)
    if (sha === undefined) throw new Error(`the incremental build lost track of ${file}`)
    named[file] = sha
  }

  // Counted here: the files the leaves list; snapshot.json's file_count adds its own.
  let fileCount = previous.file_count - Object.keys(previousRoot).length
  const leaves = new Map<string, Map<string, string>>()
  const olds = await Promise.all([...byLeaf.keys()].map(async (leaf) => (await tree.readJson<SnapshotLeaf>(leafPath(leaf)))?.files ?? {}))
  for (const [i, [leaf, change]] of [...byLeaf].entries()) {
    const old = olds[i]!
    const files = new Map(Object.entries(old))
    for (const [file, sha] of change.set) files.set(file, sha)
    for (const file of change.removed) files.delete(file)
    if (files.size === Object.keys(old).length && [...files].every(([f, sha]) => old[f] === sha)) continue
    fileCount += files.size - Object.keys(old).length
    leaves.set(leaf, files)
  }

  let parts: Map<string, string>
  const depth = leafDigitsFor(fileCount + root.size, ctx.sizes.snapshotLeaf)
  if (depth !== digits) {
    // Lay the tree out again: every file it lists, with this build's changes, at the new depth.
    const nodes: string[] = []
    const files = new Map<string, string>()
    for (const part of Object.keys(previous.parts)) await readSubtree(tree, part, digits, nodes, files)
    for (const [leaf, changed] of leaves) {
      for (const file of Object.keys((await tree.readJson<SnapshotLeaf>(leafPath(leaf)))?.files ?? {})) files.delete(file)
      for (const [file, sha] of changed) files.set(file, sha)
    }
    const groups = new Map<string, string[]>()
    for (const [file, sha] of files) {
      const hash = sha256Hex(file)
      const lines = groups.get(hash.slice(0, 3))
      const line = `${hash.slice(0, 8)}\t${file}\t${sha}\n`
      if (lines) lines.push(line)
      else groups.set(hash.slice(0, 3), [line])
    }
    const written = new Map<string, string>()
    const byPart = new Map<string, Map<string, string>>()
    const write = (file: string, text: string) => {
      written.set(file, text)
      return sha256Hex(text)
    }
    for (const [prefix, lines] of groups) {
      for (const [name, digest] of renderSubtree(prefix, lines.join(''), depth, write).digests) {
        if (!byPart.has(name.slice(0, 2))) byPart.set(name.slice(0, 2), new Map())
        byPart.get(name.slice(0, 2))!.set(name.slice(2), digest)
      }
    }
    parts = new Map([...byPart].map(([part, children]) => [part, write(partPath(part), renderPart(part, children))]))
    for (const [file, text] of written) await tree.write(file, text)
    await tree.flush()
    for (const node of nodes) if (!written.has(node)) await tree.remove(node)
    fileCount = files.size
  } else {
    // The changed leaves, then each level of parts above them: each of them lists something new, so none is read to compare.
    let changed = new Map<string, string | null>()
    for (const [leaf, files] of leaves) {
      if (files.size === 0) {
        await tree.remove(leafPath(leaf))
        changed.set(leaf, null)
      } else {
        changed.set(leaf, await tree.write(leafPath(leaf), renderLeaf(leaf, files), true))
      }
    }
    const lengths = nodeLengths(digits)
    for (let i = lengths.length - 2; i >= 0; i--) {
      const level = lengths[i]!
      const above = new Map<string, Map<string, string | null>>()
      for (const [prefix, digest] of changed) {
        const parent = prefix.slice(0, level)
        if (!above.has(parent)) above.set(parent, new Map())
        above.get(parent)!.set(prefix.slice(level), digest)
      }
      changed = new Map()
      const olds = await Promise.all([...above.keys()].map((prefix) => tree.read(partPath(prefix))))
      for (const [i, [prefix, children]] of [...above].entries()) {
        const old = olds[i]
        // A node that keeps its children (up to 256 of them): the new digests put in place of the old, rather than the node read and laid out again.
        const spliced = old && replaceDigests(old, children)
        if (spliced) {
          changed.set(prefix, await tree.write(partPath(prefix), spliced, true))
          continue
        }
        const entries = new Map(Object.entries((old && tree.parseJson<SnapshotPart>(partPath(prefix), old).leaves) ?? {}))
        for (const [name, digest] of children) {
          if (digest === null) entries.delete(name)
          else entries.set(name, digest)
        }
        if (entries.size === 0) {
          await tree.remove(partPath(prefix))
          changed.set(prefix, null)
        } else {
          changed.set(prefix, await tree.write(partPath(prefix), renderPart(prefix, entries), true))
        }
      }
    }
    parts = new Map(Object.entries(previous.parts))
    for (const [part, digest] of changed) {
      if (digest === null) parts.delete(part)
      else parts.set(part, digest)
    }
  }
  await tree.flush()
  await tree.write(
    SNAPSHOT_PATH,
    renderSnapshot({ registry: ctx.site.registry.name, commit: ctx.head.oid, now: ctx.now, ttlSeconds: ctx.ttlSeconds, parts: Object.fromEntries(parts), fileCount: fileCount + root.size, leafDigits: depth, files: named, key: ctx.key }),
  )
  await tree.flush()
}

/** An incremental build, or the reason it cannot be one. */
async function incrementalBuild(ctx: BuildContext, out: string, since: string): Promise<BuildApiResult | string> {
  const { reader, site } = ctx
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
  if (state.releases !== ctx.site.releases) return `the output's downloads pointed at ${state.releases ?? 'the registry store'}, not ${ctx.site.releases ?? 'the registry store'}`
  if (state.commit !== since) return `the output was built from ${state.commit.slice(0, 12)}, not from ${since.slice(0, 12)}`
  const packageList = await tree.readJson<{ total: number; page_size: number }>(PATHS.packages).catch(() => undefined)
  if (packageList?.page_size !== ctx.sizes.packageListPage || packageList.total !== state.counts.packages) return `its package list is not paged by ${ctx.sizes.packageListPage} over ${state.counts.packages} packages`
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
  forEachIndexChange(
    reader,
    before.tree,
    chain.map((c) => c.tree),
    (i, changes) => scan.add(i, changes),
  )
  if (scan.rewrites.length) return `published files were changed or removed since ${since.slice(0, 12)} (${scan.rewrites.slice(0, 3).join(', ')})`
  const blobAt = (tree: string, file: string) => lookupPath(reader, tree, file)?.oid
  // Every page names the registry; a namespace page has no document left to say it is gone.
  if (ctx.pages && blobAt(before.tree, REGISTRY_PATH) !== blobAt(ctx.head.tree, REGISTRY_PATH)) return `${REGISTRY_PATH} changed since ${since.slice(0, 12)}, and every page shows it`
  const namespaceFileChanged = [...scan.namespaces].filter((ns) => blobAt(before.tree, `${NAMESPACES_DIR}/${ns}.json`) !== blobAt(ctx.head.tree, `${NAMESPACES_DIR}/${ns}.json`))
  if (ctx.pages && namespaceFileChanged.some((ns) => blobAt(ctx.head.tree, `${NAMESPACES_DIR}/${ns}.json`) === undefined)) return `a namespace file was removed since ${since.slice(0, 12)}`
  const net: Change[] = []
  diffTrees(reader, indexTree(reader, before.tree), indexTree(reader, ctx.head.tree), `${INDEX_DIR}/`, net)
  // A package's pages and badges are a set of files that only grows while its reports do; a removed report could shrink it.
  if (ctx.pages && net.some((c) => c.status === 'deleted' && c.path.startsWith(`${REPORTS_DIR}/`))) return `a compatibility report was removed since ${since.slice(0, 12)}`
  const commitOf = (key: string): string | undefined => {
    const ordinal = key.startsWith('p:') || key.startsWith('v:') ? scan.packageCommit(key.slice(2, key.startsWith('v:') ? key.lastIndexOf('@') : undefined), key) : scan.touched.get(key)
    return ordinal === undefined ? undefined : chain[ordinal]!.oid
  }

  const packages = new Map<string, PackageModel>()
  for (const id of [...scan.affected].sort()) {
    const files = readPackage(reader, ctx.head.tree, id)
    if (files) packages.set(id, buildPackage(id, files, reader, ctx.repo.dir))
  }
  const entries = feedEntries(scan.events, chain, (id) => packages.get(id), state.seq + 1)
  const ownerInOutput = async (key: string) => (await tree.readJson<{ package: string }>(crateDocPath(key)))?.package
  const claims = await claimCrates(scan.events, chain, (id) => packages.get(id), ownerInOutput)
  const owner = async (key: string) => claims.get(key)?.package ?? (await ownerInOutput(key))
  const published = publishedRecords(scan.events, chain, (id) => packages.get(id))
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
  const searchEntries = new Map<string, SearchEntry>()
  let rendered = 0
  for (const pkg of packages.values()) {
    ctx.progress({ phase: 'changed packages', done: rendered++, total: packages.size })
    for (const v of pkg.versions) {
      if (newVersions.has(`${pkg.id}@${v.version}`)) await Promise.all(placeArtifacts(tree, ctx.repo.dir, v.record))
      const commit = commitOf(`v:${pkg.id}@${v.version}`)
      if (commit) await tree.write(versionPath(pkg.id, v.version), renderVersionDoc(site, pkg, v, commit))
    }
    const ordinal = scan.packageCommit(pkg.id, `p:${pkg.id}`)
    if (ordinal === undefined) continue
    const commit = chain[ordinal]!.oid
    await tree.write(versionsPath(pkg.id), renderVersionsDoc(pkg, commit))
    await writeCargo(ctx, tree, pkg, owner)
    searchEntries.set(pkg.id, searchEntry(pkg, commit))
  }
  for (const [key, claim] of claims) await tree.write(crateDocPath(key), renderCrateDoc(site, claim.crate, claim.package, claim.commit, cargoIndexPath(claim.crate)))
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
      const { files, open } = ctx.pages.package({ context: pageContext(site), package: pkg, namespace: namespaceFile(pkg.namespace), children: childrenAt(reader, ctx.head.tree, id) })
      await writeSiteFiles(tree, [...files, closedPage(ctx.pages, open, sortedDependents(doc))])
    }
  }

  for (const ns of scan.namespaces) {
    const commit = commitOf(`n:${ns}`)
    const entry = lookupPath(reader, ctx.head.tree, `${NAMESPACES_DIR}/${ns}.json`)
    if (!entry || isTreeMode(entry.mode)) {
      await tree.remove(namespaceDocPath(ns))
      continue
    }
    const previous = await tree.readJson<{ packages: string[] }>(namespaceDocPath(ns))
    const members = (previous ? [...new Set([...previous.packages, ...[...scan.newPackages].filter((id) => id.startsWith(`${ns}:`))])] : packagesOfNamespace(reader, ctx.head.tree, ns)).sort()
    const file = namespaceFile(ns)!
    // It names a commit of this build, so it differs from the document before: not read again to compare.
    await tree.write(namespaceDocPath(ns), renderNamespaceDoc(site, file, members, commit ?? ctx.head.oid, `${NAMESPACES_DIR}/${ns}.json`), true)
    if (ctx.pages) await writeSiteFiles(tree, ctx.pages.namespace({ context: pageContext(site), namespace: file, packages: members }))
  }
  if (scan.newPackages.size) {
    // New packages go on the end of the list: the last page (when it has room) and the pages after it.
    const size = ctx.sizes.packageListPage
    const total = state.counts.packages
    const born = (id: string) => scan.born.get(id)!
    const fresh = [...scan.newPackages].sort((a, b) => born(a) - born(b) || (a < b ? -1 : 1))
    const firstPage = Math.floor(total / size)
    const kept = total % size === 0 ? [] : ((await tree.readJson<{ packages: string[] }>(packageListPagePath(firstPage)))?.packages ?? [])
    const ids = [...kept, ...fresh]
    for (let at = 0; at < ids.length; at += size) {
      const page = ids.slice(at, at + size)
      await tree.write(packageListPagePath(firstPage + at / size), renderPackageListPage(firstPage + at / size, size, page, chain[born(page[page.length - 1]!)]!.oid))
    }
    await tree.write(PATHS.packages, renderPackageList(site, total + fresh.length, size, commitOf('packages')!))
  }
  if (scan.touched.has('namespaces')) await tree.write(PATHS.namespaces, renderNamespaceList(readNamespaceNames(reader, ctx.head.tree), commitOf('namespaces')!))

  // Each page the feed's new entries fall in gains them: none is read to compare. The page begun before gains them at its end.
  if (entries.length) {
    for (let page = feedPageOf(state.seq + 1); page <= feedPageOf(state.seq + entries.length); page++) {
      const added = entries.filter((e) => feedPageOf(e.seq) === page)
      const begun = page === feedPageOf(state.seq) && state.seq % FEED_PAGE_SIZE !== 0
      const bytes = begun ? await tree.read(feedPagePath(page)) : undefined
      const grown = bytes && appendFeedPage(page, bytes, state.seq, added)
      // A page whose end is not the last entry the state counts (a build cut short) is parsed and rendered whole.
      const previous = bytes && !grown ? tree.parseJson<{ entries?: FeedEntry[] }>(feedPagePath(page), bytes).entries?.filter((e) => e.seq <= state.seq) ?? [] : []
      await tree.write(feedPagePath(page), grown ?? renderFeedPage(page, [...previous, ...added]), true)
    }
  }

  // Search shards: each package's, split in sixteen where one outgrows its size. What this build does not change of
  // a shard, or of the top that lists the shards, is kept as the bytes it is (elements.ts), not parsed and rendered.
  const top = await searchIndexShards(tree, site)
  const listed = new Set(top.map((e) => e.id))
  const topSet: Element[] = []
  const topRemoved = new Set<string>()
  const byShard = new Map<string, ShardItem[]>()
  for (const id of searchEntries.keys()) {
    const item = shardItem(id, scan.newPackages.has(id) ? scan.born.get(id)! : -1, scan.packageCommit(id, `p:${id}`)!)
    const shard = locateShard(item.hash, listed)
    const list = byShard.get(shard)
    if (list) list.push(item)
    else byShard.set(shard, [item])
  }
  for (const [shard, touched] of byShard) {
    const file = searchShardPath(shard)
    const previous = listed.has(shard) ? await searchShardEntries(tree, file) : []
    const elements = mergeElements(previous, touched.map((item) => searchShardElement(searchEntries.get(item.id)!)))
    const plan = replanShard(shard, elements, touched, ctx.sizes.searchShard)
    if (!plan.has(shard) && listed.has(shard)) {
      await tree.remove(file)
      topRemoved.add(shard)
    }
    // Each names a commit of this build (its packages' latest), so none is read again to compare.
    for (const [name, { elements: members, commit }] of plan) {
      const sha256 = await tree.write(searchShardPath(name), renderSearchShardElements(name, members, chain[commit]!.oid), true)
      topSet.push(searchIndexElement(site, name, members.length, sha256))
    }
  }

  const publishedNow = entries.filter((e) => e.type === 'publish').length
  const counts: Counts = {
    packages: state.counts.packages + scan.newPackages.size,
    versions: state.counts.versions + publishedNow,
    yanked: state.counts.yanked + entries.filter((e) => e.type === 'yank').length,
    namespaces: state.counts.namespaces + scan.namespaceDelta,
    crates: state.counts.crates + claims.size,
  }
  const seq = state.seq + entries.length
  await writeAggregates(ctx, tree, site, counts, seq, renderSearchIndexElements(site, mergeElements(top, topSet, topRemoved)))
  const rootFiles = rootPaths(seq, counts.packages, ctx.sizes.packageListPage)
  if (ctx.pages) {
    const input = { context: pageContext(site), head: site.head, counts, newest: await newestSince(tree, state.seq, entries), namespaces: readNamespaceNames(reader, ctx.head.tree).sort() }
    const pages = ctx.pages.aggregates(input)
    await writeSiteFiles(tree, pages)
    rootFiles.push(...pages.map((page) => page.path))
  }

  ctx.progress({ phase: 'signing the snapshot' })
  await writeSnapshot(ctx, tree, previousSnapshot, rootFiles)
  await tree.sync()
  await tree.write(PATHS.state, renderState({ format: API_FORMAT, commit: ctx.head.oid, base_url: ctx.baseUrl, releases: ctx.site.releases, seq, counts, pages: ctx.pages?.format }))
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
  const dir = lookupPath(reader, rootTree, NAMESPACES_DIR)
  if (!dir || !isTreeMode(dir.mode)) return []
  return reader.readTree(dir.oid)
    .map((e) => classifyPath(`${NAMESPACES_DIR}/${e.name}`))
    .flatMap((w) => (w.kind === 'namespace' ? [w.namespace] : []))
}

/**
 * Where a search shard's packages go after a build touched some of them
 * (`elements` holds them all, in order): the shard itself while it keeps
 * its size, else the shards its region splits into; each with its elements
 * and the position of its commit.
 */
function replanShard(shard: string, elements: Element[], touched: ShardItem[], max: number): Map<string, { elements: Element[]; commit: number }> {
  if (elements.length <= max) return new Map([[shard, { elements, commit: touched.reduce((c, i) => Math.max(c, i.commit), -1) }]])
  const ids = new Set(touched.map((i) => i.id))
  const items = [...elements.filter((e) => !ids.has(e.id)).map((e) => shardItem(e.id, -1, -1)), ...touched]
  const plan = new Map<string, { elements: Element[]; commit: number }>()
  for (const [name, { items: members, commit }] of planShards(shard, items, -1, max)) {
    const names = new Set(members.map((m) => m.id))
    plan.set(name, { elements: elements.filter((e) => names.has(e.id)), commit })
  }
  return plan
}

/** The shards the search index lists, as elements: read as the bytes they are, or parsed when laid out otherwise. */
async function searchIndexShards(tree: OutputTree, site: Site): Promise<Element[]> {
  const bytes = await tree.read(PATHS.searchIndex)
  if (bytes === undefined) return []
  const elements = readSearchIndexElements(bytes)
  if (elements) return elements
  const shards = tree.parseJson<{ shards?: { shard: string; packages: number; sha256: string }[] }>(PATHS.searchIndex, bytes).shards ?? []
  return mergeElements([], shards.map((s) => searchIndexElement(site, s.shard, s.packages, s.sha256)))
}

/** The packages of a search shard, as elements: read as the bytes they are, or parsed when laid out otherwise. */
async function searchShardEntries(tree: OutputTree, file: string): Promise<Element[]> {
  const bytes = await tree.read(file)
  if (bytes === undefined) return []
  const elements = readSearchShardElements(bytes)
  if (elements) return elements
  return mergeElements([], (tree.parseJson<{ packages?: SearchEntry[] }>(file, bytes).packages ?? []).map(searchShardElement))
}
