/**
 * Federation between two registries on loopback: A's build-api output
 * behind nginx, B a local index. `wharf peer add` and `wharf sync` as a user
 * runs them, nginx's access log counting what each sync asked for, and
 * every way a peer can fail or lie, with B's index and store checked after
 * each (audit passes, no orphan artifact).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { runCheck } from '../../src/check/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { isWharfError } from '../../src/core/errors.js'
import { sha256Hex } from '../../src/core/hash.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { generateKey, parsePrivateKey } from '../../src/core/keys.js'
import { namespacePath, peerStatePath, recordPath, REGISTRY_PATH } from '../../src/core/layout.js'
import type { NamespaceFile, PeerState, RegistryFile, VersionRecord } from '../../src/core/types.js'
import { withSubmitterTrailer } from '../../src/core/submitter.js'
import { listBranches, MAIN, openRepo, readCommitInfo, readFileAt, readJsonAt, resolveCommit, setBranch, writeCommitWith, type Repo } from '../../src/git/index.js'
import { mergeProposal, publishToIndex } from '../../src/publish/index.js'
import { artifactPath } from '../../src/store/index.js'
import { addPeer, planSync, syncIndex, type SyncResult } from '../../src/sync/index.js'
import { wharf } from '../helpers/cli.js'
import { component } from '../helpers/wasm.js'
import { recordFile, signedRecord } from '../client/helpers.js'
import { createLocal, orphans, requestsSince, startPeer, type Local, type Peer } from './helpers.js'

let a: Peer
let b: Local

beforeAll(async () => {
  ;[a, b] = await Promise.all([startPeer(), createLocal()])
}, 120_000)

afterAll(async () => {
  await a?.stop()
})

const tip = (repo: Repo) => resolveCommit(repo, MAIN)
/** `wharf sync --json` as a user runs it. */
const syncCli = async (...args: string[]) => {
  const run = await wharf(['sync', '--index', b.dir, '--json', ...args])
  return { ...run, result: run.stdout ? (JSON.parse(run.stdout) as SyncResult) : undefined }
}
/** The same through the library, which spares a process start where the command line is not the point. */
const sync = (options: { allowConflicts?: boolean } = {}) => syncIndex({ repo: b.repo, ...options })
const names = (entries: { name: string; version: string }[]) => entries.map((e) => `${e.name}@${e.version}`)
const stateOf = async () => (await readJsonAt<PeerState>(b.repo, MAIN, peerStatePath('a')))!

/** B's index is whole: audit passes and every stored artifact belongs to a record on main. */
async function expectConsistent(): Promise<void> {
  const audit = await auditIndex(b.repo)
  expect(audit.violations).toEqual([])
  expect(await orphans(b.repo)).toEqual([])
  expect(fs.readdirSync(path.join(b.dir, '.wharf/sync/staging'))).toEqual([])
}

/** Commits `files` straight onto A's main, past its gate, as a compromised registry would. */
async function forceOnA(files: { path: string; content: string }[]): Promise<void> {
  const head = await writeCommitWith(a.idx.repo, { parents: [await tip(a.idx.repo)], files, message: 'Unchecked', author: { login: 'mallory' } })
  await setBranch(a.idx.repo, MAIN, head)
}

