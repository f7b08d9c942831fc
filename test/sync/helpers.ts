/**
 * Two registries on loopback for the federation tests. A is a real index
 * (namespaces acme, other and mine, each owned and signed by its own key)
 * whose `build-api` output nginx serves; it rebuilds incrementally after
 * each change, as a registry's CI would. B is a local index with a namespace
 * of its own (mine) and one version in it.
 */
import fs from 'node:fs'
import path from 'node:path'
import { buildApi } from '../../src/api/index.js'
import { generateKey, type GeneratedKey } from '../../src/core/keys.js'
import { classifyPath } from '../../src/core/layout.js'
import type { VersionRecord } from '../../src/core/types.js'
import { MAIN, openRepo, readBlob, resolveCommit, walkFiles, type Repo } from '../../src/git/index.js'
import { initIndex, mergeProposal, proposeNamespace, publishToIndex } from '../../src/publish/index.js'
import { STORE_DIR } from '../../src/store/index.js'
import { addPeer } from '../../src/sync/index.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { createSyntheticIndex } from '../fixtures/api/synthetic.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'

export interface Peer {
  idx: TestIndex
  /** The key of each namespace's owner (acme: alice, other: bob, mine: carol). */
  keys: Record<string, { login: string; key: GeneratedKey }>
  /** The `out` symlink nginx serves. */
  out: string
  nginx: Nginx
  url: string
  /** Publishes and merges `name@version` as its namespace's owner, then rebuilds the API. */
  release(name: string, version: string, options?: { bytes?: Buffer; dependencies?: VersionRecord['dependencies']; rebuild?: boolean }): Promise<VersionRecord>
  /** Rebuilds the API incrementally from what it was last built from. */
  rebuild(): Promise<void>
  /** The real directory of the current build, for tampering with what the host serves. */
  tree(): string
  stop(): Promise<void>
}

/** Claims namespace `ns` in `repo` for `login`, with a new key. */
async function claim(repo: Repo, ns: string, login: string): Promise<GeneratedKey> {
  const key = generateKey()
  const proposal = await proposeNamespace(repo, { namespace: ns, owners: [{ login }], publicKey: key.publicPem, author: login })
  const merged = await mergeProposal(repo, { branch: proposal.branch, author: { login } })
  if (!merged.merged) throw new Error(`setup: claim of ${ns} refused: ${JSON.stringify(merged.check.findings)}`)
  return key
}

let counter = 0

/** Publishes `name@version` in `repo` signed by `owner`'s key, and merges it. */
export async function releaseIn(repo: Repo, dir: string, owner: { login: string; key: GeneratedKey }, name: string, version: string, options: { bytes?: Buffer; dependencies?: VersionRecord['dependencies'] } = {}): Promise<VersionRecord> {
  const file = path.join(dir, '.wharf', `artifact-${++counter}.wasm`)
  await fs.promises.mkdir(path.dirname(file), { recursive: true })
  await fs.promises.writeFile(file, options.bytes ?? component(`${name}@${version}#${counter}`))
  const proposal = await publishToIndex(repo, {
    artifact: file,
    name,
    version,
    privateKey: owner.key.privatePem,
    author: owner.login,
    description: `the ${name} package`,
    license: 'MIT',
    dependencies: options.dependencies ?? [],
  })
  const merged = await mergeProposal(repo, { branch: proposal.branch, author: { login: owner.login } })
  if (!merged.merged) throw new Error(`setup: ${name}@${version} refused: ${JSON.stringify(merged.check.findings)}`)
  return proposal.record
}

/** Registry A: acme (alice), other (bob), mine (carol), each with a first version, served by nginx. */
/** Waits until the wall clock has left the second `time` (ms) fell in. */
const pastSecondOf = (time: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(time / 1000) * 1000 + 1000 - Date.now())))

export async function startPeer(): Promise<Peer> {
  const idx = await createTestIndex()
  const keys: Peer['keys'] = { acme: { login: 'alice', key: idx.key } }
  keys.other = { login: 'bob', key: await claim(idx.repo, 'other', 'bob') }
  keys.mine = { login: 'carol', key: await claim(idx.repo, 'mine', 'carol') }
  const out = path.join(await tempDir('wharf-peer-a-'), 'public')
  let built: string | undefined
  // A snapshot's time has whole seconds, and a reader refuses another commit made in the second it last saw:
  // each build is a second after the one before, as builds of a registry's CI are (and nginx's ETag, mtime
  // seconds and size, differs from the last build's).
  let generated = 0
  let finished = 0
  const rebuild = async () => {
    await pastSecondOf(finished)
    generated = Math.max(Date.now(), generated + 1000)
    const result = await buildApi({ repo: idx.repo, out, baseUrl: 'http://peer-a.invalid', now: new Date(generated), ...(built ? { since: built } : {}) })
    built = result.commit
    finished = Date.now()
  }
  const release: Peer['release'] = async (name, version, options = {}) => {
    const ns = name.slice(0, name.indexOf(':'))
    const record = await releaseIn(idx.repo, idx.dir, keys[ns]!, name, version, options)
    if (options.rebuild !== false) await rebuild()
    return record
  }
  await release('acme:calc', '1.0.0', { rebuild: false })
  await release('acme:app', '1.0.0', { rebuild: false, dependencies: [{ name: 'acme:calc', req: '^1.0.0', optional: false }] })
  await release('other:lib', '1.0.0', { rebuild: false })
  await release('mine:tool', '1.0.0', { rebuild: false })
  await rebuild()
  // nginx serves the symlink itself, so a full rebuild swapping it in is served too.
  const nginx = await startNginx(out)
  return {
    idx,
    keys,
    out,
    nginx,
    url: nginx.url,
    release,
    rebuild,
    tree: () => fs.realpathSync(out),
    stop: () => nginx.stop(),
  }
}

