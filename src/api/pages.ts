/**
 * What build-api hands a page renderer, and the reverse dependencies it
 * keeps for it. The renderer is passed in (src/site writes the pages), so
 * this layer knows only the contract: documents in, files out. Full and
 * incremental builds call it with the same inputs for the same package, so
 * the pages agree byte for byte like the documents do. It is named by the
 * module that exports it too, so a full build's worker threads load it
 * themselves and render each package as they read it; a package's own
 * page is left open for its dependents, which are known only once every
 * package is read.
 *
 * A package's pages depend on its own files, its namespace file, the
 * registry descriptor, its dependents and its nested packages. An
 * incremental build renders again every package one of those changed for
 * (a change of registry.json rebuilds in full).
 */
import { stableJson } from '../core/canonical.js'
import { checkPackageId } from '../core/names.js'
import type { Dependency, NamespaceFile, RegistryFile, VersionRecord } from '../core/types.js'
import { compareVersions } from '../core/versions.js'
import { API_ROOT, type Counts, type FeedEntry, type PackageModel, type Site } from './documents.js'

/** One file a renderer writes: a path relative to the output root, and its bytes. */
export interface SiteFile {
  path: string
  bytes: string | Uint8Array
}

/** What every page may depend on. Never the head commit: a page would then change with every build. */
export interface PageContext {
  /** Public URL of the output, without a trailing slash. */
  baseUrl: string
  registry: RegistryFile
}

export interface Dependent {
  /** The package that depends. */
  name: string
  /** Its highest version that names the dependency, and the range and optionality that version asks for. */
  version: string
  req: string
  optional: boolean
}

export interface PackagePagesInput {
  context: PageContext
  package: PackageModel
  /** The file of the package's namespace at the tip (absent only in a broken index). */
  namespace: NamespaceFile | undefined
  /** Packages one segment below this one (`<id>/<segment>`), sorted. */
  children: string[]
}

/**
 * A package's own page, rendered but for its dependents: `head`, then what
 * `PageRenderer.dependents` renders of them, then `tail`. Plain
 * strings, so a full build can keep it on disk until every dependents list
 * is complete.
 */
export interface OpenPage {
  /** The package. */
  id: string
  /** Where the page goes. */
  path: string
  head: string
  tail: string
}

export interface PackagePages {
  /** Every file but the package's own page: a page per version, the badges. */
  files: SiteFile[]
  open: OpenPage
}

export interface NamespacePagesInput {
  context: PageContext
  namespace: NamespaceFile
  /** Package ids of the namespace, sorted. */
  packages: string[]
}

export interface AggregatePagesInput {
  context: PageContext
  /** The commit the output is built from. */
  head: string
  counts: Counts
  /** The newest publish events of the change feed, newest first (at most NEWEST_COUNT). */
  newest: FeedEntry[]
  /** Every namespace, sorted. */
  namespaces: string[]
}

/**
 * Where a worker thread finds a renderer: an ES module it imports for
 * itself (a function cannot be sent to a thread) and the name the module
 * exports the renderer under.
 */
export interface PageRendererModule {
  /** A `file:` URL. */
  url: string
  name: string
}

/** Pages of the static site (src/site). Each function is pure: the same input gives the same files. */
export interface PageRenderer {
  /** Names the shape of the pages: an output whose pages came from another format is rebuilt in full. */
  readonly format: string
  /** The module that exports this renderer: a full build's worker threads load it from there. */
  readonly module: PageRendererModule
  /**
   * Every page and badge of one package, its own page left open where its
   * dependents go: a full build renders a package when it reads it, and
   * knows who depends on it only once it has read them all.
   */
  package(input: PackagePagesInput): PackagePages
  /** What goes between the head and the tail of a package's open page: its dependents (sorted by name). */
  dependents(page: Omit<OpenPage, 'head' | 'tail'>, dependents: Dependent[]): string
  /** The page of one namespace. */
  namespace(input: NamespacePagesInput): SiteFile[]
  /** Home, the pages that list or explain, and the stylesheet and script they share. */
  aggregates(input: AggregatePagesInput): SiteFile[]
}

