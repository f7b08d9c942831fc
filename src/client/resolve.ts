/**
 * Version resolution over a dependency graph, as a pure function of what a
 * package index answers (passed in, so it is tested on tables).
 *
 * Each requirement picks the highest version that satisfies it; the
 * requirements on one package share a version when one satisfies them all
 * (the highest such), and otherwise take as few versions as cover them (a
 * component directory can hold two majors side by side, as Cargo links
 * both). Yanked versions are only picked when the lockfile pins them, and a
 * pinned version is preferred over a newer one while it still satisfies
 * every requirement, so adding a package does not upgrade the others.
 * Optional dependencies are not followed. Pre-releases match only a
 * requirement that names a pre-release of the same version (node-semver).
 */
import semver from 'semver'
import { WharfError } from '../core/errors.js'
import { editDistance, skeleton } from '../core/lookalike.js'
import { checkPackageId } from '../core/names.js'
import { compareVersions, normalizeRange } from '../core/versions.js'

export interface Requirement {
  name: string
  /** A version requirement (node-semver syntax; a comma joins comparators as in Cargo). */
  range: string
  /** Who asks: `name@version` of a dependent, or undefined for what the user asked for. */
  from?: string
}

export interface VersionList {
  versions: string[]
  yanked: string[]
}

export interface PackageIndex {
  /** The versions of a package, or undefined when the registry has no such package. */
  versions(name: string): Promise<VersionList | undefined>
  /** The dependencies a version's verified record declares. */
  dependencies(name: string, version: string): Promise<{ name: string; req: string; optional: boolean }[]>
  /** Package names that may be close to `name` (those of its namespace, or of namespaces close to it), for suggestions when it is unknown. */
  names?(name: string): Promise<string[]>
}

export interface ResolveOptions {
  roots: Requirement[]
  /** Versions a lockfile pins, per package: preferred while they satisfy, and allowed when yanked. */
  locked?: ReadonlyMap<string, readonly string[]>
  /** Rounds before giving up on a graph whose choices keep changing. */
  maxRounds?: number
}

export interface ResolvedEdge {
  name: string
  req: string
  version: string
}

export interface ResolvedPackage {
  name: string
  version: string
  dependencies: ResolvedEdge[]
}

export interface Resolution {
  /** Sorted by name, then version. */
  packages: ResolvedPackage[]
  /** The version each root requirement resolved to, in the order given. */
  roots: ResolvedEdge[]
}

/** Whether `version` satisfies `range` (a bare `*` or empty range is any release). */
export function matches(version: string, range: string): boolean {
  const r = normalizeRange(range).trim()
  return semver.satisfies(version, r === '' ? '*' : r)
}

/** Whether `range` is a version requirement the resolver can read. */
export function validRange(range: string): boolean {
  return semver.validRange(normalizeRange(range).trim() || '*') !== null
}

const describeFrom = (req: Requirement) => (req.from ? `, needed by ${req.from}` : '')
const label = (req: Requirement) => `${req.name}${req.range && req.range !== '*' ? `@${req.range}` : ''}`

/** Up to three known names close to `name`: same skeleton, a few edits away, or holding it. */
export function closeNames(name: string, known: readonly string[]): string[] {
  const target = skeleton(name)
  const bare = name.slice(name.indexOf(':') + 1)
  return known
    .map((k) => {
      const s = skeleton(k)
      const d = s === target ? 0 : editDistance(s, target)
      const holds = k.includes(bare)
      return { k, score: holds ? Math.min(d, 2) : d }
    })
    .filter(({ k, score }) => k !== name && score <= Math.max(2, Math.floor(target.length / 4)))
    .sort((a, b) => a.score - b.score || (a.k < b.k ? -1 : 1))
    .slice(0, 3)
    .map(({ k }) => k)
}

async function unknownPackage(index: PackageIndex, req: Requirement): Promise<WharfError> {
  const close = index.names ? closeNames(req.name, await index.names(req.name)) : []
  return new WharfError('UNKNOWN_PACKAGE', `${req.name}${req.from ? ` (needed by ${req.from})` : ''} is not in the registry`, {
    hint: close.length ? `did you mean ${close.join(', ')}?` : '`wharf search WORD` lists what the registry holds',
  })
}

function noMatch(req: Requirement, list: VersionList, others: Requirement[]): WharfError {
  const yanked = new Set(list.yanked)
  const available = [...list.versions].sort(compareVersions).filter((v) => !yanked.has(v))
  const yankedMatch = list.versions.filter((v) => yanked.has(v) && matches(v, req.range))
  const also = others.filter((o) => o !== req).map((o) => `${o.range || '*'}${describeFrom(o)}`)
  const available_ = available.length ? `available: ${available.join(', ')}` : 'every version is yanked'
  return new WharfError('NO_MATCHING_VERSION', `no version of ${req.name} matches ${req.range || '*'}${describeFrom(req)} (${available_})`, {
    hint: yankedMatch.length
      ? `${yankedMatch.join(', ')} ${yankedMatch.length === 1 ? 'is' : 'are'} yanked: only a lockfile that already pins a yanked version installs it`
      : also.length
        ? `it is also required as ${also.join('; ')}`
        : `ask for one of the available versions, e.g. ${req.name}@${available[available.length - 1] ?? '<version>'}`,
  })
}

