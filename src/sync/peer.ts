/**
 * `wharf peer add`: a proposal that adds a peer to index/registry.json (or
 * changes the one of that name): its URL, the namespaces delegated to it
 * and the registry key it is pinned to. Peers are policy, so the proposal
 * is a maintainer's and `wharf check` judges it like any other.
 *
 * The key is read from the peer's own config.json (or chosen there by
 * `--key`), and the peer's snapshot must verify with it before anything is
 * proposed. Trust comes from comparing it out of band: the caller prints it.
 */
import path from 'node:path'
import { createHttp, openCache, openReader, urlFor, type FetchLike } from '../client/index.js'
import { PATHS } from '../api/index.js'
import { guardedFetch, readRegistry, urlProblem } from '../check/index.js'
import { WharfError, isWharfError } from '../core/errors.js'
import { keyId, parsePublicKey } from '../core/keys.js'
import { namespacePath, REGISTRY_PATH } from '../core/layout.js'
import { checkNamespace, checkPeerName } from '../core/names.js'
import { isOwner, ownerLogin, type NamespaceFile, type Peer } from '../core/types.js'
import { MAIN, readJsonAt, resolveCommit, type Repo } from '../git/index.js'
import { propose, type Proposal } from '../publish/index.js'
import { SYNC_DIR } from './sync.js'

export interface AddPeerOptions {
  repo: Repo
  /** This registry's name for the peer. */
  name: string
  /** Where the peer's static output is served. */
  url: string
  /** The namespaces to delegate to it. */
  namespaces: string[]
  /** The key to pin: a key id or a base64 public key the peer's config.json lists (default: the one it lists). */
  key?: string
  /** The maintainer who proposes it (default: the first maintainer with a login). */
  author?: string
  fetch?: FetchLike
  now?: Date
}

export interface AddPeerResult extends Proposal {
  peer: Peer
  /** The maintainer who proposed it (merging the proposal needs a maintainer too). */
  author: string
  /** The entry of the same name it replaces, when there was one. */
  replaces?: Peer
}

const ID = /^[0-9a-f]{16}$/

/** The unrevoked keys the peer's config.json lists. */
async function peerKeys(url: string, fetch: FetchLike): Promise<Peer['key'][]> {
  const answer = await createHttp({ fetch }).get(urlFor(url, PATHS.config), { maxBytes: 1024 * 1024 })
  const bad = (why: string) => new WharfError('UNTRUSTED_REGISTRY', `${urlFor(url, PATHS.config)} ${why}`, { hint: 'is URL the root of a wharf registry (the output of `wharf build-api`, or a `wharf serve`)?' })
  if (answer.status !== 200 || !answer.bytes) throw bad(`answered HTTP ${answer.status}`)
  let config: { schema?: unknown; keys?: { public_key?: unknown; revoked?: unknown }[] }
  try {
    config = JSON.parse(answer.bytes.toString('utf8')) as typeof config
  } catch {
    throw bad('is not JSON')
  }
  if (config?.schema !== 'wharf:config/v1' || !Array.isArray(config.keys)) throw bad('is not a wharf registry descriptor')
  const keys: Peer['key'][] = []
  for (const k of config.keys) {
    if (typeof k?.public_key !== 'string' || k.revoked) continue
    try {
      const publicKey = parsePublicKey(k.public_key)
      keys.push({ id: keyId(publicKey), public_key: publicKey })
    } catch {
      // A key that does not parse pins nothing.
    }
  }
  if (keys.length === 0) throw bad('lists no registry key')
  return keys
}

function chooseKey(keys: Peer['key'][], wanted: string | undefined, url: string): Peer['key'] {
  const listed = keys.map((k) => k.id).join(', ')
  if (wanted === undefined) {
    if (keys.length === 1) return keys[0]!
    throw new WharfError('USAGE', `${url} lists ${keys.length} registry keys (${listed})`, { hint: 'choose the one its operators publish with --key KEYID' })
  }
  const id = ID.test(wanted) ? wanted : keyId(parsePublicKey(wanted))
  const key = keys.find((k) => k.id === id)
  if (!key) throw new WharfError('UNTRUSTED_REGISTRY', `${url} does not list the key ${id} (it lists ${listed})`, { hint: 'check the key with the peer\'s operators; a peer is pinned to a key its config.json lists' })
  return key
}