/** The renderer `ref` names, loaded in this thread; refused unless it is a renderer of `format` (the one the build started with). */
export async function loadPageRenderer(ref: PageRendererModule, format: string): Promise<PageRenderer> {
  const loaded = ((await import(ref.url)) as Record<string, unknown>)[ref.name] as Partial<PageRenderer> | undefined
  if (typeof loaded?.package !== 'function' || loaded.format !== format) {
    throw new Error(`${ref.url} exports no page renderer of format ${format} as ${ref.name} (found ${loaded?.format ?? 'none'}): the build and its worker threads would write different pages`)
  }
  return loaded as PageRenderer
}

/** How many publish events the home page lists as newest. */
export const NEWEST_COUNT = 12

/** `.json`, so a package's list and the lists of packages nested under it (a directory of the same name) can sit side by side. */
export const dependentsPath = (id: string) => `${API_ROOT}/dependents/${id}.json`

export interface DependentsDoc {
  name: string
  dependents: Dependent[]
  commit: string
}

/** `api/v1/dependents/<name>.json`: the packages that depend on a package, sorted by name. */
export function renderDependentsDoc(doc: DependentsDoc): string {
  return stableJson({ name: doc.name, dependents: [...doc.dependents].sort((a, b) => (a.name < b.name ? -1 : 1)), commit: doc.commit })
}

/**
 * Folds one published version into the reverse dependencies: each package it
 * names gains (or updates) this package as a dependent, keeping the highest
 * version that names it. Returns the dependency names whose list changed.
 * `docs` holds the lists as they stand (an incremental build loads the ones
 * it needs first); both builds fold the same events in the same order.
 */
export function foldDependents(docs: Map<string, DependentsDoc>, record: DependingRecord, commit: string): string[] {
  const changed: string[] = []
  for (const name of dependencyTargets(record)) {
    const dep = record.dependencies.find((d) => d.name === name)!
    let doc = docs.get(dep.name)
    if (!doc) docs.set(dep.name, (doc = { name: dep.name, dependents: [], commit }))
    const positions = positionsOf(doc)
    const at = positions.get(record.name)
    const entry: Dependent = { name: record.name, version: record.version, req: dep.req, optional: dep.optional }
    if (at !== undefined) {
      if (compareVersions(record.version, doc.dependents[at]!.version) <= 0) continue
      doc.dependents[at] = entry
    } else {
      positions.set(record.name, doc.dependents.length)
      doc.dependents.push(entry)
    }
    doc.commit = commit
    changed.push(dep.name)
  }
  return changed
}

/** Where each dependent sits in a list, so a package with many dependents costs one lookup per new version, not a scan. */
const positions = new WeakMap<DependentsDoc, Map<string, number>>()
function positionsOf(doc: DependentsDoc): Map<string, number> {
  let map = positions.get(doc)
  if (!map) positions.set(doc, (map = new Map(doc.dependents.map((d, i) => [d.name, i]))))
  return map
}

/** What of a version record its dependents lists need. */
export type DependingRecord = Pick<VersionRecord, 'name' | 'version'> & { dependencies: Pick<Dependency, 'name' | 'req' | 'optional'>[] }

/** The dependency names of a record that get a dependents list (each once; never itself). */
export function dependencyTargets(record: DependingRecord): string[] {
  return [...new Set(record.dependencies.map((d) => d.name))].filter((name) => name !== record.name && checkPackageId(name) === undefined)
}

/** Refuses a renderer path that could leave the output or hide in it. */
export function checkSitePath(file: string): string {
  const parts = file.split('/')
  if (file.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.') || /[\0\\]/.test(p))) {
    throw new Error(`the page renderer asked to write "${file}", which is not a plain relative path`)
  }
  return file
}

/** A package's open page completed with its dependents. */
export function closedPage(renderer: PageRenderer, open: OpenPage, dependents: Dependent[]): SiteFile {
  return { path: open.path, bytes: `${open.head}${renderer.dependents(open, dependents)}${open.tail}` }
}

/** What every page of a build is given about the registry. */
export const pageContext = (site: Site): PageContext => ({ baseUrl: site.baseUrl, registry: site.registry })

/** A package's dependents as its page lists them, by name. */
export const sortedDependents = (doc: DependentsDoc | undefined): Dependent[] => [...(doc?.dependents ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1))

/** The renderer's files as paths checked for the output and bytes to write. */
export function siteFiles(files: SiteFile[]): [string, string | Buffer][] {
  return files.map((file) => [checkSitePath(file.path), typeof file.bytes === 'string' ? file.bytes : Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength)])
}
