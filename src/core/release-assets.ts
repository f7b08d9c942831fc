/**
 * Where a version's artifacts live once the index repo has mirrored them to
 * its releases: one release per package version, its tag derived from the
 * name and version (a git ref cannot hold `:`), one asset per artifact.
 *
 * - a component package `ns:a/b@1.2.0` is tagged `ns.a.b@1.2.0`: names and
 *   namespaces hold only `[a-z0-9-]`, so `.` stands in for `:` and `/`
 *   without ambiguity;
 * - a crate package is tagged with its Cargo name, `my_crate@1.2.0` (a crate
 *   name never holds `.`, so the two forms never meet), so that Cargo's
 *   sparse index can name the asset with its own markers: `dl` is
 *   `<repo>/releases/download/{crate}@{version}/{crate}-{version}.crate`;
 * - a tag that would end in `.lock` (which a git ref may not) gets a `_`.
 *
 * An asset is named by the record's artifact name; a crate's `.crate` by
 * `<crate>-<version>.crate`, the name cargo gives it.
 */
import type { Artifact, VersionRecord } from './types.js'

/** GitHub's limits: assets per release and bytes per asset. */
export const MAX_RELEASE_ASSETS = 1000
export const MAX_ASSET_BYTES = 2 * 1024 ** 3

/** The release tag of a package version. */
export function releaseTag(record: Pick<VersionRecord, 'name' | 'version' | 'kind' | 'crate'>): string {
  const stem = record.kind === 'crate' && record.crate ? record.crate.name : record.name.replace(/[:/]/g, '.')
  const tag = `${stem}@${record.version}`
  // A git ref may not end in ".lock"; "_" never occurs in a version, so the suffix keeps tags one-to-one.
  return tag.endsWith('.lock') ? `${tag}_` : tag
}

/** The asset name of one of a record's artifacts in its release. */
export function releaseAssetName(record: Pick<VersionRecord, 'version' | 'kind' | 'crate'>, artifact: Pick<Artifact, 'name'>): string {
  if (record.kind === 'crate' && record.crate && artifact.name.endsWith('.crate')) return `${record.crate.name}-${record.version}.crate`
  return artifact.name
}

/** The download URL of an asset of `repoUrl` (`https://github.com/OWNER/REPO`), as GitHub serves it: a redirect to storage. */
export function releaseAssetUrl(repoUrl: string, record: Pick<VersionRecord, 'name' | 'version' | 'kind' | 'crate'>, artifact: Pick<Artifact, 'name'>): string {
  const base = repoUrl.replace(/\/+$/, '')
  return `${base}/releases/download/${encodeURIComponent(releaseTag(record))}/${encodeURIComponent(releaseAssetName(record, artifact))}`
}

/** Cargo's `dl` template for crates mirrored to the releases of `repoUrl`. */
export function cargoReleaseDl(repoUrl: string): string {
  return `${repoUrl.replace(/\/+$/, '')}/releases/download/{crate}@{version}/{crate}-{version}.crate`
}
