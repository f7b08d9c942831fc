/**
 * GitHub mode on the emulator, through the real interfaces: `wharf publish
 * --github` from a terminal (the spawned binary) uploads the artifact to the
 * component repo's release and opens a pull request on the index repo,
 * directly or from a fork; the gate accepts what it proposes; after the
 * merge, `wharf release` mirrors the artifact to a release of the index repo,
 * whose download (a 302 to storage, followed) hashes to the record's sha256;
 * a re-run uploads nothing; and `wharf build-api --releases` output served
 * by nginx names that asset as download_url, while `wharf install` installs
 * from it.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { releaseAssetUrl, releaseTag } from '../../src/core/release-assets.js'
import type { VersionRecord } from '../../src/core/types.js'
import type { GitHubPublishResult, ReleaseResult } from '../../src/publish/index.js'
import { PAYLOAD_TYPES, verifyDocument } from '../../src/core/dsse.js'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, type TestIndex } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { client, clone, git, tempDir, useEmulator } from '../github/helpers.js'

const ctx = useEmulator({ forkDelayMs: 300 })
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

let idx: TestIndex
let keyFile: string
let home: string
let aliceToken: string
let bobToken: string
const calc = component('calc 1.0.0')
const tool = component('tool 0.1.0')
const servers: Nginx[] = []

/** The binary with a clean home (no stray credentials) and the emulator as GitHub. */
function run(args: string[], env: Record<string, string> = {}) {
  return wharf(args, { env: { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(home, '.cache'), GITHUB_TOKEN: '', GITHUB_API_URL: ctx.emu.urls.api, GITHUB_REPOSITORY: '', GITHUB_ACTOR: '', ...env } })
}

function json<T>(result: { code: number; stdout: string; stderr: string }): T {
  expect(result.stderr, result.stdout).not.toMatch(/^wharf: /m)
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as T
}

beforeAll(async () => {
  const { emu } = ctx
  emu.createUser('alice')
  emu.createUser('bob')
  idx = await createTestIndex({ maintainer: 'alice', owners: [{ login: 'alice' }, { login: 'bob' }] })
  home = await tempDir('wharf-release-home-')
  keyFile = path.join(home, 'acme.key')
  await fs.promises.writeFile(keyFile, idx.key.privatePem, { mode: 0o600 })
  await emu.createRepo('alice/registry', { from: idx.dir })
  await emu.createRepo('alice/calc', { files: { 'README.md': '# calc\n' } })
  await emu.createRepo('bob/tool', { files: { 'README.md': '# tool\n' } })
  aliceToken = emu.mintToken({ user: 'alice' })
  bobToken = emu.mintToken({ user: 'bob' })
}, 60_000)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
})

