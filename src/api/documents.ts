/**
 * Every document of the static API, as a pure function of what the index
 * holds and the commit that last changed it. Full and incremental builds call
 * the same functions with the same inputs, which is why their bytes agree.
 */
import semver from 'semver'
import { stableJson } from '../core/canonical.js'
import { sha256Hex } from '../core/hash.js'
import type { Artifact, FeedEntry, NamespaceFile, RegistryFile, VersionRecord, YankNotice } from '../core/types.js'
import { releaseAssetUrl } from '../core/release-assets.js'
import { unixSeconds } from '../core/time.js'
import { isLocalUrl, LOCAL_URL_PREFIX } from '../store/index.js'
import { CARGO_DIR } from './cargo.js'
import { elementText, readElements, renderWithElements, type Element } from './elements.js'
import { SNAPSHOT_PATH } from './snapshot.js'
import type { ComponentInterfaces } from './wit.js'

/** Bumped when the layout or a document changes shape: an incremental build over an older format rebuilds in full. */
export const API_FORMAT = 6

export const API_ROOT = 'api/v1'
export const PATHS = {
  health: 'health',
  config: 'config.json',
  wellKnown: '.well-known/wasm-pkg/registry.json',
  stats: `${API_ROOT}/stats`,
  packages: `${API_ROOT}/packages.json`,
  namespaces: `${API_ROOT}/namespaces.json`,
  feedHead: `${API_ROOT}/feed/head.json`,
  searchIndex: `${API_ROOT}/search-index/index.json`,
  cargoConfig: `${CARGO_DIR}/config.json`,
  state: '.wharf/build.json',
} as const

export const versionsPath = (id: string) => `${API_ROOT}/packages/${id}/versions`
export const versionPath = (id: string, version: string) => `${API_ROOT}/packages/${id}/${version}`
export const namespaceDocPath = (ns: string) => `${API_ROOT}/namespaces/${ns}`
export const crateDocPath = (key: string) => `${API_ROOT}/crates/${key}`
export const feedPagePath = (page: number) => `${API_ROOT}/feed/${page}.json`
export const searchShardPath = (shard: string) => `${API_ROOT}/search-index/${shard}.json`
export const packageListPagePath = (page: number) => `${API_ROOT}/package-list/${page}.json`
export const artifactPath = (sha256: string) => `artifacts/sha256/${sha256}`

/** Events per change-feed page: a full page never changes again, so caches keep it forever. */
export const FEED_PAGE_SIZE = 1000
/** Package ids per page of the package list: a new package rewrites the last page and the list's head, at any registry size. */
export const PACKAGE_LIST_PAGE_SIZE = 1000

export interface Blob {
  /** Path in the index repo, which is also its path in the output. */
  path: string
  oid: string
  bytes: Buffer
}

export interface VersionEntry {
  version: string
  record: VersionRecord
  file: Blob
  yank?: { notice: YankNotice; file: Blob }
  reports: Blob[]
  /** Names the primary artifact imports and exports, when it is a stored component. */
  wit?: ComponentInterfaces
}

export interface PackageModel {
  id: string
  namespace: string
  /** Versions in SemVer order. */
  versions: VersionEntry[]
}

export interface Site {
  baseUrl: string
  /** The index repo's web URL when its releases hold the artifacts (`wharf release`): download URLs name release assets. */
  releases?: string
  head: string
  registry: RegistryFile
}

const url = (site: Site, path: string) => `${site.baseUrl}/${path}`

/** The artifact the Run API describes: the wasm component when there is one, the .crate for a crate. */
export function primaryArtifact(record: VersionRecord): Artifact {
  const artifacts = record.artifacts
  if (record.kind === 'crate') return artifacts.find((a) => a.name.endsWith('.crate')) ?? artifacts[0]!
  return artifacts.find((a) => a.target === 'wasm32-wasip2') ?? artifacts.find((a) => a.name.endsWith('.wasm')) ?? artifacts[0]!
}

export function downloadUrl(site: Site, record: VersionRecord, artifact: Artifact): string {
  if (site.releases) return releaseAssetUrl(site.releases, record, artifact)
  return isLocalUrl(artifact.url) ? url(site, artifactPath(artifact.url.slice(LOCAL_URL_PREFIX.length))) : artifact.url
}

