/**
 * The Cargo sparse index (RFC 2789) for crate packages: one file per crate
 * under `cargo/`, one JSON line per version, in the layout and line format of
 * cargo's registry-index reference, so `sparse+<base>/cargo/` is a registry
 * cargo resolves and downloads from.
 */
import { sortKeys } from '../core/canonical.js'
import type { CrateDependency, VersionRecord } from '../core/types.js'
import { crateToPackageName } from '../core/names.js'
import { cargoReleaseDl } from '../core/release-assets.js'

export const CARGO_DIR = 'cargo'

/** `cargo/1/a`, `cargo/2/ab`, `cargo/3/a/abc`, `cargo/ab/cd/abcd...`: where a crate's index file lives. */
export function cargoIndexPath(crate: string): string {
  const name = crate.toLowerCase()
  if (name.length === 1) return `${CARGO_DIR}/1/${name}`
  if (name.length === 2) return `${CARGO_DIR}/2/${name}`
  if (name.length === 3) return `${CARGO_DIR}/3/${name[0]}/${name}`
  return `${CARGO_DIR}/${name.slice(0, 2)}/${name.slice(2, 4)}/${name}`
}

/** The key two crate names collide on, as crates.io compares them: case and `-`/`_` ignored. */
export function crateKey(crate: string): string {
  return crateToPackageName(crate)
}

interface IndexDependency {
  name: string
  req: string
  features: string[]
  optional: boolean
  default_features: boolean
  target: string | null
  kind: 'normal' | 'dev' | 'build'
  registry?: string
  package?: string
}

function indexDependency(dep: CrateDependency): IndexDependency {
  return {
    name: dep.name,
    req: dep.req,
    features: dep.features ?? [],
    optional: dep.optional ?? false,
    default_features: dep.default_features ?? true,
    target: dep.target ?? null,
    kind: dep.kind ?? 'normal',
    ...(dep.registry ? { registry: dep.registry } : {}),
    ...(dep.package ? { package: dep.package } : {}),
  }
}

/**
 * Features that use the `dep:` or `?/` syntax go to `features2`, and the
 * line says `v: 2`, so that cargo older than 1.60 skips the version rather
 * than misreading it (cargo's own publish does the same split).
 */
function splitFeatures(features: Record<string, string[]>): { features: Record<string, string[]>; features2?: Record<string, string[]> } {
  const plain: Record<string, string[]> = {}
  const extended: Record<string, string[]> = {}
  for (const [name, values] of Object.entries(features)) {
    if (values.some((v) => v.startsWith('dep:') || v.includes('?/'))) extended[name] = values
    else plain[name] = values
  }
  return Object.keys(extended).length ? { features: plain, features2: extended } : { features: plain }
}

/** One index line (without its newline) for a crate record. */
export function cargoIndexLine(record: VersionRecord, yanked: boolean): string {
  const crate = record.crate!
  const { features, features2 } = splitFeatures(crate.features ?? {})
  const line = {
    name: crate.name,
    vers: record.version,
    deps: (crate.deps ?? []).map(indexDependency),
    cksum: crate.cksum,
    features,
    ...(features2 ? { features2 } : {}),
    yanked,
    links: crate.links ?? null,
    ...(crate.rust_version ? { rust_version: crate.rust_version } : {}),
    v: features2 ? 2 : 1,
  }
  return JSON.stringify(sortKeys(line))
}

/** cargo/config.json: where crates download from (the registry's store, or the index repo's releases) and where the publish API is. */
export function cargoConfig(baseUrl: string, releases?: string): object {
  return { api: baseUrl, dl: releases ? cargoReleaseDl(releases) : `${baseUrl}/artifacts/sha256/{sha256-checksum}` }
}