describe('wharf peer add', () => {
  it('refuses to delegate a namespace B defines itself, a key the peer does not list, and a peer that is no registry', async () => {
    const refusal = (options: Partial<Parameters<typeof addPeer>[0]>) =>
      addPeer({ repo: b.repo, name: 'a', url: a.url, namespaces: ['acme'], ...options }).then(
        () => expect.unreachable(),
        (e: unknown) => (isWharfError(e) ? { code: e.code, message: e.message, hint: e.hint } : Promise.reject(e)),
      )
    expect(await refusal({ namespaces: ['acme', 'mine'] })).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/namespace "mine" is defined by this registry/), hint: 'leave --namespace mine out' })
    expect(await refusal({ key: '0123456789abcdef' })).toMatchObject({ code: 'UNTRUSTED_REGISTRY', message: expect.stringMatching(/does not list the key 0123456789abcdef \(it lists [0-9a-f]{16}\)/) })
    expect(await refusal({ name: 'A' })).toMatchObject({ code: 'USAGE' })
    expect(await refusal({ url: `${a.url}/nowhere` })).toMatchObject({ code: 'UNTRUSTED_REGISTRY', message: expect.stringMatching(/config\.json answered HTTP 404/) })
    expect(await refusal({ url: 'http://example.com' })).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/plain http/) })
    expect(await listBranches(b.repo)).toEqual(['main'])
  })

  it('proposes the peer pinned to the key its config.json lists, prints the key, and only a maintainer can merge it', async () => {
    const run = await wharf(['peer', 'add', 'a', `${a.url}/`, '--namespace', 'acme', '--index', b.dir])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const [key] = (await readJsonAt<RegistryFile>(a.idx.repo, MAIN, REGISTRY_PATH))!.keys
    expect(run.stdout).toContain(`Proposed peer a (${a.url}) for namespace acme on branch peer/a.\nPinned key: ${key!.id} (${key!.public_key})\n`)
    // The command it prints is the one to run: the maintainer who proposed it merges.
    const printed = /then merge: wharf (.+)\n/.exec(run.stdout)?.[1]
    expect(printed).toBe(`merge --branch peer/a --author admin --index ${b.dir}`)

    expect((await mergeProposal(b.repo, { branch: 'peer/a', author: { login: 'dave' } })).check.findings.map((f) => f.rule)).toEqual(['registry/not-maintainer'])
    const merge = await wharf(printed!.split(' '))
    expect(merge.stderr).toBe('')
    expect(merge.code).toBe(0)
    expect((await readJsonAt<RegistryFile>(b.repo, MAIN, REGISTRY_PATH))!.peers).toEqual([{ name: 'a', url: a.url, namespaces: ['acme'], key: { id: key!.id, public_key: key!.public_key } }])
  })

  it('check refuses peers that break one authority per namespace, whoever edits registry.json', async () => {
    const registry = (await readJsonAt<RegistryFile>(b.repo, MAIN, REGISTRY_PATH))!
    const peer = registry.peers[0]!
    const edits: [string, RegistryFile['peers']][] = [
      ['a namespace this registry defines', [{ ...peer, namespaces: ['acme', 'mine'] }]],
      ['one namespace, two peers', [peer, { ...peer, name: 'c', url: 'https://c.example' }]],
    ]
    for (const [what, peers] of edits) {
      const head = await writeCommitWith(b.repo, { parents: [await tip(b.repo)], files: [{ path: REGISTRY_PATH, content: stableJson({ ...registry, peers }) }], message: what, author: { login: 'admin' } })
      const check = await runCheck({ repo: b.repo, base: MAIN, head, author: { login: 'admin' } })
      expect(check.findings.map((f) => f.rule), what).toEqual(['federation/peers'])
    }
  })
})