export interface Local {
  dir: string
  repo: Repo
  /** dave, owner of this registry's own namespace `mine`. */
  dave: { login: string; key: GeneratedKey }
  /** mine:tool@1.0.0 as this registry holds it. */
  tool: VersionRecord
}

/** Registry B: a local index (maintainer admin) that defines namespace mine and holds mine:tool@1.0.0. */
export async function createLocal(): Promise<Local> {
  const dir = path.join(await tempDir('wharf-local-b-'), 'b')
  await initIndex({ dir, maintainer: 'admin', name: 'b' })
  const repo = openRepo(dir)
  const key = generateKey()
  const proposal = await proposeNamespace(repo, { namespace: 'mine', owners: [{ login: 'dave' }], publicKey: key.publicPem, author: 'dave' })
  if (!(await mergeProposal(repo, { branch: proposal.branch, author: { login: 'dave' } })).merged) throw new Error('setup: claim of mine refused')
  const dave = { login: 'dave', key }
  const tool = await releaseIn(repo, dir, dave, 'mine:tool', '1.0.0')
  return { dir, repo, dave, tool }
}

/** Artifacts in the index's store that no record on main points at. */
export async function orphans(repo: Repo): Promise<string[]> {
  const referenced = new Set<string>()
  for (const file of await walkFiles(repo, await resolveCommit(repo, MAIN), 'index/packages')) {
    if (classifyPath(file.path).kind !== 'record') continue
    const record = JSON.parse(Buffer.from(await readBlob(repo, file.oid)).toString('utf8')) as VersionRecord
    for (const a of record.artifacts) referenced.add(a.sha256)
  }
  const store = path.join(repo.dir, STORE_DIR)
  const held = fs.existsSync(store) ? fs.readdirSync(store) : []
  return held.filter((sha) => !referenced.has(sha))
}

/** Request lines nginx logged since `from` (an earlier length of the log). */
export function requestsSince(peer: Peer, from: number): string[] {
  return peer.nginx.requests().slice(from)
}

export interface SyntheticPeer {
  repo: Repo
  /** The `out` symlink nginx serves. */
  out: string
  nginx: Nginx
  url: string
  /** Publishes the next version of acme:calc, merges it and rebuilds the API: incrementally, or in `full` (after a rewritten history). */
  release(options?: { full?: boolean }): Promise<VersionRecord>
  stop(): Promise<void>
}

/**
 * A peer of any size: a synthetic index of `versions` versions (in
 * namespaces no follower delegates) plus namespace acme, owned by alice,
 * with acme:calc@1.0.1, its build-api output served by nginx. Each build is
 * a second after the one before, as builds of a registry's CI are (nginx's
 * ETag is the file's mtime in seconds and its size: two builds in one second
 * could look the same to a follower's conditional request).
 */
export async function startSyntheticPeer(versions: number, parent: string): Promise<SyntheticPeer> {
  const index = await createSyntheticIndex(versions, parent)
  const repo = index.repo
  const alice = { login: 'alice', key: await claim(repo, 'acme', 'alice') }
  let n = 0
  const out = path.join(parent, 'public')
  let built: string | undefined
  let generated = 0
  let finished = 0
  const release = async (options: { full?: boolean } = {}) => {
    const record = await releaseIn(repo, parent, alice, 'acme:calc', `1.0.${++n}`, { bytes: component(`calc ${n}`) })
    await pastSecondOf(finished)
    generated = Math.max(Date.now(), generated + 1000)
    built = (await buildApi({ repo, out, now: new Date(generated), ...(built && !options.full ? { since: built } : {}) })).commit
    finished = Date.now()
    return record
  }
  await release()
  const nginx = await startNginx(out)
  return { repo, out, nginx, url: nginx.url, release, stop: () => nginx.stop() }
}

/** A new local index in `dir` (maintainer admin) with peer "a" at `url` delegated namespace acme. */
export async function createFollower(dir: string, url: string): Promise<Repo> {
  await initIndex({ dir, maintainer: 'admin', name: 'b' })
  const repo = openRepo(dir)
  const peer = await addPeer({ repo, name: 'a', url, namespaces: ['acme'] })
  if (!(await mergeProposal(repo, { branch: peer.branch, author: { login: 'admin' } })).merged) throw new Error('setup: peer a refused')
  return repo
}
