/**
 * Where things live in an index repo (DESIGN §3), and the reverse: what a
 * path under `index/` claims to be.
 */
import { checkName, checkNamespace, checkPeerName } from './names.js'
import { checkVersion } from './versions.js'

export const INDEX_DIR = 'index'
export const REGISTRY_PATH = 'index/registry.json'
export const NAMESPACES_DIR = 'index/namespaces'
export const PACKAGES_DIR = 'index/packages'
export const REPORTS_DIR = 'index/reports'
/** How far this registry has imported each peer's change feed: `index/peers/<peer>.json`, written only by `wharf sync`. */
export const PEERS_DIR = 'index/peers'
/** The URL scheme of an artifact kept in the index's own content-addressed store: `sha256:<hex>`. */
export const LOCAL_URL_PREFIX = 'sha256:'
/** Where the registry's own private key lives in an index repo's work tree, ignored by git. */
export const REGISTRY_KEY_PATH = '.wharf/registry.key'

export function namespacePath(ns: string): string {
  return `${NAMESPACES_DIR}/${ns}.json`
}

export function peerStatePath(peer: string): string {
  return `${PEERS_DIR}/${peer}.json`
}

export function packageDir(id: string): string {
  const [ns, name] = splitId(id)
  return `${PACKAGES_DIR}/${ns}/${name}`
}

export function recordPath(id: string, version: string): string {
  return `${packageDir(id)}/${version}.json`
}

export function yankPath(id: string, version: string): string {
  return `${packageDir(id)}/${version}.yank.json`
}

/** Where the registry keeps a version's compatibility reports: index/reports/<ns>/<name...>/<version>. */
export function reportDir(id: string, version: string): string {
  const [ns, name] = splitId(id)
  return `${REPORTS_DIR}/${ns}/${name}/${version}`
}

function splitId(id: string): [string, string] {
  const colon = id.indexOf(':')
  return [id.slice(0, colon), id.slice(colon + 1)]
}

/** What an index path is, by its shape alone. */
export type IndexPath =
  | { kind: 'registry' }
  | { kind: 'namespace'; namespace: string }
  | { kind: 'peer'; peer: string }
  | { kind: 'record'; name: string; version: string }
  | { kind: 'yank'; name: string; version: string }
  | { kind: 'report'; path: string }
  | { kind: 'invalid'; reason: string }
  | { kind: 'outside' }

// Only printable ASCII without shell- or URL-special characters ever appears in an index path.
const SAFE_PATH = /^[A-Za-z0-9._+/-]+$/

export function classifyPath(path: string): IndexPath {
  if (path !== INDEX_DIR && !path.startsWith(`${INDEX_DIR}/`)) return { kind: 'outside' }
  if (!SAFE_PATH.test(path)) return { kind: 'invalid', reason: 'the path holds characters other than a-z, 0-9, ".", "_", "+", "-" and "/"' }
  const parts = path.split('/')
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return { kind: 'invalid', reason: 'the path has an empty, "." or ".." segment' }
  if (path === REGISTRY_PATH) return { kind: 'registry' }
  if (path.startsWith(`${REPORTS_DIR}/`)) return { kind: 'report', path }
  if (path.startsWith(`${NAMESPACES_DIR}/`)) {
    const file = parts.slice(2).join('/')
    const ns = file.endsWith('.json') ? file.slice(0, -'.json'.length) : ''
    const problem = ns ? checkNamespace(ns) : 'a namespace file is index/namespaces/<namespace>.json'
    return problem ? { kind: 'invalid', reason: problem } : { kind: 'namespace', namespace: ns }
  }
  if (path.startsWith(`${PEERS_DIR}/`)) {
    const file = parts.slice(2).join('/')
    const peer = file.endsWith('.json') ? file.slice(0, -'.json'.length) : ''
    const problem = peer ? checkPeerName(peer) : 'a peer state file is index/peers/<peer>.json'
    return problem ? { kind: 'invalid', reason: problem } : { kind: 'peer', peer }
  }
  if (path.startsWith(`${PACKAGES_DIR}/`)) {
    // index/packages/<ns>/<segment>.../<version>(.yank)?.json
    if (parts.length < 5) return { kind: 'invalid', reason: 'a version record is index/packages/<namespace>/<name...>/<version>.json' }
    const ns = parts[2]!
    const name = parts.slice(3, -1).join('/')
    const file = parts[parts.length - 1]!
    const isYank = file.endsWith('.yank.json')
    const version = isYank ? file.slice(0, -'.yank.json'.length) : file.endsWith('.json') ? file.slice(0, -'.json'.length) : ''
    const problem =
      checkNamespace(ns) ?? checkName(name) ?? (version ? checkVersion(version) : `"${file}" is neither <version>.json nor <version>.yank.json`)
    if (problem) return { kind: 'invalid', reason: problem }
    return { kind: isYank ? 'yank' : 'record', name: `${ns}:${name}`, version }
  }
  return { kind: 'invalid', reason: 'unknown file under index/; expected registry.json, namespaces/, packages/, peers/ or reports/' }
}
