/**
 * The committed bundle's `release` command, run as a runner runs a node
 * action on a push to main (the event payload the emulator delivered, a full
 * checkout, nothing but the runner's environment): it ships the version the
 * push added as an asset of the index repo's release, with the record's
 * digest; run again on the same push it uploads nothing and changes nothing.
 * Its `publish` command from a component repo and from a crate repo, whose
 * package goes in the namespace the index's policy names for crates.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordPath } from '../../src/core/layout.js'
import type { VersionRecord } from '../../src/core/types.js'
import { RELEASED_REF } from '../../src/publish/release-cursor.js'
import { client, clone, git, rest, run, tempDir, useEmulator } from '../github/helpers.js'
import { component } from '../helpers/wasm.js'
import { CARGO } from '../release/cargo-app.js'
import { createIndexFixture, REPO, type IndexFixture } from './fixture.js'

const BUNDLE = path.resolve(import.meta.dirname, '../../dist/action/index.js')
const GREET = path.resolve(import.meta.dirname, '../fixtures/api/crates/greet')

describe('the bundle: publish from a component repo, release on a push to main', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  beforeAll(async () => {
    // Crates go in namespace rust, which alice owns as she owns acme.
    fx = await createIndexFixture(ctx.emu, { namespaces: ['rust'], policy: (r) => void (r.policy.namespaces.crates = 'rust') })
  })
  afterAll(() => fx?.close())

  /** Runs `node dist/action/index.js` with a runner's environment only: `event` delivered as `payload`, in `workspace`. */
  async function runAsRunner(o: { event: string; payload: Record<string, unknown>; repo: string; actor: string; token: string; workspace: string; inputs: Record<string, string>; env?: NodeJS.ProcessEnv }) {
    const home = await tempDir('wharf-runner-')
    const eventPath = path.join(home, 'event.json')
    fs.writeFileSync(eventPath, JSON.stringify(o.payload))
    const files = { GITHUB_OUTPUT: path.join(home, 'output'), GITHUB_STEP_SUMMARY: path.join(home, 'summary.md') }
    for (const f of Object.values(files)) fs.writeFileSync(f, '')
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: o.event,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: o.repo,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: (await git(o.workspace, 'rev-parse', 'HEAD')).trim(),
      GITHUB_ACTOR: o.actor,
      GITHUB_RUN_ID: '7',
      GITHUB_WORKSPACE: o.workspace,
      GITHUB_API_URL: ctx.emu.urls.api,
      GITHUB_SERVER_URL: ctx.emu.urls.html,
      RUNNER_TEMP: home,
      ...files,
      INPUT_TOKEN: o.token,
      INPUT_INDEX: '.',
      'INPUT_PACE-WRITES': 'false',
      ...o.env,
    }
    for (const [name, value] of Object.entries(o.inputs)) env[`INPUT_${name.toUpperCase()}`] = value
    const result = await run(process.execPath, [BUNDLE], { cwd: o.workspace, env })
    return { ...result, summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'), output: fs.readFileSync(files.GITHUB_OUTPUT, 'utf8') }
  }

  /** A release job's token (contents: write) and checkout (fetch-depth 0). */
  async function releaseJob() {
    const token = ctx.emu.mintToken({ permissions: { contents: 'write' }, repositories: [REPO] })
    return { repo: REPO, actor: 'admin', token, workspace: await clone(ctx.emu, REPO, token) }
  }

  /** release as a release job runs it on a push. */
  async function runRelease(payload: Record<string, unknown>) {
    return runAsRunner({ ...(await releaseJob()), event: 'push', payload, inputs: { command: 'release' } })
  }

  it('uploads the version the push added as a release asset, and a second run uploads nothing', async () => {
    const record = fx.record('1.1.0')
    const work = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
    fs.mkdirSync(path.dirname(path.join(work, record.path)), { recursive: true })
    fs.writeFileSync(path.join(work, record.path), record.content)
    await git(work, 'add', '-A')
    await git(work, 'commit', '--quiet', '-m', 'Add acme:calc@1.1.0')
    ctx.emu.takeDeliveries()
    await git(work, 'push', '--quiet', 'origin', 'main')
    const push = ctx.emu.takeDeliveries().find((d) => d.name === 'push')
    expect(push).toBeDefined()
    expect(push!.payload.after).toBe((await git(work, 'rev-parse', 'HEAD')).trim())

    const first = await runRelease(push!.payload)
    expect(first.stdout).not.toContain('::error')
    expect(first.code, first.stdout + first.stderr).toBe(0)
    expect(first.output).toMatch(/uploaded<<.*\n1\n/)
    expect(first.output).toMatch(/released<<.*\n\["acme:calc@1\.1\.0"\]\n/)
    expect(first.summary).toContain('<code>acme:calc@1.1.0</code>')
    expect(first.summary).toContain('calc.wasm uploaded')

    const gh = client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
    const declared = (JSON.parse(record.content) as VersionRecord).artifacts[0]!
    const release = await gh.releases.getByTag({ owner: 'wharf', repo: 'index' }, 'acme.calc@1.1.0')
    expect(release?.assets.map((a) => ({ name: a.name, size: a.size, digest: a.digest }))).toEqual([{ name: 'calc.wasm', size: declared.size, digest: `sha256:${declared.sha256}` }])

    const second = await runRelease(push!.payload)
    expect(second.code, second.stdout + second.stderr).toBe(0)
    expect(second.output).toMatch(/uploaded<<.*\n0\n/)
    expect(second.summary).toContain('calc.wasm present')
    const again = await gh.releases.getByTag({ owner: 'wharf', repo: 'index' }, 'acme.calc@1.1.0')
    expect(again?.assets).toEqual(release?.assets)
  }, 120_000)

  it('holds refs/wharf/released at a version that cannot ship, so the next push ships it once it can', async () => {
    const gh = client(ctx.emu, ctx.emu.mintToken({ user: 'admin' }))
    const index = { owner: 'wharf', repo: 'index' }
    const released = async () => (await gh.git.getRef(index, RELEASED_REF))?.sha
    const mark = await released()
    expect(mark).toBeDefined()
    const push = async (version: string) => {
      const record = fx.record(version)
      const work = await fx.clone(ctx.emu.mintToken({ user: 'admin' }))
      fs.mkdirSync(path.dirname(path.join(work, record.path)), { recursive: true })
      fs.writeFileSync(path.join(work, record.path), record.content)
      await git(work, 'add', '-A')
      await git(work, 'commit', '--quiet', '-m', `Add acme:calc@${version}`)
      ctx.emu.takeDeliveries()
      await git(work, 'push', '--quiet', 'origin', 'main')
      return ctx.emu.takeDeliveries().find((d) => d.name === 'push')!.payload
    }
    // 1.2.0's record names bytes its URL no longer serves.
    const first = await push('1.2.0')
    fx.record('1.2.0', 'calc', Buffer.from('other bytes'))
    const failed = await runRelease(first)
    expect(failed.code).toBe(1)
    expect(failed.stdout).toMatch(/::error::release could not ship 1 version\(s\): acme:calc@1\.2\.0/)
    expect(await released()).toBe(mark)

    // Served right again: the run of the next push ships both, and the ref moves past them.
    fx.record('1.2.0')
    const second = await push('1.3.0')
    const shipped = await runRelease(second)
    expect(shipped.code, shipped.stdout + shipped.stderr).toBe(0)
    expect(shipped.output).toMatch(/released<<.*\n\["acme:calc@1\.2\.0","acme:calc@1\.3\.0"\]\n/)
    expect(shipped.stdout).toContain(`refs/wharf/released is at ${mark!.slice(0, 12)}, before this push`)
    expect(await released()).toBe(second.after)

    // An explicit range is released as it is, and leaves the ref alone.
    const ranged = await runAsRunner({ ...(await releaseJob()), event: 'workflow_dispatch', payload: {}, inputs: { command: 'release', before: String(first.before), after: String(first.after) } })
    expect(ranged.code, ranged.stdout + ranged.stderr).toBe(0)
    expect(ranged.output).toMatch(/released<<.*\n\["acme:calc@1\.2\.0"\]\n/)
    expect(await released()).toBe(second.after)
  }, 180_000)

  it('refuses to run on an event that names no push, saying which inputs to give', async () => {
    const result = await runRelease({ after: 'not a sha' })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/::error::release needs the push's commits.*Fix: .*before and after inputs/)
  }, 60_000)

  it('publishes from a component repo: the artifact becomes its release asset and a pull request on the index adds the signed record', async () => {
    await ctx.emu.createRepo('acme/app', { files: { 'README.md': '# app\n' }, collaborators: { alice: 'admin' } })
    const token = ctx.emu.mintToken({ user: 'alice' })
    const workspace = await clone(ctx.emu, 'acme/app', token)
    const bytes = component('app-2.0.0')
    fs.mkdirSync(path.join(workspace, 'target'))
    fs.writeFileSync(path.join(workspace, 'target/app.wasm'), bytes)
    const inputs = { command: 'publish', artifact: 'target/app.wasm', name: 'acme:app', version: '2.0.0', key: fx.key.privatePem, 'index-repo': REPO }
    const result = await runAsRunner({ event: 'push', payload: {}, repo: 'acme/app', actor: 'alice', token, workspace, inputs })
    expect(result.stdout).not.toContain('::error')
    expect(result.code, result.stdout + result.stderr).toBe(0)

    const asset = (await client(ctx.emu, token).releases.getByTag({ owner: 'acme', repo: 'app' }, 'v2.0.0'))?.assets[0]
    expect(asset).toMatchObject({ name: 'app.wasm', size: bytes.length })
    expect(result.output).toContain(`asset-url<<`)
    expect(result.output).toContain(asset!.browserDownloadUrl)
    const number = Number(/pull-request<<(.*)\n(\d+)\n/.exec(result.output)?.[2])
    const pull = await rest(ctx.emu, token, 'GET', `/repos/${REPO}/pulls/${number}`)
    expect(pull.status).toBe(200)
    expect(pull.body).toMatchObject({ state: 'open', user: { login: 'alice' }, base: { ref: 'main' } })
    const files = await rest(ctx.emu, token, 'GET', `/repos/${REPO}/pulls/${number}/files`)
    expect(files.body.map((f: { filename: string; status: string }) => [f.filename, f.status])).toEqual([[recordPath('acme:app', '2.0.0'), 'added']])
    expect(result.summary).toContain(`<code>acme:app@2.0.0</code>: uploaded ${asset!.browserDownloadUrl}`)
  }, 120_000)

  it("publishes a crate into the namespace the index's policy names for crates, read from registry.json in one REST call", async () => {
    const files: Record<string, string> = {}
    for (const file of fs.readdirSync(GREET, { recursive: true, encoding: 'utf8' })) if (fs.statSync(path.join(GREET, file)).isFile()) files[file] = fs.readFileSync(path.join(GREET, file), 'utf8')
    await ctx.emu.createRepo('acme/greet', { files, collaborators: { alice: 'admin' } })
    const token = ctx.emu.mintToken({ user: 'alice' })
    const workspace = await clone(ctx.emu, 'acme/greet', token)
    // The runner's HOME is a temp dir: cargo (a rustup proxy) is told where its toolchains are.
    const cargoHome = await tempDir('wharf-cargo-home-')
    // cargo runs the crate's build scripts and its dependencies': a cargo that writes down the environment it was given.
    const seen = path.join(cargoHome, 'environments')
    const wrapper = path.join(cargoHome, 'cargo-recording')
    fs.writeFileSync(wrapper, `#!/bin/sh\nenv -0 >> '${seen}'\nexec '${CARGO}' "$@"\n`, { mode: 0o755 })
    const env = {
      PATH: `${path.dirname(CARGO)}:${process.env.PATH}`,
      RUSTUP_HOME: process.env.RUSTUP_HOME || path.join(os.homedir(), '.rustup'),
      CARGO_HOME: cargoHome,
      CARGO_TERM_COLOR: 'never',
      CARGO: wrapper,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-request-token',
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
    }
    const inputs = { command: 'publish', crate: '.', key: fx.key.privatePem, 'index-repo': REPO }
    const mark = ctx.emu.requests.length
    const result = await runAsRunner({ event: 'push', payload: {}, repo: 'acme/greet', actor: 'alice', token, workspace, inputs, env })
    expect(result.stdout).not.toContain('::error')
    expect(result.code, result.stdout + result.stderr).toBe(0)

    // registry.json is read once, first, before cargo runs; the summary counts that call too.
    const made = ctx.emu.requests.slice(mark)
    expect(made.filter((r) => r.operationId === 'repos/get-content').map((r) => [r.method, decodeURIComponent(r.path), r.status])).toEqual([['GET', `/api/v3/repos/${REPO}/contents/index/registry.json`, 200]])
    expect(made[0]!.operationId).toBe('repos/get-content')
    expect(result.summary).toContain(`(${made.length} GitHub requests)`)
    const number = Number(/pull-request<<(.*)\n(\d+)\n/.exec(result.output)?.[2])
    const pulled = await rest(ctx.emu, token, 'GET', `/repos/${REPO}/pulls/${number}/files`)
    expect(pulled.body.map((f: { filename: string; status: string }) => [f.filename, f.status])).toEqual([[recordPath('rust:wharf-greet', '0.1.0'), 'added']])
    expect(result.summary).toContain('<code>rust:wharf-greet@0.1.0</code>')
    // Every cargo run (metadata, package) had the runner's environment, but none of its credentials: no private key, no token.
    const environments = fs.readFileSync(seen, 'utf8').split('\0').filter(Boolean)
    expect(environments).toContain(`CARGO_HOME=${cargoHome}`)
    const names = new Set(environments.map((line) => line.slice(0, line.indexOf('='))))
    expect([...names].filter((n) => /^(INPUT_|ACTIONS_)|TOKEN/.test(n))).toEqual([])
    expect(environments.join('\n')).not.toContain('PRIVATE KEY')
  }, 300_000)

  it('refuses a key that is not a private key before it uploads anything', async () => {
    const token = ctx.emu.mintToken({ user: 'alice' })
    const workspace = await clone(ctx.emu, 'acme/app', token)
    fs.writeFileSync(path.join(workspace, 'app.wasm'), component('app-3.0.0'))
    const inputs = { command: 'publish', artifact: 'app.wasm', name: 'acme:app', version: '3.0.0', key: 'not a key', 'index-repo': REPO }
    const result = await runAsRunner({ event: 'push', payload: {}, repo: 'acme/app', actor: 'alice', token, workspace, inputs })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('::error::')
    expect(await client(ctx.emu, token).releases.getByTag({ owner: 'acme', repo: 'app' }, 'v3.0.0')).toBeUndefined()
  }, 60_000)
})