/** The highest version a resolver should pick: not yanked, a release when there is one. */
export function latestVersion(pkg: PackageModel): string | null {
  // The versions are in SemVer order: the last live release, else the last live prerelease, parsing only from the end.
  let prerelease: string | null = null
  for (let i = pkg.versions.length - 1; i >= 0; i--) {
    const v = pkg.versions[i]!
    if (v.yank) continue
    if (semver.prerelease(v.version) === null) return v.version
    prerelease ??= v.version
  }
  return prerelease
}

interface MatrixReport {
  schema: 'wharf:report/v1'
  targets?: { target?: string; status?: string }[]
  verdicts?: { dual_compilation?: { value?: boolean }; speed_ratio?: { value?: number | null }; gc_readiness?: { level?: string } }
  score?: { total?: number }
}

/** The verdicts of a `wharf test` report (schemas/report.schema.json), or the scalar fields of any other JSON report. */
function summarize(parsed: unknown): Record<string, unknown> | undefined {
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  const report = parsed as MatrixReport
  if (report.schema === 'wharf:report/v1') {
    const summary = {
      score: report.score?.total,
      dual_compilation: report.verdicts?.dual_compilation?.value,
      speed_ratio: report.verdicts?.speed_ratio?.value,
      gc_readiness: report.verdicts?.gc_readiness?.level,
      targets: report.targets?.map((t) => ({ target: t.target, status: t.status })),
    }
    return Object.fromEntries(Object.entries(summary).filter(([, v]) => v !== undefined))
  }
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)).slice(0, 32))
}

/** A short summary of the compatibility reports of a version: where they are, and the verdicts of its main report. */
function reportSummary(site: Site, reports: Blob[]): object | undefined {
  if (reports.length === 0) return undefined
  const files = reports.map((r) => ({ path: r.path, url: url(site, r.path), size: r.bytes.length, sha256: sha256Hex(r.bytes) }))
  const parsed = reports
    .filter((r) => r.path.endsWith('.json'))
    .map((r) => {
      try {
        return { path: r.path, json: JSON.parse(r.bytes.toString('utf8')) as unknown }
      } catch {
        // A report that is not JSON is still listed; it has no summary.
        return undefined
      }
    })
    .filter((r) => r !== undefined)
  const main = parsed.find((r) => (r.json as { schema?: unknown })?.schema === 'wharf:report/v1') ?? parsed.find((r) => /\/(summary|report)\.json$/.test(r.path)) ?? parsed[0]
  const summary = main ? summarize(main.json) : undefined
  return { files, ...(summary && Object.keys(summary).length ? { summary } : {}) }
}

/**
 * The fields the Run 2.0 client reads for a version (DESIGN §6), given where
 * its primary artifact is served. The server's computed answers use it too.
 */
export function runVersionFields(record: VersionRecord, downloadUrl: string) {
  const artifact = primaryArtifact(record)
  return {
    name: record.name,
    version: record.version,
    description: record.description,
    ...(record.license ? { license: record.license } : {}),
    size: artifact.size,
    sha256: artifact.sha256,
    download_url: downloadUrl,
    ...(record.wit_url ? { wit_url: record.wit_url } : {}),
    dependencies: record.dependencies.map((d) => ({ name: d.name, optional: d.optional, version: d.req })),
    targets: record.targets,
    ...(record.repository ? { repository: record.repository } : {}),
    published_at: unixSeconds(record.published_at),
    kind: record.kind,
  }
}

const MARKUP = /[<>&]/g
const MARKUP_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' }

/**
 * JSON text with `<`, `>` and `&` written as `\u` escapes: the same value
 * to any JSON reader, and no markup to a browser. The version document's
 * path ends in the publisher's version (`1.0.0-a.html` is SemVer), and a
 * static host that types files by their extension (GitHub Pages cannot be
 * told otherwise) serves it as HTML: its description must not be a script.
 */
function inert(json: string): string {
  return json.search(MARKUP) < 0 ? json : json.replace(MARKUP, (c) => MARKUP_ESCAPES[c]!)
}

/**
 * `api/v1/packages/<name>/<version>`: the Run 2.0 metadata, then wharf's own
 * fields, with no markup in it (inert). Written with its keys in order
 * (stableJson then copies nothing): a build renders one per version.
 */