/**
 * The versions of one package that cover `reqs`: one when one satisfies all
 * (highest, a pinned one first), else a small cover, each pick the version
 * that satisfies the most of the requirements still open.
 */
export function choose(reqs: readonly Requirement[], list: VersionList, locked: readonly string[] = []): string[] | { unmet: Requirement } {
  const yanked = new Set(list.yanked)
  const pinned = new Set(locked)
  const usable = list.versions.filter((v) => !yanked.has(v) || pinned.has(v))
  // Pinned versions first, then newest first.
  const order = [...usable].sort((a, b) => Number(pinned.has(b)) - Number(pinned.has(a)) || compareVersions(b, a))
  const candidates = new Map(reqs.map((r) => [r, order.filter((v) => matches(v, r.range))]))
  for (const [req, list_] of candidates) if (list_.length === 0) return { unmet: req }
  const all = order.find((v) => reqs.every((r) => matches(v, r.range)))
  if (all) return [all]
  const open = new Set(reqs)
  const picked: string[] = []
  while (open.size) {
    const first = [...open][0]!
    let best = candidates.get(first)![0]!
    let bestCount = 0
    for (const v of candidates.get(first)!) {
      const count = [...open].filter((r) => matches(v, r.range)).length
      if (count > bestCount) {
        best = v
        bestCount = count
      }
    }
    picked.push(best)
    for (const r of [...open]) if (matches(best, r.range)) open.delete(r)
  }
  return picked.sort(compareVersions)
}

const key = (name: string, version: string) => `${name}@${version}`

/** Resolves `roots` and everything they depend on. */
export async function resolve(index: PackageIndex, options: ResolveOptions): Promise<Resolution> {
  for (const root of options.roots) {
    const problem = checkPackageId(root.name)
    if (problem) throw new WharfError('INVALID_NAME', problem, { hint: 'names are <namespace>:<name>, e.g. acme:calc' })
    if (!validRange(root.range)) throw new WharfError('USAGE', `"${root.range}" is not a version requirement (${root.name})`, { hint: 'e.g. ^1.2, ~1.2.3, >=1 <2, or an exact version' })
  }
  const lists = new Map<string, Promise<VersionList | undefined>>()
  const deps = new Map<string, Promise<{ name: string; req: string; optional: boolean }[]>>()
  const listOf = (name: string) => {
    let p = lists.get(name)
    if (!p) lists.set(name, (p = index.versions(name)))
    return p
  }
  const depsOf = (name: string, version: string) => {
    let p = deps.get(key(name, version))
    if (!p) deps.set(key(name, version), (p = index.dependencies(name, version)))
    return p
  }

  let selection = new Map<string, string[]>()
  const maxRounds = options.maxRounds ?? 100
  for (let round = 0; round < maxRounds; round++) {
    // Every requirement the current selection implies: the roots', then its versions' dependencies.
    const selected = [...selection].flatMap(([name, versions]) => versions.map((v) => ({ name, version: v })))
    const declared = await Promise.all(selected.map(async (s) => ({ ...s, deps: await depsOf(s.name, s.version) })))
    const reqs = new Map<string, Requirement[]>()
    const add = (r: Requirement) => {
      const list = reqs.get(r.name)
      if (list) list.push(r)
      else reqs.set(r.name, [r])
    }
    for (const root of options.roots) add(root)
    for (const s of declared) {
      for (const d of s.deps) {
        if (d.optional) continue
        const problem = checkPackageId(d.name) ?? (validRange(d.req) ? undefined : `"${d.req}" is not a version requirement`)
        if (problem) throw new WharfError('INVALID_RECORD', `${key(s.name, s.version)} declares a dependency the client cannot follow: ${problem}`, { hint: 'the record is malformed; tell its publisher' })
        add({ name: d.name, range: d.req, from: key(s.name, s.version) })
      }
    }
    // Fetch every package's versions at once (the index bounds the requests in flight).
    const names = [...reqs.keys()]
    const fetched = await Promise.all(names.map((n) => listOf(n)))
    const next = new Map<string, string[]>()
    for (const [i, name] of names.entries()) {
      const list = fetched[i]
      const wanted = reqs.get(name)!
      if (!list) throw await unknownPackage(index, wanted[0]!)
      const chosen = choose(wanted, list, options.locked?.get(name))
      if (!Array.isArray(chosen)) throw noMatch(chosen.unmet, list, wanted)
      next.set(name, chosen)
    }
    const same = next.size === selection.size && [...next].every(([n, v]) => selection.get(n)?.join() === v.join())
    selection = next
    if (!same) continue

    const pick = (name: string, range: string) => {
      const versions = selection.get(name)!
      return [...versions].reverse().find((v) => matches(v, range)) ?? versions[versions.length - 1]!
    }
    const packages: ResolvedPackage[] = declared
      .map((s) => ({
        name: s.name,
        version: s.version,
        dependencies: s.deps
          .filter((d) => !d.optional)
          .map((d) => ({ name: d.name, req: d.req, version: pick(d.name, d.req) }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : compareVersions(a.version, b.version))),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : compareVersions(a.version, b.version)))
    return { packages, roots: options.roots.map((r) => ({ name: r.name, req: r.range, version: pick(r.name, r.range) })) }
  }
  throw new WharfError('RESOLUTION_FAILED', `the dependency graph of ${options.roots.map(label).join(', ')} did not settle in ${maxRounds} rounds`, {
    hint: 'pin the packages whose versions keep changing with exact versions',
  })
}
