/**
 * What main holds, in memory: every package with its versions and yanks, kept
 * in step with main by applying the diff of each merge. Search, stats,
 * downloads and the WasmRust routes read it; nothing here writes.
 */
import semver from 'semver'
import { classifyPath, PACKAGES_DIR } from '../core/layout.js'
import type { VersionRecord, YankNotice } from '../core/types.js'
import { compareVersions, versionKey } from '../core/versions.js'
import { diffCommits, readBlob, walkFiles, type Repo } from '../git/index.js'

export interface VersionEntry {
  record: VersionRecord
  yank?: YankNotice
}

export interface PackageEntry {
  name: string
  kind: VersionRecord['kind']
  /** Keyed by exact version string. */
  versions: Map<string, VersionEntry>
}

export interface SearchResult {
  total: number
  hits: { pkg: PackageEntry; latest: VersionEntry }[]
}

export interface Catalog {
  /** The commit of main the catalog reflects. */
  tip: string
  packages: Map<string, PackageEntry>
  get(name: string, version: string): VersionEntry | undefined
  /**
   * The version a resolver picks, as the static API's \`latest\` names it: the
   * newest live release, else the newest live prerelease; when every version
   * is yanked, the newest (marked yanked); undefined for an unknown package.
   */
  latest(name: string): VersionEntry | undefined
  /** Versions newest first. */
  versionsOf(name: string): VersionEntry[]
  /** The versions whose artifacts include this sha256 (content-addressed downloads). */
  bySha256(sha256: string): VersionEntry | undefined
  /** A crate package by its Cargo crate name. */
  crate(crateName: string): PackageEntry | undefined
  /** Brings the catalog from `tip` to `to`, reading only what changed. */
  advance(repo: Repo, to: string): Promise<void>
  /** Packages whose latest version matches every term, best first; `crates`: crate packages alone, each under the crate name it holds. */
  search(query: string, limit: number, offset: number, crates?: boolean): SearchResult
  counts(): { packages: number; versions: number }
}

function parse<T>(blob: Uint8Array): T {
  return JSON.parse(Buffer.from(blob).toString('utf8')) as T
}

export async function loadCatalog(repo: Repo, tip: string): Promise<Catalog> {
  const packages = new Map<string, PackageEntry>()
  const crates = new Map<string, string>()
  const digests = new Map<string, VersionEntry>()
  const addFile = async (path: string, oid: string) => {
    const where = classifyPath(path)
    if (where.kind === 'record') {
      const record = parse<VersionRecord>(await readBlob(repo, oid))
      let pkg = packages.get(record.name)
      if (!pkg) packages.set(record.name, (pkg = { name: record.name, kind: record.kind, versions: new Map() }))
      const existing = pkg.versions.get(record.version)
      const entry: VersionEntry = { record, ...(existing?.yank ? { yank: existing.yank } : {}) }
      pkg.versions.set(record.version, entry)
      for (const a of record.artifacts) if (!digests.has(a.sha256)) digests.set(a.sha256, entry)
      if (record.crate) crates.set(record.crate.name, record.name)
    } else if (where.kind === 'yank') {
      const notice = parse<YankNotice>(await readBlob(repo, oid))
      const entry = packages.get(notice.name)?.versions.get(notice.version)
      if (entry) entry.yank = notice
    }
  }
  const files = await walkFiles(repo, tip, PACKAGES_DIR)
  // Records before yank notices, so each notice finds its version.
  files.sort((a, b) => Number(a.path.endsWith('.yank.json')) - Number(b.path.endsWith('.yank.json')))
  for (const f of files) await addFile(f.path, f.oid)

  const versionsOf = (name: string) => [...(packages.get(name)?.versions.values() ?? [])].sort((a, b) => compareVersions(b.record.version, a.record.version))
  const catalog: Catalog = {
    tip,
    packages,
    get: (name, version) => {
      const pkg = packages.get(name)
      if (!pkg) return undefined
      const exact = pkg.versions.get(version)
      if (exact) return exact
      // The same version written with other build metadata is the same version.
      return [...pkg.versions.values()].find((v) => versionKey(v.record.version) === versionKey(version))
    },
    latest: (name) => {
      const all = versionsOf(name)
      return all.find((v) => !v.yank && semver.prerelease(v.record.version) === null) ?? all.find((v) => !v.yank) ?? all[0]
    },
    versionsOf,
    bySha256: (sha256) => digests.get(sha256),
    crate: (crateName) => {
      const name = crates.get(crateName) ?? [...crates].find(([k]) => k.toLowerCase().replaceAll('-', '_') === crateName.toLowerCase().replaceAll('-', '_'))?.[1]
      return name ? packages.get(name) : undefined
    },
    async advance(r, to) {
      if (to === catalog.tip) return
      const changes = await diffCommits(r, catalog.tip, to)
      changes.sort((a, b) => Number(a.path.endsWith('.yank.json')) - Number(b.path.endsWith('.yank.json')))
      for (const change of changes) if (change.status === 'added' && change.oid) await addFile(change.path, change.oid)
      catalog.tip = to
    },
    search(query, limit, offset, onlyCrates = false) {
      const terms = query.toLowerCase().split(/\s+/).filter(Boolean)
      const scored: { pkg: PackageEntry; latest: VersionEntry; score: number }[] = []
      for (const pkg of packages.values()) {
        const latest = catalog.latest(pkg.name)
        // A package whose every version is yanked has nothing to offer a search, as in the static search index.
        if (!latest || latest.yank) continue
        const r = latest.record
        if (onlyCrates && (!r.crate || catalog.crate(r.crate.name)?.name !== pkg.name)) continue
        const name = pkg.name.toLowerCase()
        const haystack = [name, r.description.toLowerCase(), ...(r.keywords ?? []), r.crate?.name.toLowerCase() ?? ''].join('\n')
        if (!terms.every((t) => haystack.includes(t))) continue
        const q = terms.join(' ')
        const score = q === '' ? 0 : name === q || name.endsWith(`:${q}`) || name.endsWith(`/${q}`) ? 3 : name.includes(q) ? 2 : 1
        scored.push({ pkg, latest, score })
      }
      scored.sort((a, b) => b.score - a.score || (a.pkg.name < b.pkg.name ? -1 : a.pkg.name > b.pkg.name ? 1 : 0))
      return { total: scored.length, hits: scored.slice(offset, offset + limit).map(({ pkg, latest }) => ({ pkg, latest })) }
    },
    counts() {
      let versions = 0
      for (const pkg of packages.values()) versions += pkg.versions.size
      return { packages: packages.size, versions }
    },
  }
  return catalog
}