describe('wharf publish --github', { timeout: 180_000 }, () => {
  let direct: GitHubPublishResult

  it('uploads the artifact to the component repo and opens a pull request on the index with the signed record', async () => {
    const file = path.join(home, 'calc.wasm')
    await fs.promises.writeFile(file, calc)
    const before = ctx.emu.requests.length
    direct = json<GitHubPublishResult>(
      await run(['publish', file, '--github', 'alice/registry', '--from', 'alice/calc', '--name', 'acme:calc', '--version', '1.0.0', '--key', keyFile, '--description', 'A calculator', '--json'], {
        GITHUB_TOKEN: aliceToken,
        GITHUB_ACTOR: 'alice',
      }),
    )
    expect(direct.viaFork).toBe(false)
    expect(direct.asset.uploaded).toBe(true)
    expect(direct.asset.url).toBe(`${ctx.emu.urls.html}/alice/calc/releases/download/v1.0.0/calc.wasm`)
    expect(direct.record.artifacts).toEqual([expect.objectContaining({ url: direct.asset.url, sha256: sha256(calc), size: calc.length })])
    expect(direct.record.publisher.login).toBe('alice')
    expect(verifyDocument(direct.record, PAYLOAD_TYPES.record, [{ id: idx.key.id, public_key: idx.key.publicKey }])).toEqual({ ok: true, keyid: idx.key.id })
    // The count the binary reports is the count GitHub saw.
    expect(direct.requests).toBe(ctx.emu.requests.length - before)
    const ops = ctx.emu.requests.slice(before).map((r) => r.operationId)
    expect(ops).toEqual(expect.arrayContaining(['git/create-blob', 'git/create-tree', 'git/create-commit', 'git/create-ref', 'pulls/create', 'repos/upload-release-asset']))

    const gh = client(ctx.emu, aliceToken)
    const pull = await gh.pulls.get({ owner: 'alice', repo: 'registry' }, direct.pullRequest.number)
    expect(pull).toMatchObject({ state: 'open', title: 'Publish acme:calc@1.0.0', head: { ref: 'publish/acme/calc/1.0.0', repo: 'alice/registry', sha: direct.head.sha }, base: { ref: 'main' } })
    const { files } = await gh.pulls.listFiles({ owner: 'alice', repo: 'registry' }, direct.pullRequest.number)
    expect(files.map((f) => [f.filename, f.status])).toEqual([['index/packages/acme/calc/1.0.0.json', 'added']])

    // The release asset answers as GitHub's does: a redirect to storage, whose bytes are the artifact.
    const hop = await fetch(direct.asset.url, { redirect: 'manual' })
    expect(hop.status).toBe(302)
    await hop.body?.cancel()
    expect(sha256(Buffer.from(await (await fetch(direct.asset.url)).arrayBuffer()))).toBe(direct.record.artifacts[0]!.sha256)
  })

  it('proposes what the gate accepts: wharf check passes on the pull request, fetching the asset through its redirect', async () => {
    const dir = await clone(ctx.emu, 'alice/registry', aliceToken)
    await git(dir, 'fetch', '--quiet', 'origin', `pull/${direct.pullRequest.number}/head:pr`)
    const result = await run(['check', '--index', dir, '--base', 'main', '--head', 'pr', '--author', 'alice', '--json'])
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ accepted: true, findings: [] })
  })

  it('reuses the asset and updates the same pull request when run again', async () => {
    const file = path.join(home, 'calc.wasm')
    const again = json<GitHubPublishResult>(
      await run(['publish', file, '--github', 'alice/registry', '--from', 'alice/calc', '--name', 'acme:calc', '--version', '1.0.0', '--key', keyFile, '--description', 'A calculator', '--json'], { GITHUB_TOKEN: aliceToken, GITHUB_ACTOR: 'alice' }),
    )
    expect(again.asset).toEqual({ url: direct.asset.url, uploaded: false })
    expect(again.pullRequest).toMatchObject({ number: direct.pullRequest.number, created: false })
    const release = await client(ctx.emu, aliceToken).releases.getByTag({ owner: 'alice', repo: 'calc' }, 'v1.0.0')
    expect(release!.assets.map((a) => a.name)).toEqual(['calc.wasm'])
  })

  it('refuses to replace an asset of the same name that holds other bytes', async () => {
    const file = path.join(home, 'other', 'calc.wasm')
    await fs.promises.mkdir(path.dirname(file), { recursive: true })
    await fs.promises.writeFile(file, component('not calc'))
    const result = await run(['publish', file, '--github', 'alice/registry', '--from', 'alice/calc', '--tag', 'v1.0.0', '--name', 'acme:calc', '--version', '1.0.1', '--key', keyFile, '--author', 'alice'], { GITHUB_TOKEN: aliceToken })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/release alice\/calc@v1\.0\.0 already has an asset calc\.wasm with other bytes/)
    expect(result.stderr).toMatch(/delete that asset, or publish under a new version or tag/)
  })

  it('refuses a record the schema would refuse before it makes a release or uploads anything', async () => {
    const file = path.join(home, 'long-description', 'calc.wasm')
    await fs.promises.mkdir(path.dirname(file), { recursive: true })
    await fs.promises.writeFile(file, component('calc described at length'))
    const result = await run(['publish', file, '--github', 'alice/registry', '--from', 'alice/calc', '--tag', 'v9.0.0', '--name', 'acme:calc', '--version', '9.0.0', '--description', 'x'.repeat(1001), '--key', keyFile, '--author', 'alice'], { GITHUB_TOKEN: aliceToken })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/index\/packages\/acme\/calc\/9\.0\.0\.json would be invalid: .*description/)
    expect(await client(ctx.emu, aliceToken).releases.getByTag({ owner: 'alice', repo: 'calc' }, 'v9.0.0')).toBeUndefined()
  })

  it('forks the index when the token cannot push to it, with the token from the credentials file', async () => {
    const credentials = path.join(home, '.config', 'wharf', 'credentials.toml')
    await fs.promises.mkdir(path.dirname(credentials), { recursive: true })
    await fs.promises.writeFile(credentials, `[registries."${ctx.emu.urls.api}"]\ntoken = "${bobToken}"\n`, { mode: 0o600 })
    try {
      const file = path.join(home, 'tool.wasm')
      await fs.promises.writeFile(file, tool)
      const result = json<GitHubPublishResult>(await run(['publish', file, '--github', 'alice/registry', '--from', 'bob/tool', '--name', 'acme:tool', '--version', '0.1.0', '--key', keyFile, '--author', 'bob', '--json']))
      expect(result.viaFork).toBe(true)
      expect(result.head.repo).toBe('bob/registry')
      const pull = await client(ctx.emu, aliceToken).pulls.get({ owner: 'alice', repo: 'registry' }, result.pullRequest.number)
      expect(pull).toMatchObject({ author: { login: 'bob' }, head: { ref: 'publish/acme/tool/0.1.0', repo: 'bob/registry', sha: result.head.sha }, base: { repo: 'alice/registry' } })
      // Nothing was written to the index itself.
      expect(await client(ctx.emu, aliceToken).git.getRef({ owner: 'alice', repo: 'registry' }, 'heads/publish/acme/tool/0.1.0')).toBeUndefined()
    } finally {
      await fs.promises.rm(credentials)
    }
  })

  it('says where a token comes from when there is none', async () => {
    const result = await run(['publish', path.join(home, 'calc.wasm'), '--github', 'alice/registry', '--from', 'alice/calc', '--name', 'acme:calc', '--version', '1.0.2', '--key', keyFile, '--author', 'alice'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/needs a GitHub token: \$GITHUB_TOKEN is not set and .*credentials\.toml holds none for/)
  })
})