export async function addPeer(options: AddPeerOptions): Promise<AddPeerResult> {
  const { repo, name } = options
  const problem = checkPeerName(name)
  if (problem) throw new WharfError('USAGE', problem, { hint: 'name the peer like a namespace: lower case, e.g. wasmrust' })
  const namespaces = [...new Set(options.namespaces)]
  if (namespaces.length === 0) throw new WharfError('USAGE', 'peer add needs at least one --namespace', { hint: 'name each namespace the peer is the authority of: --namespace NS' })
  for (const ns of namespaces) {
    const bad = checkNamespace(ns)
    if (bad) throw new WharfError('USAGE', `--namespace ${ns}: ${bad}`, { hint: 'namespaces are lower case, e.g. acme' })
  }
  const url = options.url.replace(/\/+$/, '')
  const base = await resolveCommit(repo, MAIN)
  const registry = await readRegistry(repo, base)
  const refused = /^https?:\/\/[^\s]+$/.test(url) ? urlProblem(url, registry.policy.urls.allow_http_loopback) : `"${options.url}" is not an http(s) URL`
  if (refused) throw new WharfError('USAGE', refused, { hint: 'give the https URL the peer\'s static output is served at' })
  const author = options.author ?? registry.maintainers.map(ownerLogin).find(Boolean)
  if (!author || !isOwner(registry.maintainers, author)) {
    throw new WharfError('FORBIDDEN', `${author ?? 'nobody'} is not a maintainer of this registry; peers are policy`, { hint: 'pass --author with a maintainer named in index/registry.json' })
  }
  for (const ns of namespaces) {
    const local = await readJsonAt<NamespaceFile>(repo, base, namespacePath(ns))
    if (local && !local.authority) {
      throw new WharfError('CONFLICT', `namespace "${ns}" is defined by this registry (${namespacePath(ns)}); a namespace has exactly one authority`, { hint: `leave --namespace ${ns} out` })
    }
    const other = registry.peers.find((p) => p.name !== name && p.namespaces.includes(ns))
    if (other) throw new WharfError('CONFLICT', `namespace "${ns}" is already delegated to peer "${other.name}"`, { hint: `a namespace has exactly one authority: remove it from peer ${other.name} first` })
  }

  // From public addresses only (loopback as the policy says), redirects too, as sync reads the peer.
  const fetch = options.fetch ?? guardedFetch(registry.policy.urls.allow_http_loopback)
  const key = chooseKey(await peerKeys(url, fetch), options.key, url)
  // The peer must serve a snapshot its key signs now, or every sync would fail.
  try {
    await openReader({ url, keys: [key], http: createHttp({ fetch }), cache: openCache(path.join(repo.dir, SYNC_DIR, 'cache')), ...(options.now ? { now: options.now } : {}) })
  } catch (e) {
    if (!isWharfError(e)) throw e
    throw new WharfError(e.code, `peer ${url}: ${e.message}`, { hint: `nothing was proposed; ${e.hint ?? 'check the URL'}` })
  }

  const peer: Peer = { name, url, namespaces, key }
  const replaces = registry.peers.find((p) => p.name === name)
  const peers = replaces ? registry.peers.map((p) => (p.name === name ? peer : p)) : [...registry.peers, peer]
  const message = `${replaces ? 'Change' : 'Add'} peer ${name}: ${url}, namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.join(', ')}, key ${key.id}`
  const proposal = await propose(repo, `peer/${name}`, [{ path: REGISTRY_PATH, json: { ...registry, peers }, schema: 'registry' }], message, author)
  return { ...proposal, peer, author, ...(replaces ? { replaces } : {}) }
}
