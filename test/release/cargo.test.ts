/**
 * A crate through GitHub mode end to end, with real cargo: `wharf publish
 * --crate --github` (cargo package, release asset, pull request), the merge,
 * `wharf release`, then `build-api --releases` served by nginx, and cargo
 * building an application that depends on the crate: the sparse index is
 * nginx's, the `.crate` comes from the index repo's release asset (a 302 to
 * storage on the emulator) through Cargo's `dl` template.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VersionRecord } from '../../src/core/types.js'
import { mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { client, clone, tempDir, useEmulator } from '../github/helpers.js'
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
    const published = await wharf(['publish', '--crate', crateDir, '--github', 'alice/registry', '--from', 'alice/greet', '--key', path.join(work, 'alice.key'), '--author', 'alice', '--json'], { env: { ...env, GITHUB_TOKEN: token } })
    expect(published.code, published.stderr).toBe(0)
    const { record, pullRequest } = JSON.parse(published.stdout) as { record: VersionRecord; pullRequest: { number: number } }
    expect(record).toMatchObject({ name: 'crates:wharf-greet', kind: 'crate', crate: { name: 'wharf_greet' }, artifacts: [{ name: 'wharf_greet-0.1.0.crate', url: `${ctx.emu.urls.html}/alice/greet/releases/download/v0.1.0/wharf_greet-0.1.0.crate` }] })

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
