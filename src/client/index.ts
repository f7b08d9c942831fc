/**
 * The client side of a registry: what `wharf publish --registry`, `search`,
 * `info`, `list`, `stats` and `health` send.
 */
export { DEFAULT_REGISTRY, publishRemote, search, stats, health, versions, metadata, listAll, type RemotePublish, type RemoteOptions } from './remote.js'
