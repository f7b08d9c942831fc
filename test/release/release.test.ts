/**
 * The release library's refusals, on the emulator with a real index clone:
 * an artifact that changed after the gate, GitHub's 2 GiB limit, and an
 * asset of the same name holding other bytes. Each refused version leaves
 * nothing behind, and the other versions of the push still ship.
 */
import dns from 'node:dns'
import fs from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { sha256Hex } from '../../src/core/hash.js'
import { parsePrivateKey } from '../../src/core/keys.js'
import { recordPath } from '../../src/core/layout.js'
import { cargoReleaseDl, releaseAssetName, releaseAssetUrl, releaseTag } from '../../src/core/release-assets.js'
import type { RegistryFile, VersionRecord } from '../../src/core/types.js'
import { openRepo } from '../../src/git/index.js'
import { releaseVersions } from '../../src/publish/index.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'
import { client, clone, git, useEmulator } from '../github/helpers.js'

describe('release tags and asset names', () => {
  const rec = (name: string, version: string, crate?: string) => ({ name, version, kind: crate ? ('crate' as const) : ('component' as const), ...(crate ? { crate: { name: crate, cksum: '' } } : {}) })
  it.each([
    [rec('wasi:http', '0.2.0'), 'wasi.http@0.2.0'],
    [rec('run:calc/calculator', '0.1.0'), 'run.calc.calculator@0.1.0'],
    [rec('a-b:c-d/e', '1.0.0-rc.1+build.5'), 'a-b.c-d.e@1.0.0-rc.1+build.5'],
    [rec('crates:my-crate', '1.2.0', 'My_Crate'), 'My_Crate@1.2.0'],
    // A git ref may not end in ".lock"; "_" never occurs in a version.
    [rec('acme:x', '1.0.0-a.lock'), 'acme.x@1.0.0-a.lock_'],
  ])('tags %j as %s', (record, tag) => {
    expect(releaseTag(record)).toBe(tag)
    expect(tag).not.toMatch(/[:~^?*[\\\s]|\.\.|@\{|\.lock$|\/|^\.|\.$/)
  })

  it('names a crate asset as cargo does, so the sparse index dl template reaches it', () => {
    const crate = { name: 'crates:my-crate', version: '1.2.0', kind: 'crate' as const, crate: { name: 'My_Crate', cksum: '' } }
    expect(releaseAssetName(crate, { name: 'My_Crate-1.2.0.crate' })).toBe('My_Crate-1.2.0.crate')
    const dl = cargoReleaseDl('https://github.com/acme/registry/')
    expect(dl.replaceAll('{crate}', 'My_Crate').replaceAll('{version}', '1.2.0')).toBe(decodeURIComponent(releaseAssetUrl('https://github.com/acme/registry', crate, { name: 'x.crate' })))
  })
})

describe('release refusals', { timeout: 120_000 }, () => {
  const ctx = useEmulator()
  let idx: TestIndex
  let token: string
  let dir: string
  const index = { owner: 'acme', repo: 'registry' }

  /** A record signed with the namespace key whose artifact is served at `url`, claiming `bytes`. */
  const record = (name: string, version: string, bytes: Buffer, url: string, size = bytes.length): VersionRecord =>
    signDocument(
      {
        schema: 'wharf:record/v1' as const,
        name,
        version,
        kind: 'component' as const,
        description: '',
        dependencies: [],
        targets: ['wasm32-wasip2'],
        artifacts: [{ name: 'app.wasm', target: 'wasm32-wasip2', url, sha256: sha256Hex(bytes), size }],
        published_at: '2026-01-01T00:00:00Z',
        publisher: { login: 'alice' },
      },
      PAYLOAD_TYPES.record,
      parsePrivateKey(idx.key.privatePem),
    ) as VersionRecord

  beforeAll(async () => {
    ctx.emu.createUser('alice')
    idx = await createTestIndex({ maintainer: 'alice', owners: [{ login: 'alice' }] })
    await ctx.emu.createRepo('acme/registry', { from: idx.dir, collaborators: { alice: 'admin' } })
    await ctx.emu.createRepo('acme/app', { files: { 'README.md': '# app\n' }, collaborators: { alice: 'write' } })
    token = ctx.emu.mintToken({ user: 'alice' })
    dir = await clone(ctx.emu, 'acme/registry', token)
  })

  /** Commits records straight onto main (as a merge would) and pushes; returns [before, after]. */
  async function push(records: VersionRecord[]): Promise<[string, string]> {
    const before = (await git(dir, 'rev-parse', 'HEAD')).trim()
    for (const r of records) {
      const file = path.join(dir, recordPath(r.name, r.version))
      await fs.promises.mkdir(path.dirname(file), { recursive: true })
      await fs.promises.writeFile(file, stableJson(r))
    }
    await git(dir, 'add', '-A')
    await git(dir, 'commit', '--quiet', '-m', 'Merge')
    await git(dir, 'push', '--quiet', 'origin', 'main')
    return [before, (await git(dir, 'rev-parse', 'HEAD')).trim()]
  }

  it('refuses an artifact that changed after the gate and one beyond 2 GiB, and still ships the rest', async () => {
    const gh = client(ctx.emu, token)
    const appRelease = await gh.releases.create({ owner: 'acme', repo: 'app' }, { tag: 'v1' })
    const good = component('good')
    const swapped = component('swapped')
    const goodAsset = await gh.releases.uploadAsset(appRelease, { name: 'good.wasm', data: good })
    const swappedAsset = await gh.releases.uploadAsset(appRelease, { name: 'swapped.wasm', data: swapped })
    const [before, after] = await push([
      record('acme:good', '1.0.0', good, goodAsset.browserDownloadUrl),
      record('acme:swapped', '1.0.0', component('what the gate saw'), swappedAsset.browserDownloadUrl),
      record('acme:huge', '1.0.0', good, goodAsset.browserDownloadUrl, 3 * 1024 ** 3),
    ])
    const result = await releaseVersions({ github: gh, index, repo: openRepo(dir), before, after })
    const by = new Map(result.versions.map((v) => [v.name, v]))
    expect(by.get('acme:good')).toMatchObject({ tag: 'acme.good@1.0.0', assets: [{ name: 'app.wasm', status: 'uploaded' }] })
    expect(by.get('acme:good')!.error).toBeUndefined()
    expect(by.get('acme:swapped')!.error).toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringMatching(/the record says \d+ bytes, sha256/) })
    expect(by.get('acme:huge')!.error).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('a GitHub release asset holds at most 2 GiB') })
    // The oversized version made no release; the swapped one made its release but uploaded nothing.
    expect(await gh.releases.getByTag(index, 'acme.huge@1.0.0')).toBeUndefined()
    expect((await gh.releases.getByTag(index, 'acme.swapped@1.0.0'))!.assets).toEqual([])
    expect(result.uploaded).toBe(1)
  })

  it('refuses to count an asset of the same name with other bytes as released', async () => {
    const gh = client(ctx.emu, token)
    const bytes = component('real')
    const appRelease = await gh.releases.create({ owner: 'acme', repo: 'app' }, { tag: 'v2' })
    const asset = await gh.releases.uploadAsset(appRelease, { name: 'real.wasm', data: bytes })
    // Someone put other bytes under the asset's name in the index's release first.
    const squatted = await gh.releases.create(index, { tag: 'acme.squat@1.0.0' })
    await gh.releases.uploadAsset(squatted, { name: 'app.wasm', data: component('squatter') })
    const [before, after] = await push([record('acme:squat', '1.0.0', bytes, asset.browserDownloadUrl)])
    const result = await releaseVersions({ github: gh, index, repo: openRepo(dir), before, after })
    expect(result.versions[0]!.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already has an asset app.wasm with other bytes') })
    expect(result.uploaded).toBe(0)
  })

  it('fetches from public addresses only, and a record that is not JSON costs only itself', async () => {
    const gh = client(ctx.emu, token)
    // This machine's own name (not "localhost", which is refused by name), over https, which the policy's
    // http-to-loopback allowance does not cover: only a fetch that resolves the name first sees where it points.
    const host = os.hostname()
    const addresses = await dns.promises.lookup(host, { all: true })
    expect(addresses.map((a) => a.address), `${host} should resolve to this machine (/etc/hosts)`).toEqual([expect.stringMatching(/^127\./)])
    let connections = 0
    const inside = net.createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => inside.listen(0, '127.0.0.1', resolve))
    try {
      const registryFile = path.join(dir, 'index/registry.json')
      const registry = JSON.parse(fs.readFileSync(registryFile, 'utf8')) as RegistryFile
      fs.writeFileSync(registryFile, stableJson({ ...registry, policy: { ...registry.policy, urls: { ...registry.policy.urls, allow_http_loopback: false } } }))
      const bytes = component('inside')
      const [before, after] = await push([record('acme:inside', '1.0.0', bytes, `https://${host}:${(inside.address() as AddressInfo).port}/app.wasm`)])
      const broken = path.join(dir, recordPath('acme:broken', '1.0.0'))
      await fs.promises.mkdir(path.dirname(broken), { recursive: true })
      fs.writeFileSync(broken, '{"name": ')
      await git(dir, 'add', '-A')
      await git(dir, 'commit', '--quiet', '-m', 'Merge')
      await git(dir, 'push', '--quiet', 'origin', 'main')
      const head = (await git(dir, 'rev-parse', 'HEAD')).trim()
      const result = await releaseVersions({ github: gh, index, repo: openRepo(dir), before, after: head })
      const by = new Map(result.versions.map((v) => [v.name, v]))
      expect(by.get('acme:inside')!.error).toMatchObject({ code: 'FETCH_REFUSED', message: expect.stringMatching(new RegExp(`^${host} resolves to 127\\.[\\d.]+, .*public addresses only`)) })
      expect(connections).toBe(0)
      expect(by.get(recordPath('acme:broken', '1.0.0'))!.error).toMatchObject({ code: 'INVALID_RECORD', message: expect.stringContaining('it is not JSON') })
      expect(after).not.toBe(head)
    } finally {
      inside.close()
    }
  })
})
