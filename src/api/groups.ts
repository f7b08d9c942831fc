/**
 * The share of a full build one thread does: the packages of a few groups
 * (`index/packages/<ns>/<top>/`, nested packages included), read from git,
 * checked, rendered and written, with a short summary of each for the
 * aggregates. A group is read, written and forgotten, so memory follows
 * the largest group and not the registry.
 */
import { WharfError } from '../core/errors.js'
import { classifyPath, PACKAGES_DIR, REPORTS_DIR } from '../core/layout.js'
import type { NamespaceFile, VersionRecord } from '../core/types.js'
import { isTreeMode, type ObjectReader, type RawEntry } from '../git/index.js'
import { artifactPath as storePath, isLocalUrl, LOCAL_URL_PREFIX } from '../store/index.js'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { cargoIndexLine, crateKey } from './cargo.js'
import { artifactPath, primaryArtifact, renderVersionDoc, renderVersionsDoc, searchEntry, versionPath, versionsPath, type Blob, type PackageModel, type SearchEntry, type Site } from './documents.js'
import { buildPackage, reportTarget, type PackageFiles } from './model.js'
import { checkSitePath, dependencyTargets, pageContext, siteFiles, type Dependent, type DependingRecord, type OpenPage, type PageContext, type PageRenderer } from './pages.js'
import type { TreeWriter } from './output.js'

/** One group: its entry under `index/packages/<ns>/` and, when it has reports, under `index/reports/<ns>/`. */
export interface GroupItem {
  ns: string
  top: string
  entry: RawEntry
  reports?: RawEntry
}

export interface GroupTask {
  items: GroupItem[]
  /** The commit that last changed each package document (`p:<id>`, `v:<id>@<version>`) of these groups. */
  commits: [string, string][]
  /** The file of each namespace these groups are in (a broken index may lack one): for the pages. */
  namespaces: [string, NamespaceFile][]
}

/** The package pages of a task, once every dependents list is complete. */
export interface PagesTask {
  /** Where the groups task left its packages' pages open (OPEN_PAGES_DIR). */
  file: string
  /** The dependents of each of its packages that has any, sorted by name. */
  dependents: [string, Dependent[]][]
}

/** Where a full build keeps the open package pages between the two passes, in the tree it builds; gone before the tree is served. */
export const OPEN_PAGES_DIR = '.wharf/open-pages'

export interface PackageSummary {
  id: string
  versions: number
  yanked: number
  search: SearchEntry
  /** A line `<path>\t<artifact sha256>\t<file sha256>\t<crate name>\t<dependencies>` for each record and yank notice: what the change feed and the dependents lists say of it. */
  feed: string
  /** Cargo index lines of each crate name the package's versions carry. */
  crates: { key: string; name: string; lines: string }[]
}

export interface GroupEnv {
  reader: ObjectReader
  site: Site
  /** The index repo's work tree, where the artifact store is. */
  indexDir: string
  /** Renders each package's pages as it is read. */
  pages?: PageRenderer
}

function walk(reader: ObjectReader, entry: RawEntry, file: string, out: { path: string; oid: string }[]): void {
  if (!isTreeMode(entry.mode)) {
    out.push({ path: file, oid: entry.oid })
    return
  }
  for (const child of reader.readTree(entry.oid)) walk(reader, child, `${file}/${child.name}`, out)
}

/** Local artifacts of a record, linked into the output from the index's store; returns what each link returned (promises, in place). */
export function placeArtifacts<T>(writer: { link(file: string, source: string, sha256: string): T }, indexDir: string, record: VersionRecord): T[] {
  const links: T[] = []
  for (const artifact of record.artifacts) {
    if (!isLocalUrl(artifact.url)) continue
    const sha = artifact.url.slice(LOCAL_URL_PREFIX.length)
    const source = storePath(indexDir, sha)
    if (!fs.existsSync(source)) {
      throw new WharfError('NOT_FOUND', `${record.name}@${record.version}: artifact ${artifact.name} (${artifact.url}) is not in the artifact store ${path.dirname(source)}`, {
        hint: 'build the API on the machine that holds the store, or restore the artifact there',
      })
    }
    links.push(writer.link(artifactPath(sha), source, sha))
  }
  return links
}