export function renderVersionDoc(site: Site, pkg: PackageModel, entry: VersionEntry, commit: string): string {
  const record = entry.record
  const report = reportSummary(site, entry.reports)
  const run = runVersionFields(record, downloadUrl(site, record, primaryArtifact(record)))
  return inert(stableJson({
    artifacts: record.artifacts.map((a) => ({ download_url: downloadUrl(site, record, a), name: a.name, sha256: a.sha256, size: a.size, target: a.target })),
    commit,
    ...(record.crate ? { crate: { cksum: record.crate.cksum, name: record.crate.name } } : {}),
    dependencies: run.dependencies,
    description: run.description,
    download_url: run.download_url,
    ...(record.homepage ? { homepage: record.homepage } : {}),
    keywords: record.keywords ?? [],
    kind: run.kind,
    ...(run.license ? { license: run.license } : {}),
    name: run.name,
    namespace: pkg.namespace,
    published_at: run.published_at,
    publisher: record.publisher.login,
    record: url(site, entry.file.path),
    ...(report ? { report } : {}),
    ...(run.repository ? { repository: run.repository } : {}),
    sha256: run.sha256,
    size: run.size,
    ...(record.source ? { source: record.source } : {}),
    targets: run.targets,
    version: run.version,
    ...(entry.wit ? { wit: entry.wit } : {}),
    ...(run.wit_url ? { wit_url: run.wit_url } : {}),
    ...(entry.yank ? { yank: { reason: entry.yank.notice.reason, record: url(site, entry.yank.file.path), yanked_at: unixSeconds(entry.yank.notice.yanked_at) } } : {}),
    yanked: Boolean(entry.yank),
  }))
}

/** `api/v1/packages/<name>/versions`. Yanked versions stay listed (lockfiles name them) and are also listed under `yanked`. */
export function renderVersionsDoc(pkg: PackageModel, commit: string): string {
  const latest = pkg.versions[pkg.versions.length - 1]!
  return stableJson({
    commit,
    kind: latest.record.kind,
    latest: latestVersion(pkg),
    name: pkg.id,
    versions: pkg.versions.map((v) => v.version),
    yanked: pkg.versions.filter((v) => v.yank).map((v) => v.version),
  })
}

export interface SearchEntry {
  name: string
  kind: string
  description: string
  keywords: string[]
  latest: string | null
  versions: number
  /** Every version is yanked. */
  yanked: boolean
  crate?: string
  imports?: string[]
  exports?: string[]
  commit: string
}

/** A package's line in the search index, from its latest version (its highest, when every version is yanked). */
export function searchEntry(pkg: PackageModel, commit: string): SearchEntry {
  const latest = latestVersion(pkg)
  const entry = pkg.versions.find((v) => v.version === latest) ?? pkg.versions[pkg.versions.length - 1]!
  const record = entry.record
  // Keys in order, as stableJson lays them out: it then copies nothing.
  return {
    commit,
    ...(record.crate ? { crate: record.crate.name } : {}),
    description: record.description,
    ...(entry.wit?.exports.length ? { exports: entry.wit.exports } : {}),
    ...(entry.wit?.imports.length ? { imports: entry.wit.imports } : {}),
    keywords: record.keywords ?? [],
    kind: record.kind,
    latest,
    name: pkg.id,
    versions: pkg.versions.length,
    yanked: latest === null,
  }
}

export function renderSearchShard(shard: string, entries: SearchEntry[], commit: string): string {
  return stableJson({ shard, commit, packages: [...entries].sort((a, b) => (a.name < b.name ? -1 : 1)) })
}

/** A search shard from its entries as elements (`searchShardElement`), in order: the bytes of `renderSearchShard`. */
export function renderSearchShardElements(shard: string, entries: readonly Element[], commit: string): Buffer {
  return renderWithElements({ shard, commit }, 'packages', entries)
}

export const searchShardElement = (entry: SearchEntry): Element => ({ id: entry.name, text: elementText(entry) })
export const readSearchShardElements = (bytes: Buffer): Element[] | undefined => readElements(bytes, 'packages', 'name')

/** The search index's line for a shard. */
const searchIndexShard = (site: Site, shard: string, count: number, sha256: string) => ({ shard, url: url(site, searchShardPath(shard)), packages: count, sha256 })

export function renderSearchIndex(site: Site, shards: Map<string, { count: number; sha256: string }>): string {
  return stableJson({ commit: site.head, shards: [...shards.keys()].sort().map((s) => searchIndexShard(site, s, shards.get(s)!.count, shards.get(s)!.sha256)) })
}