describe('wharf release', { timeout: 180_000 }, () => {
  let index: string
  let before: string
  let after: string
  let first: ReleaseResult
  const workflowToken = () => ctx.emu.mintToken({ permissions: { contents: 'write' }, repositories: ['alice/registry'] })

  beforeAll(async () => {
    const gh = client(ctx.emu, aliceToken)
    const repo = { owner: 'alice', repo: 'registry' }
    before = (await gh.git.getRef(repo, 'heads/main'))!.sha
    const open = (await gh.pulls.listOpen(repo)).find((p) => p.head.ref === 'publish/acme/calc/1.0.0')!
    after = (await gh.pulls.merge(repo, open.number, { expectedHeadSha: open.head.sha, method: 'squash' })).sha
    index = await clone(ctx.emu, 'alice/registry', aliceToken)
  }, 60_000)

  it('uploads each added version to a release of the index repo, whose download hashes to the record', async () => {
    const result = await run(['release', '--github', 'alice/registry', '--index', index, '--before', before, '--after', after, '--json'], { GITHUB_TOKEN: workflowToken() })
    first = json<ReleaseResult>(result)
    expect(first.uploaded).toBe(1)
    expect(first.versions).toEqual([expect.objectContaining({ name: 'acme:calc', version: '1.0.0', tag: 'acme.calc@1.0.0', release: expect.objectContaining({ created: true }), assets: [expect.objectContaining({ name: 'calc.wasm', status: 'uploaded' })] })])
    const record = JSON.parse(await fs.promises.readFile(path.join(index, 'index/packages/acme/calc/1.0.0.json'), 'utf8')) as VersionRecord
    const url = first.versions[0]!.assets[0]!.url
    expect(url).toBe(releaseAssetUrl(`${ctx.emu.urls.html}/alice/registry`, record, record.artifacts[0]!))
    const hop = await fetch(url, { redirect: 'manual' })
    expect(hop.status).toBe(302)
    expect(hop.headers.get('location')).toMatch(/\/_storage\//)
    await hop.body?.cancel()
    expect(sha256(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(record.artifacts[0]!.sha256)
    const release = await client(ctx.emu, aliceToken).releases.getByTag({ owner: 'alice', repo: 'registry' }, releaseTag(record))
    expect(release).toMatchObject({ name: 'acme:calc@1.0.0', assets: [{ name: 'calc.wasm', digest: `sha256:${record.artifacts[0]!.sha256}` }] })
  })

  it('uploads nothing and changes nothing when run again on the same push', async () => {
    const mark = ctx.emu.requests.length
    const again = json<ReleaseResult>(await run(['release', '--github', 'alice/registry', '--index', index, '--before', before, '--after', after, '--json'], { GITHUB_TOKEN: workflowToken() }))
    expect(again.uploaded).toBe(0)
    expect(again.versions[0]).toMatchObject({ tag: first.versions[0]!.tag, release: { id: first.versions[0]!.release!.id, created: false }, assets: [{ name: 'calc.wasm', status: 'present' }] })
    const writes = ctx.emu.requests.slice(mark).filter((r) => r.method !== 'GET')
    expect(writes).toEqual([])
  })

  it('serves the release asset as download_url from build-api --releases, and wharf install installs the package', async () => {
    const out = path.join(await tempDir('wharf-release-api-'), 'public')
    const releases = `${ctx.emu.urls.html}/alice/registry`
    const built = await run(['build-api', '--index', index, '--out', out, '--base-url', 'http://registry.invalid', '--releases', releases, '--no-site', '--json'], {
      WHARF_REGISTRY_KEY: await fs.promises.readFile(path.join(idx.dir, '.wharf/registry.key'), 'utf8'),
    })
    expect(built.code, built.stderr).toBe(0)
    const nginx = await startNginx(await fs.promises.realpath(out))
    servers.push(nginx)
    const doc = (await (await fetch(`${nginx.url}/api/v1/packages/acme:calc/1.0.0`)).json()) as { download_url: string; sha256: string; size: number }
    expect(doc.download_url).toBe(first.versions[0]!.assets[0]!.url)
    const bytes = Buffer.from(await (await fetch(doc.download_url)).arrayBuffer())
    expect({ sha256: sha256(bytes), size: bytes.length }).toEqual({ sha256: doc.sha256, size: doc.size })
    expect(JSON.parse(await fs.promises.readFile(path.join(out, 'cargo/config.json'), 'utf8'))).toEqual({ api: 'http://registry.invalid', dl: `${releases}/releases/download/{crate}@{version}/{crate}-{version}.crate` })

    const project = await tempDir('wharf-release-project-')
    const installed = await wharf(['install', 'acme:calc', '--registry', nginx.url, '--dir', path.join(project, 'wasm_components')], {
      cwd: project,
      env: { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_CACHE_HOME: path.join(project, '.cache') },
    })
    expect(installed.code, installed.stderr).toBe(0)
    expect(fs.readFileSync(path.join(project, 'wasm_components', 'acme-calc-1.0.0.wasm')).equals(calc)).toBe(true)
  })
})