/** The crates a package's versions name, with their Cargo index lines in version order. */
export function crateLines(pkg: PackageModel): { key: string; name: string; lines: string }[] {
  const crates = new Map<string, { key: string; name: string; lines: string }>()
  for (const entry of pkg.versions) {
    if (!entry.record.crate) continue
    const key = crateKey(entry.record.crate.name)
    const line = `${cargoIndexLine(entry.record, Boolean(entry.yank))}\n`
    const known = crates.get(key)
    if (known) known.lines += line
    else crates.set(key, { key, name: entry.record.crate.name, lines: line })
  }
  return [...crates.values()]
}

/** The packages of one group with their files (records, yank notices, their reports), and the reports that name no package of it. */
export function readGroup(reader: ObjectReader, item: GroupItem): { packages: Map<string, PackageFiles>; mirrored: Blob[] } {
  const packages = new Map<string, PackageFiles>()
  const filesOf = (id: string) => {
    let files = packages.get(id)
    if (!files) packages.set(id, (files = { records: [], yanks: [], reports: [] }))
    return files
  }
  const blob = (file: string, oid: string): Blob => ({ path: file, oid, bytes: reader.readAs(oid, 'blob') })
  const found: { path: string; oid: string }[] = []
  walk(reader, item.entry, `${PACKAGES_DIR}/${item.ns}/${item.top}`, found)
  for (const { path: file, oid } of found) {
    const where = classifyPath(file)
    if (where.kind === 'record') filesOf(where.name).records.push(blob(file, oid))
    else if (where.kind === 'yank') filesOf(where.name).yanks.push(blob(file, oid))
    else throw new WharfError('NOT_AN_INDEX', `${file} is not a version record or yank notice: ${where.kind === 'invalid' ? where.reason : where.kind}`, { hint: 'run wharf audit on the index' })
  }
  const reports: { path: string; oid: string }[] = []
  if (item.reports) walk(reader, item.reports, `${REPORTS_DIR}/${item.ns}/${item.top}`, reports)
  const mirrored: Blob[] = []
  for (const { path: file, oid } of reports) {
    const target = reportTarget(file)
    const report = blob(file, oid)
    if (target && packages.has(target.id)) filesOf(target.id).reports.push(report)
    else mirrored.push(report)
  }
  return { packages, mirrored }
}

/** What the dependents lists need of a record: `[name, req, optional]` of each package it names, as JSON (empty when none). */
export function dependencyLine(record: VersionRecord): string {
  const targets = dependencyTargets(record)
  if (!targets.length) return ''
  return JSON.stringify(targets.map((name) => {
    const dep = record.dependencies.find((d) => d.name === name)!
    return [name, dep.req, dep.optional]
  }))
}

/** The record dependencyLine summed up, again (its name and version come from the feed). */
export function dependingRecord(name: string, version: string, line: string): DependingRecord {
  const deps = line ? (JSON.parse(line) as [string, string, boolean][]) : []
  return { name, version, dependencies: deps.map(([dep, req, optional]) => ({ name: dep, req, optional })) }
}

/**
 * Reads, renders and writes the packages of `task`'s groups, and sums each
 * up. With a renderer it writes their pages too, but each package's own page
 * is left open for its dependents: its head already where the page goes
 * (unlisted, so the snapshot takes only the whole page), the rest in a file
 * under OPEN_PAGES_DIR: the path it returns (relative to the tree), for
 * closeGroupPages.
 */
export function buildGroups(env: GroupEnv, writer: TreeWriter, task: GroupTask): { packages: PackageSummary[]; openPages?: string } {
  const build = new GroupsBuild(env, writer, task)
  for (const item of task.items) build.group(item)
  return build.finish()
}

/**
 * One buildGroups call, a method per level (group, package, pages): a
 * worker runs it for minutes, and small methods are quick for the JIT to
 * compile again when a new shape of input makes it drop one, where one
 * long function took it a fifth of a second each time.
 */
class GroupsBuild {
  private readonly out: PackageSummary[] = []
  private readonly open: string[] = []
  private readonly commits: Map<string, string>
  private readonly namespaces: Map<string, NamespaceFile>
  private readonly context?: PageContext

  constructor(
    private readonly env: GroupEnv,
    private readonly writer: TreeWriter,
    task: GroupTask,
  ) {
    this.commits = new Map(task.commits)
    this.namespaces = new Map(task.namespaces)
    if (env.pages) this.context = pageContext(env.site)
  }