/** The search index from its shards as elements (`searchIndexElement`), in order: the bytes of `renderSearchIndex`. */
export function renderSearchIndexElements(site: Site, shards: readonly Element[]): Buffer {
  return renderWithElements({ commit: site.head }, 'shards', shards)
}

export const searchIndexElement = (site: Site, shard: string, count: number, sha256: string): Element => ({ id: shard, text: elementText(searchIndexShard(site, shard, count, sha256)) })
export const readSearchIndexElements = (bytes: Buffer): Element[] | undefined => readElements(bytes, 'shards', 'shard')

export function renderNamespaceDoc(site: Site, file: NamespaceFile, packages: string[], commit: string, path: string): string {
  return stableJson({
    namespace: file.namespace,
    ...(file.description ? { description: file.description } : {}),
    owners: file.owners,
    keys: file.keys,
    ...(file.authority ? { authority: file.authority } : {}),
    created_at: file.created_at,
    packages: [...packages].sort(),
    record: url(site, path),
    commit,
  })
}

/** `packages.json`: how many packages there are and where the pages that name them are; `commit` is the one that added the newest. */
export function renderPackageList(site: Site, total: number, pageSize: number, commit: string | null): string {
  const pages = Math.ceil(total / pageSize)
  return stableJson({ total, page_size: pageSize, pages, last_page: pages ? pages - 1 : null, page_url: `${site.baseUrl}/${API_ROOT}/package-list/{page}.json`, commit })
}

/**
 * A page of the package list: the ids of packages `page * pageSize` on, in
 * the order they first appeared on main (by id within one commit), so a new
 * package only ever goes on the end; `commit` added the last of them.
 */
export function renderPackageListPage(page: number, pageSize: number, packages: string[], commit: string): string {
  return stableJson({ page, page_size: pageSize, first: page * pageSize, commit, packages })
}

export function renderNamespaceList(namespaces: string[], commit: string | null): string {
  return stableJson({ namespaces: [...namespaces].sort(), commit })
}

export function renderCrateDoc(site: Site, crate: string, pkg: string, commit: string, indexPath: string): string {
  return stableJson({ crate, package: pkg, index: url(site, indexPath), commit })
}

export interface Counts {
  packages: number
  versions: number
  yanked: number
  namespaces: number
  crates: number
}

export function renderStats(site: Site, counts: Counts): string {
  return stableJson({
    package_count: counts.packages,
    version_count: counts.versions,
    // A static host counts no downloads; `wharf serve` answers this route itself with its own count.
    download_count: 0,
    uptime_percent: 100,
    yanked_count: counts.yanked,
    namespace_count: counts.namespaces,
    crate_count: counts.crates,
    commit: site.head,
  })
}

export function renderHealth(site: Site): string {
  return stableJson({ status: 'ok', commit: site.head })
}

export function renderConfig(site: Site): string {
  const base = site.baseUrl
  const registry = site.registry
  return stableJson({
    schema: 'wharf:config/v1',
    format: API_FORMAT,
    name: registry.name,
    ...(registry.description ? { description: registry.description } : {}),
    base_url: base,
    api: `${base}/${API_ROOT}`,
    cargo: `sparse+${base}/${CARGO_DIR}/`,
    keys: registry.keys,
    maintainers: registry.maintainers,
    peers: registry.peers,
    crates_namespace: registry.policy.namespaces.crates ?? 'crates',
    templates: {
      versions: `${base}/${API_ROOT}/packages/{name}/versions`,
      version: `${base}/${API_ROOT}/packages/{name}/{version}`,
      namespace: `${base}/${API_ROOT}/namespaces/{namespace}`,
      record: `${base}/index/packages/{namespace}/{name}/{version}.json`,
      artifact: `${base}/artifacts/sha256/{sha256}`,
      crate: `${base}/${API_ROOT}/crates/{crate}`,
      feed_page: `${base}/${API_ROOT}/feed/{page}.json`,
    },
    feed: `${base}/${PATHS.feedHead}`,
    search_index: `${base}/${PATHS.searchIndex}`,
    snapshot: `${base}/${SNAPSHOT_PATH}`,
    commit: site.head,
  })
}

/** `/.well-known/wasm-pkg/registry.json`, the discovery document wkg-style clients read first. */
export function renderWellKnown(site: Site): string {
  const base = site.baseUrl
  return stableJson({ preferredProtocol: 'wharf', wharf: { url: base, api: `${base}/${API_ROOT}`, config: `${base}/${PATHS.config}`, cargo: `sparse+${base}/${CARGO_DIR}/` } })
}