describe('wharf sync', () => {
  let first: SyncResult

  it('imports the delegated namespace: records as the peer signed them, artifacts into the store, one commit by a maintainer', async () => {
    const before = await tip(b.repo)
    const run = await syncCli()
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    first = run.result!
    expect(names(first.added)).toEqual(['acme:calc@1.0.0', 'acme:app@1.0.0'])
    // other:lib and A's mine:tool are not delegated to A.
    expect(first.ignored).toBe(2)
    expect(first.skipped).toEqual([])
    const commit = first.peers[0]!.commit!
    expect(await tip(b.repo)).toBe(commit)
    expect(await readCommitInfo(b.repo, commit)).toMatchObject({ parents: [before], author: { name: 'admin' } })
    for (const id of ['acme:calc', 'acme:app']) {
      const theirs = await readFileAt(a.idx.repo, MAIN, recordPath(id, '1.0.0'))
      expect(Buffer.from((await readFileAt(b.repo, MAIN, recordPath(id, '1.0.0')))!).equals(Buffer.from(theirs!)), id).toBe(true)
      const record = JSON.parse(Buffer.from(theirs!).toString('utf8')) as VersionRecord
      expect(fs.existsSync(artifactPath(b.dir, record.artifacts[0]!.sha256))).toBe(true)
    }
    const acme = (await readJsonAt<NamespaceFile>(b.repo, MAIN, namespacePath('acme')))!
    const theirs = (await readJsonAt<NamespaceFile>(a.idx.repo, MAIN, namespacePath('acme')))!
    expect(acme).toEqual({ ...theirs, authority: 'a' })
    const state = await stateOf()
    expect(state).toMatchObject({ peer: 'a', url: a.url, cursor: first.peers[0]!.to, namespaces: ['acme'] })
    expect(state.pending).toBeUndefined()
    expect(first.peers[0]!.to).toBe(4)
    await expectConsistent()
    expect((await auditIndex(b.repo)).records).toBe(3)
  })

  it('makes no commit when nothing is new, after one conditional request', async () => {
    const before = await tip(b.repo)
    const logged = a.nginx.requests().length
    const result = await sync()
    expect(result.peers[0]).toMatchObject({ from: 4, to: 4, added: [], requests: 1, bytes: 0 })
    expect(result.peers[0]!.commit).toBeUndefined()
    expect(await tip(b.repo)).toBe(before)
    // One request, answered 304 (no body): the snapshot, which the earlier sync's ETag names.
    expect(requestsSince(a, logged)).toEqual(['GET /snapshot.json HTTP/1.1'])
  })

  it('fetches a new version alone: its record and its artifact, and no other', async () => {
    const record = await a.release('acme:calc', '1.1.0')
    const logged = a.nginx.requests().length
    const result = await sync()
    expect(names(result.added)).toEqual(['acme:calc@1.1.0'])
    const requests = requestsSince(a, logged)
    expect(requests.filter((r) => r.includes(' /index/packages/'))).toEqual([`GET /${recordPath('acme:calc', '1.1.0')} HTTP/1.1`])
    expect(requests.filter((r) => r.includes(' /artifacts/'))).toEqual([`GET /artifacts/sha256/${record.artifacts[0]!.sha256} HTTP/1.1`])
    // The rest is the snapshot's changed parts and leaves, config.json and the feed: a handful, whatever A holds.
    expect(requests.length).toBeLessThanOrEqual(16)
    expect(result.peers[0]!.requests).toBe(requests.length)
    await expectConsistent()
  })

  it('skips a tampered artifact and a record signed by an unknown key, imports the honest version beside them, and takes the repaired one later', async () => {
    const good = await a.release('acme:good', '1.0.0', { rebuild: false })
    const tampered = await a.release('acme:tampered', '1.0.0', { rebuild: false })
    const forged = await signedRecord(a.idx, { name: 'acme:forged', version: '1.0.0', bytes: component('forged'), key: generateKey() })
    await forceOnA([recordFile(forged) as { path: string; content: string }])
    await a.rebuild()
    // The host serves other bytes for one artifact (replaced, not written through: the build links A's store).
    const served = path.join(a.tree(), 'artifacts/sha256', tampered.artifacts[0]!.sha256)
    fs.rmSync(served)
    fs.writeFileSync(served, component('something else'))

    const result = await sync()
    expect(names(result.added)).toEqual([`acme:good@${good.version}`])
    expect(result.skipped.map((s) => [`${s.name}@${s.version}`, s.code, s.retry])).toEqual([
      ['acme:tampered@1.0.0', 'DIGEST_MISMATCH', true],
      ['acme:forged@1.0.0', 'SIGNATURE_INVALID', true],
    ])
    expect(result.skipped[0]!.reason).toMatch(/has sha256 [0-9a-f]{64}.*its signed record says/)
    expect(result.skipped[1]!.reason).toMatch(/does not verify: key [0-9a-f]{16} is not one of the trusted keys/)
    expect(await readFileAt(b.repo, MAIN, recordPath('acme:tampered', '1.0.0'))).toBeUndefined()
    expect(await readFileAt(b.repo, MAIN, recordPath('acme:forged', '1.0.0'))).toBeUndefined()
    expect(fs.existsSync(artifactPath(b.dir, tampered.artifacts[0]!.sha256))).toBe(false)
    expect(fs.existsSync(artifactPath(b.dir, sha256Hex(component('something else'))))).toBe(false)
    expect((await stateOf()).pending?.map((p) => p.name)).toEqual(['acme:tampered', 'acme:forged'])
    await expectConsistent()

    // The host is repaired: the next sync tries the waiting entries again, and the forged record stays out.
    fs.rmSync(served)
    fs.copyFileSync(artifactPath(a.idx.dir, tampered.artifacts[0]!.sha256), served)
    const again = await sync()
    expect(names(again.added)).toEqual(['acme:tampered@1.0.0'])
    expect(names(again.skipped)).toEqual(['acme:forged@1.0.0'])
    expect((await stateOf()).pending?.map((p) => p.name)).toEqual(['acme:forged'])
    await expectConsistent()
  })

  it('reports the same version under another digest as a conflict: the version here stays, both signed records are the evidence, exit 1 unless --allow-conflicts', async () => {
    const original = (await readJsonAt<VersionRecord>(b.repo, MAIN, recordPath('acme:calc', '1.0.0')))!
    const rival = await signedRecord(a.idx, { name: 'acme:calc', version: '1.0.0+rebuilt', bytes: component('rebuilt calc'), key: a.keys.acme!.key })
    await forceOnA([recordFile(rival) as { path: string; content: string }])
    await a.release('acme:extra', '1.0.0')
    const before = await tip(b.repo)

    const blocked = await sync()
    // Nothing is committed, so nothing is reported added (acme:extra waits with the conflict).
    expect(blocked.added).toEqual([])
    const [conflict] = blocked.conflicts
    expect(conflict).toMatchObject({ name: 'acme:calc', version: '1.0.0+rebuilt', here: { sha256: original.artifacts[0]!.sha256, record: original }, theirs: { sha256: rival.artifacts[0]!.sha256, record: rival } })
    expect(fs.existsSync(conflict!.evidence)).toBe(true)
    const evidence = JSON.parse(fs.readFileSync(conflict!.evidence, 'utf8')) as { here: { record: VersionRecord }; theirs: { record: VersionRecord } }
    expect(evidence.here.record.signature).toEqual(original.signature)
    expect(evidence.theirs.record.signature).toEqual(rival.signature)
    // Nothing from that peer is committed until the operator decides.
    expect(await tip(b.repo)).toBe(before)
    const text = await wharf(['sync', '--index', b.dir])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/! conflict acme:calc@1\.0\.0\+rebuilt: this registry holds sha256 [0-9a-f]{64}, the peer serves [0-9a-f]{64}/)
    expect(text.stderr).toMatch(/--allow-conflicts/)

    const allowed = await syncCli('--allow-conflicts')
    expect(allowed.code).toBe(0)
    expect(names(allowed.result!.added)).toEqual(['acme:extra@1.0.0'])
    expect(names(allowed.result!.conflicts)).toEqual(['acme:calc@1.0.0+rebuilt'])
    expect(await readJsonAt(b.repo, MAIN, recordPath('acme:calc', '1.0.0'))).toEqual(original)
    expect(await readFileAt(b.repo, MAIN, recordPath('acme:calc', '1.0.0+rebuilt'))).toBeUndefined()
    await expectConsistent()
  }, 120_000)

  it('imports yank notices from the authoritative peer, with the version they yank', async () => {
    const { yank } = await import('../client/helpers.js')
    await yank(a.idx, 'acme:calc', '1.1.0')
    await a.rebuild()
    const result = await sync()
    expect(result.added.map((e) => `${e.type} ${e.name}@${e.version}`)).toEqual(['yank acme:calc@1.1.0'])
    expect(await readFileAt(b.repo, MAIN, 'index/packages/acme/calc/1.1.0.yank.json')).toBeDefined()
    await expectConsistent()
  })
})