  private commitOf(key: string): string {
    const commit = this.commits.get(key)
    if (!commit) throw new WharfError('IO', `no commit of the history changed ${key.slice(2)}, yet the tip holds it`, { hint: 'the history may be cut short: fetch all of it (git fetch --unshallow)' })
    return commit
  }

  group(item: GroupItem): void {
    const { packages, mirrored } = readGroup(this.env.reader, item)
    // The signed index files, mirrored byte for byte, before the documents that point at them.
    const shaOf = new Map<string, string>()
    for (const files of packages.values()) {
      for (const list of [files.records, files.yanks, files.reports]) for (const b of list) shaOf.set(b.path, this.writer.write(b.path, b.bytes))
    }
    for (const b of mirrored) this.writer.write(b.path, b.bytes)
    const ids = [...packages].filter(([, files]) => files.records.length > 0).map(([id]) => id).sort()
    for (const id of ids) {
      const pkg = buildPackage(id, packages.get(id)!, this.env.reader, this.env.indexDir)
      this.package(pkg, shaOf)
      if (this.env.pages) this.pages(this.env.pages, pkg, ids.filter((other) => other.startsWith(`${id}/`) && !other.slice(id.length + 1).includes('/')))
    }
  }

  /** A package's API documents and its summary. */
  private package(pkg: PackageModel, shaOf: Map<string, string>): void {
    const { site, indexDir } = this.env
    const id = pkg.id
    const lines: string[] = []
    let yanked = 0
    for (const v of pkg.versions) {
      placeArtifacts(this.writer, indexDir, v.record)
      this.writer.write(versionPath(id, v.version), renderVersionDoc(site, pkg, v, this.commitOf(`v:${id}@${v.version}`)))
      const artifact = primaryArtifact(v.record).sha256
      lines.push(`${v.file.path}\t${artifact}\t${shaOf.get(v.file.path)}\t${v.record.crate?.name ?? ''}\t${dependencyLine(v.record)}`)
      if (v.yank) {
        yanked++
        lines.push(`${v.yank.file.path}\t${artifact}\t${shaOf.get(v.yank.file.path)}\t\t`)
      }
    }
    const commit = this.commitOf(`p:${id}`)
    this.writer.write(versionsPath(id), renderVersionsDoc(pkg, commit))
    this.out.push({ id, versions: pkg.versions.length, yanked, search: searchEntry(pkg, commit), feed: `${lines.join('\n')}\n`, crates: crateLines(pkg) })
  }

  /** A package's pages, its own left open. */
  private pages(renderer: PageRenderer, pkg: PackageModel, children: string[]): void {
    const pages = renderer.package({ context: this.context!, package: pkg, namespace: this.namespaces.get(pkg.namespace), children })
    for (const [file, bytes] of siteFiles(pages.files)) this.writer.write(file, bytes)
    // The head is most of the page: written once, where it stays, rather than kept aside and written again.
    this.writer.write(checkSitePath(pages.open.path), pages.open.head, false)
    const rest: OpenRest = { id: pages.open.id, path: pages.open.path, tail: pages.open.tail }
    this.open.push(`${JSON.stringify(rest)}\n`)
  }

  finish(): { packages: PackageSummary[]; openPages?: string } {
    if (!this.open.length) return { packages: this.out }
    const file = `${OPEN_PAGES_DIR}/${randomBytes(8).toString('hex')}.jsonl`
    fs.mkdirSync(path.join(this.writer.root, OPEN_PAGES_DIR), { recursive: true })
    fs.writeFileSync(path.join(this.writer.root, file), this.open.join(''))
    return { packages: this.out, openPages: file }
  }
}

/** What of an open package page waits in the open-pages file: all but its head, which waits in the page's own file. */
type OpenRest = Omit<OpenPage, 'head'>

/**
 * Completes the package pages a groups task left open with their dependents
 * (each page's file grows by what follows its head), and removes the file
 * that held the rest of them; returns how many.
 */
export function closeGroupPages(pages: PageRenderer, writer: TreeWriter, task: PagesTask): number {
  const dependents = new Map(task.dependents)
  const file = path.join(writer.root, task.file)
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  let closed = 0
  for (const line of lines) {
    if (!line) continue
    const rest = JSON.parse(line) as OpenRest
    const file = checkSitePath(rest.path)
    writer.complete(file, `${pages.dependents(rest, dependents.get(rest.id) ?? [])}${rest.tail}`)
    closed++
  }
  fs.rmSync(file)
  return closed
}
