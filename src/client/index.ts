/**
 * The client side of a registry, as a library other tools and the
 * federation code call with their own `fetch`:
 *
 * - `install`: resolve, download, verify and write a set of packages, with `wharf.lock`
 * - `openReader`: a registry's static output, every file verified against its signed snapshot
 * - `resolve`: semver resolution of a dependency graph over any package index
 * - `fetchVerified`: bytes of a known digest, from the cache or the first URL whose answer verifies
 * - `verifyRecord`, `checkSnapshot`, `readFeed`: the checks and the change feed on their own
 * - the Run 2.0 calls that `wharf publish --registry`, `search`, `info`, `list`, `stats` and `health` send
 */
export { defaultCacheDir, normalizeRegistryUrl, openCache, type Cache, type RegistryState } from './cache.js'
export { chooseRegistry, credentialsFile, loadConfig, readToken, settingsFor, userConfigDir, writeToken, PROJECT_CONFIG, type ClientConfig, type RegistryConfig } from './config.js'
export { readFeed, readFeedFile } from './feed.js'
export { createHttp, urlFor, type FetchLike, type Http, type HttpAnswer, type HttpOptions } from './http.js'
export { DEFAULT_INSTALL_DIR, install, installFileName, type InstalledPackage, type InstallOptions, type InstallProgress, type InstallResult } from './install.js'
export { LOCKFILE, parseLockfile, renderLockfile, type LockedPackage, type Lockfile } from './lockfile.js'
export { fetchVerified, openReader, type ExpectedBytes, type FetchVerifiedOptions, type ReaderOptions, type RegistryReader } from './reader.js'
export { parseNamespaceFile, verifyRecord } from './records.js'
export { DEFAULT_REGISTRY, publishRemote, search, stats, health, versions, metadata, listAll, type PackageView, type RemotePublish, type RemoteOptions } from './remote.js'
export { choose, closeNames, matches, resolve, type PackageIndex, type Requirement, type Resolution, type ResolvedPackage, type ResolveOptions, type VersionList } from './resolve.js'
export { checkSnapshot, createSnapshotIndex, type SnapshotIndex } from './snapshot.js'