export type { FeedEntry }

/**
 * A feed page. It only grows, and only at its end: every byte up to the end
 * of its last entry stays when entries are appended (`feedPageKept`), so a
 * reader holding an earlier copy asks for the bytes after that point alone.
 * Nothing that changes with each append may come before the entries.
 */
export function renderFeedPage(page: number, entries: FeedEntry[]): string {
  return stableJson({ page, page_size: FEED_PAGE_SIZE, first_seq: page * FEED_PAGE_SIZE + 1, entries })
}

/**
 * How many leading bytes of a feed page stay when entries are appended to
 * it: up to the end of its last entry (the closing bracket of `entries` and
 * the fields after it are rewritten). 0 when `bytes` are not a page.
 */
export function feedPageKept(bytes: Uint8Array): number {
  // Searched in place for the byte, not copied first: a page may be 445 KB.
  const close = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(0x5d /* ] */)
  let end = close
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x0a)) end--
  return close > 0 && bytes[end - 1] === 0x7d /* } */ ? end : 0
}

/** What opens the entries of a page as `renderFeedPage` writes them, and what comes between two entries. */
const FEED_ENTRIES_OPEN = '"entries": [\n'
const ENTRY_SEPARATOR = Buffer.from(',\n')

/**
 * The page `bytes` (as `renderFeedPage` wrote it, its last entry numbered
 * `lastSeq`) with `added` after its entries: the same bytes as rendering
 * every entry again, made without reading or rendering those it holds. It
 * keeps what `feedPageKept` keeps and puts after it the new entries and the
 * closing bytes, as a page of the new entries alone renders them. Undefined
 * when `bytes` do not end in an entry numbered `lastSeq` and the closing
 * bytes of page `page`: the caller renders the page whole.
 */
export function appendFeedPage(page: number, bytes: Buffer, lastSeq: number, added: FeedEntry[]): Buffer | undefined {
  const kept = feedPageKept(bytes)
  // JSON writes a newline inside a string as an escape, so a line that opens an entry is one.
  const last = bytes.lastIndexOf('\n    {', kept)
  if (kept === 0 || last < 0 || !added.length) return undefined
  try {
    if ((JSON.parse(bytes.toString('utf8', last, kept)) as { seq?: unknown }).seq !== lastSeq) return undefined
  } catch {
    return undefined
  }
  const alone = Buffer.from(renderFeedPage(page, added))
  const open = alone.indexOf(FEED_ENTRIES_OPEN) + FEED_ENTRIES_OPEN.length
  if (!bytes.subarray(kept).equals(alone.subarray(feedPageKept(alone)))) return undefined
  return Buffer.concat([bytes.subarray(0, kept), ENTRY_SEPARATOR, alone.subarray(open)])
}

export function renderFeedHead(site: Site, seq: number): string {
  const pages = seq === 0 ? 0 : Math.floor((seq - 1) / FEED_PAGE_SIZE) + 1
  return stableJson({ seq, page_size: FEED_PAGE_SIZE, pages, last_page: pages ? pages - 1 : null, page_url: `${site.baseUrl}/${API_ROOT}/feed/{page}.json`, commit: site.head })
}

/** The page that holds event `seq` (1-based). */
export const feedPageOf = (seq: number) => Math.floor((seq - 1) / FEED_PAGE_SIZE)

/**
 * The documents snapshot.json lists itself (`files`) and no leaf does: those
 * every reader starts from and every build rewrites (the configuration,
 * health, stats, the feed's head and last page, the search index's top, the
 * Cargo and wkg configuration), and those every new package rewrites (the
 * package list's head and last page). Listed in leaves, whose names are spread
 * by hash, they would make each build rewrite some eight leaves and the parts
 * above them: a level more of parts each time the registry grows sixteenfold.
 */
export function rootPaths(seq: number, packages: number, listPageSize: number): string[] {
  return [
    PATHS.config,
    PATHS.health,
    PATHS.wellKnown,
    PATHS.cargoConfig,
    PATHS.stats,
    PATHS.feedHead,
    PATHS.searchIndex,
    PATHS.packages,
    ...(seq > 0 ? [feedPagePath(feedPageOf(seq))] : []),
    ...(packages > 0 ? [packageListPagePath(Math.floor((packages - 1) / listPageSize))] : []),
  ]
}
