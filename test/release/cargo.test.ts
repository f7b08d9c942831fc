/**
 * A crate through GitHub mode end to end, with real cargo: `wharf publish
 * --crate --github` (cargo package, release asset, pull request), the merge,
 * `wharf release`, then `build-api --releases` served by nginx, and cargo
 * building an application that depends on the crate: the sparse index is
 * nginx's, the `.crate` comes from the index repo's release asset (a 302 to
 * storage on the emulator) through Cargo's `dl` template. Without --name the
 * package goes in the namespace the index's policy names for crates, read
 * from its registry.json in one REST call.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stableJson } from '../../src/core/canonical.js'
import { recordPath, REGISTRY_PATH } from '../../src/core/layout.js'
import type { RegistryFile, VersionRecord } from '../../src/core/types.js'
import { MAIN, readJsonAt, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { mergeProposal, proposeNamespace, type GitHubPublishResult } from '../../src/publish/index.js'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { client, clone, git, tempDir, useEmulator } from '../github/helpers.js'
import { CARGO, runGreetApp } from './cargo-app.js'

const ctx = useEmulator()

let idx: TestIndex
let work: string
let nginx: Nginx | undefined
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  ctx.emu.createUser('alice')
  work = await tempDir('wharf-release-cargo-')
  idx = await createTestIndex({ maintainer: 'alice', owners: [{ login: 'alice' }] })
  const claim = await proposeNamespace(idx.repo, { namespace: 'crates', owners: [{ login: 'alice' }], publicKey: idx.key.publicPem, author: 'alice' })
  expect((await mergeProposal(idx.repo, { branch: claim.branch, author: { login: 'alice' } })).merged).toBe(true)
  await fs.promises.writeFile(path.join(work, 'alice.key'), idx.key.privatePem, { mode: 0o600 })
  await ctx.emu.createRepo('alice/registry', { from: idx.dir })
  await ctx.emu.createRepo('alice/greet', { files: { 'README.md': '# greet\n' } })
  await fs.promises.mkdir(path.join(work, 'cargo-home'))
  env = { CARGO: CARGO, CARGO_HOME: path.join(work, 'cargo-home'), PATH: `${path.dirname(CARGO)}:${process.env.PATH}`, CARGO_TERM_COLOR: 'never', XDG_CONFIG_HOME: path.join(work, '.config'), GITHUB_API_URL: ctx.emu.urls.api }
}, 60_000)

afterAll(async () => {
  await nginx?.stop()
})

describe('a crate published to GitHub and built by cargo from the release asset', () => {
  it('publishes, releases, and cargo builds a dependent from the deployed output', async () => {
    const token = ctx.emu.mintToken({ user: 'alice' })
    const crateDir = path.join(work, 'greet')
    await fs.promises.cp(path.resolve('test/fixtures/api/crates/greet'), crateDir, { recursive: true })
    const mark = ctx.emu.requests.length
    const published = await wharf(['publish', '--crate', crateDir, '--github', 'alice/registry', '--from', 'alice/greet', '--key', path.join(work, 'alice.key'), '--author', 'alice', '--json'], { env: { ...env, GITHUB_TOKEN: token } })
    expect(published.code, published.stderr).toBe(0)
    const { record, pullRequest, requests } = JSON.parse(published.stdout) as GitHubPublishResult
    expect(record).toMatchObject({ name: 'crates:wharf-greet', kind: 'crate', crate: { name: 'wharf_greet' }, artifacts: [{ name: 'wharf_greet-0.1.0.crate', url: `${ctx.emu.urls.html}/alice/greet/releases/download/v0.1.0/wharf_greet-0.1.0.crate` }] })
    // The index's registry.json names the crates namespace (crates, as `wharf init` writes it): one read, counted with the rest.
    const made = ctx.emu.requests.slice(mark)
    expect(made.filter((r) => r.operationId === 'repos/get-content')).toHaveLength(1)
    expect(requests).toBe(made.length)

    const gh = client(ctx.emu, token)
    const repo = { owner: 'alice', repo: 'registry' }
    const before = (await gh.git.getRef(repo, 'heads/main'))!.sha
    const pull = await gh.pulls.get(repo, pullRequest.number)
    const after = (await gh.pulls.merge(repo, pull.number, { expectedHeadSha: pull.head.sha })).sha
    const index = await clone(ctx.emu, 'alice/registry', token)
    const workflow = ctx.emu.mintToken({ permissions: { contents: 'write' }, repositories: ['alice/registry'] })
    const released = await wharf(['release', '--github', 'alice/registry', '--index', index, '--before', before, '--after', after, '--json'], { env: { ...env, GITHUB_TOKEN: workflow } })
    expect(released.code, released.stderr).toBe(0)
    expect(JSON.parse(released.stdout)).toMatchObject({ uploaded: 1, versions: [{ tag: 'wharf_greet@0.1.0', assets: [{ name: 'wharf_greet-0.1.0.crate', status: 'uploaded' }] }] })

    const out = path.join(work, 'public')
    const built = await wharf(['build-api', '--index', index, '--out', out, '--base-url', 'http://registry.invalid', '--releases', `${ctx.emu.urls.html}/alice/registry`, '--no-site'], {
      env: { ...env, WHARF_REGISTRY_KEY: await fs.promises.readFile(path.join(idx.dir, '.wharf/registry.key'), 'utf8') },
    })
    expect(built.code, built.stderr).toBe(0)
    nginx = await startNginx(await fs.promises.realpath(out))
    const before302 = ctx.emu.requests.length
    const ran = await runGreetApp(path.join(work, 'app'), nginx.url, 'release', env)
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stdout.trim()).toBe('Hello, release!')
    // cargo fetched the .crate from the index repo's release: the download URL answered 302, storage the bytes.
    const hits = ctx.emu.requests.slice(before302).map((r) => `${r.status} ${r.path}`)
    expect(hits).toContain(`302 /alice/registry/releases/download/wharf_greet@0.1.0/wharf_greet-0.1.0.crate`)
    expect(hits.some((h) => h.startsWith('200 /_storage/'))).toBe(true)
    expect(ran.lock()).toContain(`checksum = "${record.crate!.cksum}"`)
  }, 480_000)
})

describe("a crate published to GitHub goes in the namespace the index's policy names for crates", () => {
  let rustIndex: TestIndex
  let key: string

  beforeAll(async () => {
    // An index whose crates namespace is rust, which alice owns and may publish into.
    rustIndex = await createTestIndex({ maintainer: 'alice', owners: [{ login: 'alice' }] })
    const claim = await proposeNamespace(rustIndex.repo, { namespace: 'rust', owners: [{ login: 'alice' }], publicKey: rustIndex.key.publicPem, author: 'alice' })
    expect((await mergeProposal(rustIndex.repo, { branch: claim.branch, author: { login: 'alice' } })).merged).toBe(true)
    const registry = (await readJsonAt<RegistryFile>(rustIndex.repo, MAIN, REGISTRY_PATH))!
    registry.policy.namespaces.crates = 'rust'
    const head = await writeCommitWith(rustIndex.repo, { parents: [await resolveCommit(rustIndex.repo, MAIN)], files: [{ path: REGISTRY_PATH, content: stableJson(registry) }], message: 'Crates go in rust', author: { login: 'alice' } })
    await setBranch(rustIndex.repo, MAIN, head)
    await ctx.emu.createRepo('alice/rust-registry', { from: rustIndex.dir })
    await ctx.emu.createRepo('alice/greet-rust', { files: { 'README.md': '# greet\n' } })
    key = path.join(work, 'rust.key')
    await fs.promises.writeFile(key, rustIndex.key.privatePem, { mode: 0o600 })
  }, 60_000)

  it('proposes rust:<crate>, which wharf check accepts, after one read of registry.json; a given --name reads nothing', async () => {
    const token = ctx.emu.mintToken({ user: 'alice' })
    const crateDir = path.join(work, 'greet-rust')
    await fs.promises.cp(path.resolve('test/fixtures/api/crates/greet'), crateDir, { recursive: true })
    const publish = (...more: string[]) =>
      wharf(['publish', '--crate', crateDir, '--github', 'alice/rust-registry', '--from', 'alice/greet-rust', '--key', key, '--author', 'alice', '--json', ...more], { env: { ...env, GITHUB_TOKEN: token } })

    const mark = ctx.emu.requests.length
    const published = await publish()
    expect(published.code, published.stderr).toBe(0)
    const result = JSON.parse(published.stdout) as GitHubPublishResult
    expect(result.record).toMatchObject({ name: 'rust:wharf-greet', kind: 'crate', crate: { name: 'wharf_greet' } })
    expect(result.head.branch).toBe('publish/rust/wharf-greet/0.1.0')
    const made = ctx.emu.requests.slice(mark)
    expect(made.filter((r) => r.operationId === 'repos/get-content').map((r) => [r.method, decodeURIComponent(r.path), r.status])).toEqual([['GET', '/api/v3/repos/alice/rust-registry/contents/index/registry.json', 200]])
    expect(made[0]!.operationId).toBe('repos/get-content')
    expect(result.requests).toBe(made.length)
    const gh = client(ctx.emu, token)
    const { files } = await gh.pulls.listFiles({ owner: 'alice', repo: 'rust-registry' }, result.pullRequest.number)
    expect(files.map((f) => [f.filename, f.status])).toEqual([[recordPath('rust:wharf-greet', '0.1.0'), 'added']])

    // The gate accepts it: namespace rust exists and alice owns it.
    const dir = await clone(ctx.emu, 'alice/rust-registry', token)
    await git(dir, 'fetch', '--quiet', 'origin', `pull/${result.pullRequest.number}/head:pr`)
    const checked = await wharf(['check', '--index', dir, '--base', 'main', '--head', 'pr', '--author', 'alice', '--json'], { env })
    expect(checked.code, checked.stdout + checked.stderr).toBe(0)
    expect(JSON.parse(checked.stdout)).toMatchObject({ accepted: true, findings: [] })

    // A crate's package is named after it: --name picks only the namespace, and another name is refused before any request.
    const wrong = ctx.emu.requests.length
    const misnamed = await publish('--name', 'rust:greeting', '--tag', 'v0.1.0-named')
    expect(misnamed.code).toBe(2)
    expect(misnamed.stderr).toContain('--name rust:greeting: crate wharf_greet is published as rust:wharf-greet')
    expect(ctx.emu.requests.length).toBe(wrong)

    // A name given needs no registry.json: one call fewer.
    const renamed = path.join(work, 'greeting-rust')
    await fs.promises.cp(path.resolve('test/fixtures/api/crates/greet'), renamed, { recursive: true })
    const manifest = path.join(renamed, 'Cargo.toml')
    await fs.promises.writeFile(manifest, (await fs.promises.readFile(manifest, 'utf8')).replace('name = "wharf_greet"', 'name = "greeting"'))
    const again = ctx.emu.requests.length
    const named = await wharf(['publish', '--crate', renamed, '--github', 'alice/rust-registry', '--from', 'alice/greet-rust', '--key', key, '--author', 'alice', '--json', '--name', 'rust:greeting', '--tag', 'v0.1.0-named'], {
      env: { ...env, GITHUB_TOKEN: token },
    })
    expect(named.code, named.stderr).toBe(0)
    const namedResult = JSON.parse(named.stdout) as GitHubPublishResult
    expect(namedResult.record).toMatchObject({ name: 'rust:greeting', crate: { name: 'greeting' } })
    expect(ctx.emu.requests.slice(again).map((r) => r.operationId)).not.toContain('repos/get-content')
    expect(namedResult.requests).toBe(ctx.emu.requests.length - again)
  }, 480_000)

  it('refuses, before cargo runs, an index repo without a registry.json, and one whose registry.json is not a registry file', async () => {
    const token = ctx.emu.mintToken({ user: 'alice' })
    await ctx.emu.createRepo('alice/not-an-index', { files: { 'README.md': '# nothing here\n' } })
    // A registry file but for one field, whose name would clear a terminal.
    const registry = (await readJsonAt<RegistryFile>(rustIndex.repo, MAIN, REGISTRY_PATH))!
    await ctx.emu.createRepo('alice/broken-index', { files: { [REGISTRY_PATH]: JSON.stringify({ ...registry, '\u001b[2J': 1 }) } })
    // No Cargo.toml: a run that got as far as cargo would fail differently.
    const empty = await tempDir('wharf-no-crate-')
    const publish = (index: string) => wharf(['publish', '--crate', empty, '--github', index, '--from', 'alice/greet-rust', '--key', key, '--author', 'alice', '--json'], { env: { ...env, GITHUB_TOKEN: token } })

    const missing = await publish('alice/not-an-index')
    expect(missing.code).toBe(2)
    expect(JSON.parse(missing.stderr)).toMatchObject({ code: 'NOT_AN_INDEX', error: expect.stringContaining('alice/not-an-index has no index/registry.json on its default branch'), hint: expect.stringContaining('wharf init --github') })

    const broken = await publish('alice/broken-index')
    expect(broken.code).toBe(2)
    const error = JSON.parse(broken.stderr) as { code: string; error: string; hint: string }
    expect(error).toMatchObject({ code: 'NOT_AN_INDEX', error: expect.stringContaining('index/registry.json of alice/broken-index is not a valid registry file') })
    expect(error.hint).toContain('--name')
    // The field's escape character is shown escaped, never sent to the terminal.
    expect(error.error).toContain('unknown field "\\u001b[2J"')
    expect(error.error).not.toContain('\u001b')
  }, 60_000)
})
