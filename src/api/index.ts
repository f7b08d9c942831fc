/**
 * The static API: everything `wharf build-api` writes, and how a reader
 * checks a copy of it. `wharf serve` calls `buildApi` after each merge.
 */
export { buildApi, DEFAULT_BASE_URL, DEFAULT_SNAPSHOT_TTL_SECONDS, type BuildApiOptions, type BuildApiResult } from './build.js'
export { cargoIndexPath, crateKey } from './cargo.js'
export {
  API_ROOT,
  FEED_PAGE_SIZE,
  PATHS,
  artifactPath,
  crateDocPath,
  feedPageKept,
  feedPagePath,
  latestVersion,
  namespaceDocPath,
  primaryArtifact,
  runVersionFields,
  searchShardPath,
  versionPath,
  versionsPath,
  type Blob,
  type Counts,
  type FeedEntry,
  type PackageModel,
  type SearchEntry,
  type VersionEntry,
} from './documents.js'
export {
  NEWEST_COUNT,
  dependentsPath,
  type AggregatePagesInput,
  type Dependent,
  type NamespacePagesInput,
  type OpenPage,
  type PackagePages,
  type PackagePagesInput,
  type PageContext,
  type PageRenderer,
  type PageRendererModule,
  type SiteFile,
} from './pages.js'
export { SNAPSHOT_PATH, leafDigitsOf, leafOf, leafPath, nodePath, parentLength, partPath, verifySnapshot, type Snapshot, type SnapshotLeaf, type SnapshotPart, type SnapshotVerdict, type VerifySnapshotOptions } from './snapshot.js'
export { componentInterfaces, type ComponentInterfaces } from './wit.js'