describe('what a peer names is fetched from public addresses only', () => {
  it("refuses a record's URL that redirects to 0.0.0.0 (this machine), and takes the peer's copy instead", async () => {
    const hits: string[] = []
    const inside = http.createServer((req, res) => {
      hits.push(req.url ?? '')
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.1', resolve))
    const redirector = http.createServer((_req, res) => res.writeHead(302, { location: `http://0.0.0.0:${(inside.address() as AddressInfo).port}/metadata` }).end())
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/calc.wasm`
      const record = await signedRecord(a.idx, { name: 'acme:redirected', version: '1.0.0', bytes: component('redirected'), url, key: a.keys.acme!.key })
      await forceOnA([recordFile(record) as { path: string; content: string }])
      await a.rebuild()
      // The record's URL is asked (loopback, as this registry's policy allows); the address it redirects to never is.
      const first = await sync()
      expect(first.skipped.find((s) => s.name === 'acme:redirected')?.reason).toMatch(/0\.0\.0\.0 resolves to 0\.0\.0\.0, an unspecified address; artifacts are fetched from public addresses only/)
      expect(hits).toEqual([])
      // The peer's own copy, once its host serves it, is taken instead.
      const sha = record.artifacts[0]!.sha256
      fs.mkdirSync(path.join(a.tree(), 'artifacts/sha256'), { recursive: true })
      fs.copyFileSync(artifactPath(a.idx.dir, sha), path.join(a.tree(), 'artifacts/sha256', sha))
      const second = await sync()
      expect(names(second.added)).toEqual(['acme:redirected@1.0.0'])
      expect(hits).toEqual([])
      expect(fs.existsSync(artifactPath(b.dir, sha))).toBe(true)
      await expectConsistent()
    } finally {
      inside.close()
      redirector.close()
    }
  }, 120_000)
})

describe("what this registry's own check would refuse", () => {
  /** Sets B's policy.limits.max_file_bytes, by a maintainer's commit past the gate. */
  async function limit(max: number): Promise<void> {
    const registry = (await readJsonAt<RegistryFile>(b.repo, MAIN, REGISTRY_PATH))!
    const next = { ...registry, policy: { ...registry.policy, limits: { ...registry.policy.limits, max_file_bytes: max } } }
    const head = await writeCommitWith(b.repo, { parents: [await tip(b.repo)], files: [{ path: REGISTRY_PATH, content: stableJson(next) }], message: withSubmitterTrailer('Policy', { login: 'admin' }), author: { login: 'admin' } })
    await setBranch(b.repo, MAIN, head)
  }

  it('skips a record over this registry\'s size limit, imports the honest version beside it, and takes it once the limit allows', async () => {
    const registry = (await readJsonAt<RegistryFile>(b.repo, MAIN, REGISTRY_PATH))!
    await a.release('acme:small', '1.0.0', { rebuild: false })
    const large = await signedRecord(a.idx, { name: 'acme:large', version: '1.0.0', bytes: component('large'), key: a.keys.acme!.key, description: 'x'.repeat(990) })
    await forceOnA([recordFile(large) as { path: string; content: string }])
    await a.rebuild()
    await limit(1500)
    try {
      const first = await sync()
      expect(first.failed).toEqual([])
      expect(names(first.added)).toEqual(['acme:small@1.0.0'])
      expect(first.skipped.find((e) => e.name === 'acme:large')).toMatchObject({ code: 'TOO_LARGE', retry: true, reason: expect.stringMatching(/acme\/large\/1\.0\.0\.json is over this registry's 1500-byte limit/) })
    } finally {
      await limit(registry.policy.limits.max_file_bytes)
    }
    expect(names((await sync()).added)).toEqual(['acme:large@1.0.0'])
    await expectConsistent()
  }, 120_000)

  it("skips the versions of a namespace whose file is over this registry's limit, and imports them once the limit allows", async () => {
    const registry = (await readJsonAt<RegistryFile>(b.repo, MAIN, REGISTRY_PATH))!
    // Many owners make a large namespace file: valid everywhere, but over a small limit.
    const acme = JSON.parse(Buffer.from((await readFileAt(a.idx.repo, MAIN, namespacePath('acme')))!).toString('utf8')) as NamespaceFile
    const owners = [...acme.owners, ...Array.from({ length: 60 }, (_, i) => ({ login: `owner-${i}` }))]
    await forceOnA([{ path: namespacePath('acme'), content: stableJson({ ...acme, owners }) }])
    await a.release('acme:later', '1.0.0')
    await limit(1500)
    try {
      const first = await sync()
      expect(first.failed).toEqual([])
      expect(first.added).toEqual([])
      expect(first.skipped.find((e) => e.name === 'acme:later')).toMatchObject({ code: 'TOO_LARGE', retry: true, reason: expect.stringMatching(/index\/namespaces\/acme\.json is over this registry's 1500-byte limit/) })
    } finally {
      await limit(registry.policy.limits.max_file_bytes)
    }
    expect(names((await sync()).added)).toEqual(['acme:later@1.0.0'])
    expect((await readJsonAt<NamespaceFile>(b.repo, MAIN, namespacePath('acme')))!.owners).toHaveLength(owners.length)
    await expectConsistent()
  }, 120_000)
})

describe('an artifact two records name', () => {
  it('is judged for each record that names it, even when an earlier batch of the sync staged it', async () => {
    const bytes = component('shared')
    const first = await signedRecord(a.idx, { name: 'acme:shared', version: '1.0.0', bytes, key: a.keys.acme!.key })
    // A second record names the same bytes as a .crate: a gzip archive they are not. Its signature is good.
    const [artifact] = first.artifacts
    const { signature: _, ...unsigned } = { ...first, name: 'acme:renamed', artifacts: [{ ...artifact!, name: 'renamed.crate' }] }
    const second = signDocument(unsigned, PAYLOAD_TYPES.record, parsePrivateKey(a.keys.acme!.key.privatePem)) as VersionRecord
    // Between them, more versions than the sync fetches at once, so the second comes in a later batch than the first.
    const fillers = await Promise.all(Array.from({ length: 64 }, (_, i) => signedRecord(a.idx, { name: 'acme:filler', version: `1.0.${i}`, bytes: component(`filler ${i}`), key: a.keys.acme!.key })))
    for (const batch of [[first], fillers, [second]]) await forceOnA(batch.map((r) => recordFile(r) as { path: string; content: string }))
    await a.rebuild()
    const result = await sync()
    expect(result.failed).toEqual([])
    expect(result.skipped.find((e) => e.name === 'acme:renamed')).toMatchObject({ code: 'INVALID_ARTIFACT', retry: false, reason: expect.stringMatching(/renamed\.crate\): a \.crate file must be a gzip archive/) })
    expect(result.added).toHaveLength(65)
    expect((await stateOf()).pending ?? []).not.toContainEqual(expect.objectContaining({ name: 'acme:renamed' }))
    await expectConsistent()
  }, 120_000)
})

describe('planSync, for a caller that commits another way', () => {
  it('returns the import as files, verified artifacts and a report, and leaves the index and store alone', async () => {
    const record = await a.release('acme:planned', '1.0.0')
    const before = await tip(b.repo)
    const cursor = (await stateOf()).cursor
    const plan = await planSync({ repo: b.repo, peer: 'a' })
    try {
      expect(plan).toMatchObject({ peer: 'a', base: before, changed: true })
      expect(names(plan.report.added)).toEqual(['acme:planned@1.0.0'])
      expect(plan.files.map((f) => f.path)).toEqual([recordPath('acme:planned', '1.0.0'), peerStatePath('a')])
      const [recordFile_, stateFile] = plan.files
      // The bytes a pull request commits: the record byte for byte as A holds it, and the advanced cursor.
      expect(recordFile_!.content).toBe(Buffer.from((await readFileAt(a.idx.repo, MAIN, recordPath('acme:planned', '1.0.0')))!).toString('utf8'))
      expect(JSON.parse(stateFile!.content)).toMatchObject({ peer: 'a', cursor: plan.report.to })
      expect(plan.report.to).toBeGreaterThan(cursor)
      const [artifact] = plan.artifacts
      expect(artifact).toMatchObject({ sha256: record.artifacts[0]!.sha256, size: record.artifacts[0]!.size })
      expect(sha256Hex(fs.readFileSync(artifact!.file))).toBe(artifact!.sha256)
      expect(await tip(b.repo)).toBe(before)
      expect(fs.existsSync(artifactPath(b.dir, artifact!.sha256))).toBe(false)
    } finally {
      await plan.dispose()
    }
    expect(fs.existsSync(plan.artifacts[0]!.file)).toBe(false)
    // The local sync then imports the same.
    expect(names((await sync()).added)).toEqual(['acme:planned@1.0.0'])
    await expectConsistent()
  })
})

describe('a namespace the maintainers move to another peer', () => {
  it('is taken over by the peer registry.json delegates it to now, which becomes its authority', async () => {
    // The same registry under a new name, as after its operators renamed it: a maintainer's edit, through the gate.
    const registry = (await readJsonAt<RegistryFile>(b.repo, MAIN, REGISTRY_PATH))!
    const renamed = { ...registry, peers: registry.peers.map((p) => (p.name === 'a' ? { ...p, name: 'a2' } : p)) }
    const edit = await writeCommitWith(b.repo, { parents: [await tip(b.repo)], files: [{ path: REGISTRY_PATH, content: stableJson(renamed) }], message: withSubmitterTrailer('Rename peer a', { login: 'admin' }), author: { login: 'admin' } })
    expect((await runCheck({ repo: b.repo, base: MAIN, head: edit, author: { login: 'admin' } })).findings).toEqual([])
    await setBranch(b.repo, MAIN, edit)
    await a.release('acme:moved', '1.0.0')
    // Read from the start of A's feed, as for any new peer: the conflict found earlier is found again, and set aside.
    const result = await sync({ allowConflicts: true })
    expect(result.failed).toEqual([])
    expect(names(result.added), JSON.stringify(result.skipped)).toEqual(['acme:moved@1.0.0'])
    expect(result.skipped.filter((s) => s.code === 'FORBIDDEN')).toEqual([])
    expect((await readJsonAt<NamespaceFile>(b.repo, MAIN, namespacePath('acme')))!.authority).toBe('a2')
    expect((await readJsonAt<PeerState>(b.repo, MAIN, peerStatePath('a2')))!.namespaces).toEqual(['acme'])
    await expectConsistent()

    // And back: the old name takes it again, with the versions published meanwhile.
    const back = await writeCommitWith(b.repo, { parents: [await tip(b.repo)], files: [{ path: REGISTRY_PATH, content: stableJson(registry) }], message: withSubmitterTrailer('Rename peer a2 back', { login: 'admin' }), author: { login: 'admin' } })
    await setBranch(b.repo, MAIN, back)
    await a.release('acme:back', '1.0.0')
    expect(names((await sync()).added)).toEqual(['acme:back@1.0.0'])
    expect((await readJsonAt<NamespaceFile>(b.repo, MAIN, namespacePath('acme')))!.authority).toBe('a')
    await expectConsistent()
  })
})

describe('wharf sync under faults', () => {
  it('never takes a namespace B defines itself, even when registry.json is edited to delegate it', async () => {
    await a.release('mine:tool', '2.0.0')
    const registry = (await readJsonAt<RegistryFile>(b.repo, MAIN, REGISTRY_PATH))!
    const edit = async (peers: RegistryFile['peers']) => {
      // A maintainer's hand edit, committed past the gate (which refuses it: federation/peers).
      const head = await writeCommitWith(b.repo, { parents: [await tip(b.repo)], files: [{ path: REGISTRY_PATH, content: stableJson({ ...registry, peers }) }], message: withSubmitterTrailer('Edit peers', { login: 'admin' }), author: { login: 'admin' } })
      await setBranch(b.repo, MAIN, head)
    }
    await edit([{ ...registry.peers[0]!, namespaces: ['acme', 'mine'] }])
    const result = await sync()
    // Newly delegated, so read from the start of A's feed: A's mine:tool@1.0.0 (another digest) and 2.0.0.
    expect(result.skipped.map((s) => [`${s.name}@${s.version}`, s.retry])).toEqual([
      ['mine:tool@1.0.0', false],
      ['acme:forged@1.0.0', true],
      ['mine:tool@2.0.0', false],
    ])
    expect(result.skipped[0]!.reason).toMatch(/namespace "mine" is defined by this registry, which never takes it from a peer/)
    expect(result.conflicts).toEqual([])
    expect(await readJsonAt(b.repo, MAIN, recordPath('mine:tool', '1.0.0'))).toEqual(b.tool)
    expect(await readFileAt(b.repo, MAIN, recordPath('mine:tool', '2.0.0'))).toBeUndefined()
    expect((await readJsonAt<NamespaceFile>(b.repo, MAIN, namespacePath('mine')))!.authority).toBeUndefined()
    await edit(registry.peers)
    await expectConsistent()
  })

  it('finishes or undoes a sync cut at any step of its commit: main at the old tip or the new one, no orphan', async () => {
    for (const [step, version] of [
      ['store', '2.0.0'],
      ['propose', '2.1.0'],
      ['merge', '2.2.0'],
    ] as const) {
      await a.release('acme:crash', version)
      const before = await tip(b.repo)
      const cut = await wharf(['sync', '--index', b.dir], { env: { WHARF_TEST_CRASH_AT: step } })
      expect(cut.code, step).not.toBe(0)
      expect(await tip(b.repo) !== before, step).toBe(step === 'merge')
      const rerun = await syncCli()
      expect(rerun.code, `${step}: ${rerun.stderr}`).toBe(0)
      expect(await readFileAt(b.repo, MAIN, recordPath('acme:crash', version)), step).toBeDefined()
      await expectConsistent()
    }
    // Six whole processes (a cut run and its rerun per step): room for a loaded machine.
  }, 240_000)

  it('changes nothing when A goes down in the middle of a sync, and says so in one line when it is down', async () => {
    await a.release('acme:late', '1.0.0')
    const before = await tip(b.repo)
    const state = await stateOf()
    let down = false
    const fetch = async (url: string, init?: RequestInit) => {
      if (!down && url.includes('/artifacts/')) {
        down = true
        await a.nginx.stop()
      }
      return globalThis.fetch(url, init)
    }
    const error = await syncIndex({ repo: b.repo, peer: 'a', fetch }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(down).toBe(true)
    expect(isWharfError(error) && { code: error.code, message: error.message, hint: error.hint }).toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringMatching(/^peer "a" \(http:\/\/127\.0\.0\.1:\d+\): cannot reach/),
      hint: expect.stringMatching(/^nothing was imported/),
    })
    expect(await tip(b.repo)).toBe(before)
    expect(await stateOf()).toEqual(state)
    await expectConsistent()

    const cli = await wharf(['sync', '--index', b.dir])
    expect(cli.code).toBe(1)
    expect(cli.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^wharf: peer "a" .*cannot reach .*nothing was imported/)])
    expect(await tip(b.repo)).toBe(before)
  }, 120_000)
})

describe('what only an import may add', () => {
  it('refuses a version published into a delegated namespace here, by its owner at the peer or by a maintainer', async () => {
    // alice owns acme at A, and B's copy of the namespace file lists her; here she publishes nothing.
    const file = path.join(b.dir, '.wharf', 'local.wasm')
    fs.writeFileSync(file, component('local'))
    const proposal = await publishToIndex(b.repo, { artifact: file, name: 'acme:calc', version: '9.0.0', privateKey: a.keys.acme!.key.privatePem, author: 'alice' })
    const byOwner = await mergeProposal(b.repo, { branch: proposal.branch, author: { login: 'alice' } })
    expect(byOwner.merged).toBe(false)
    expect(byOwner.check.findings).toEqual([expect.objectContaining({ rule: 'federation/delegated', message: expect.stringMatching(/delegated to peer "a": nothing is published into it here/) })])
    const byMaintainer = await runCheck({ repo: b.repo, base: MAIN, head: proposal.branch, author: { login: 'admin' } })
    expect(byMaintainer.findings.map((f) => f.rule)).toEqual(['federation/delegated'])

    // Nor may an owner at the peer change the namespace file, or anyone but a maintainer move a cursor.
    const acme = (await readJsonAt<NamespaceFile>(b.repo, MAIN, namespacePath('acme')))!
    const extraKey = generateKey()
    const keyAdded = { ...acme, keys: [...acme.keys, { id: extraKey.id, algorithm: 'ed25519' as const, public_key: extraKey.publicKey, added: acme.created_at }] }
    const edit = await writeCommitWith(b.repo, { parents: [await tip(b.repo)], files: [{ path: namespacePath('acme'), content: stableJson(keyAdded) }], message: 'Add a key', author: { login: 'alice' } })
    expect((await runCheck({ repo: b.repo, base: MAIN, head: edit, author: { login: 'alice' } })).findings.map((f) => f.rule)).toEqual(['federation/delegated'])
    const state = await stateOf()
    const cursor = await writeCommitWith(b.repo, { parents: [await tip(b.repo)], files: [{ path: peerStatePath('a'), content: stableJson({ ...state, cursor: 0 }) }], message: 'Rewind', author: { login: 'dave' } })
    expect((await runCheck({ repo: b.repo, base: MAIN, head: cursor, author: { login: 'dave' } })).findings.map((f) => f.rule)).toEqual(['federation/import'])
  })

  it('audit flags a version put into a delegated namespace past the gate', async () => {
    const clone = path.join(path.dirname(b.dir), 'audit-clone')
    execFileSync('git', ['clone', '-q', b.dir, clone])
    const repo = openRepo(clone)
    // Signed by the namespace's own key, yet not imported: no cursor moved with it.
    const sneaked = await signedRecord(a.idx, { name: 'acme:calc', version: '7.0.0', bytes: component('seven') })
    const head = await writeCommitWith(repo, { parents: [await tip(repo)], files: [recordFile(sneaked) as { path: string; content: string }], message: withSubmitterTrailer('Sneak in', { login: 'admin' }), author: { login: 'admin' } })
    await setBranch(repo, MAIN, head)
    const audit = await auditIndex(repo)
    expect(audit.violations).toEqual([{ commit: head, file: recordPath('acme:calc', '7.0.0'), message: expect.stringMatching(/delegated to peer "a", by something other than an import/) }])
  })
})

