/**
 * Real cargo against `wharf serve`: `cargo publish` a crate through Cargo's
 * publish API, `cargo build` another crate that depends on it through the
 * sparse index at sparse+URL/cargo/, republishing refused, yank as a notice.
 * rustup's cargo (sparse registries, credential providers); CARGO_HOME is a
 * temp dir, and the fixture crates have no crates.io dependencies.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/index-repo.js'
import { serveTemp, sha256, type TestServer } from './helpers.js'

/** A cargo that speaks sparse registries (1.68+): $CARGO, else rustup's (scripts/system-deps.mjs requires one). */
const CARGO = process.env.CARGO ?? path.join(os.homedir(), '.cargo', 'bin', 'cargo')
const FIXTURES = path.resolve('test/fixtures/serve')
const TOKEN = 'cargo-publish-token'

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** The first file called `name` under `dir` (cargo's package layout moves between releases). */
function findFile(dir: string, name: string): string {
  const found = (fs.readdirSync(dir, { recursive: true }) as string[]).find((f) => path.basename(f) === name)
  if (!found) throw new Error(`no ${name} under ${dir}`)
  return path.join(dir, found)
}

describe('cargo against wharf serve', () => {
  let server: TestServer
  let work: string
  let env: NodeJS.ProcessEnv

  const cargo = (cwd: string, ...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(CARGO, args, { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      )
    })

  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'crates', token: TOKEN }] })
    work = await tempDir('wharf-cargo-')
    await fs.promises.cp(FIXTURES, work, { recursive: true })
    const cargoHome = path.join(work, 'cargo-home')
    await fs.promises.mkdir(cargoHome)
    env = {
      ...process.env,
      CARGO_HOME: cargoHome,
      PATH: `${path.dirname(CARGO)}:${process.env.PATH}`,
      RUSTUP_HOME: process.env.RUSTUP_HOME ?? path.join(os.homedir(), '.rustup'),
      CARGO_TARGET_DIR: path.join(work, 'target'),
      CARGO_REGISTRIES_WHARF_INDEX: `sparse+${server.url}/cargo/`,
      CARGO_REGISTRIES_WHARF_TOKEN: TOKEN,
      CARGO_TERM_COLOR: 'never',
      CARGO_NET_RETRY: '1',
      CARGO_HTTP_TIMEOUT: '30',
    }
  }, 120_000)
  afterAll(async () => {
    await server?.close()
  })

  it('cargo publish puts the crate in the registry', async () => {
    const run = await cargo(path.join(work, 'greet-lib'), 'publish', '--registry', 'wharf', '--allow-dirty')
    expect(run.stderr).toMatch(/Uploaded greet_lib v0\.1\.0/)
    expect(run.code, run.stderr).toBe(0)
    const versions = await fetch(`${server.url}/api/v1/packages/crates%3Agreet-lib/versions`)
    expect(versions.status).toBe(200)
    expect(((await versions.json()) as { versions: string[] }).versions).toEqual(['0.1.0'])
    const line = JSON.parse((await (await fetch(`${server.url}/cargo/gr/ee/greet_lib`)).text()).trim()) as { name: string; vers: string; cksum: string; yanked: boolean }
    expect(line).toMatchObject({ name: 'greet_lib', vers: '0.1.0', yanked: false })
    // What cargo packaged is what the index names and the registry serves.
    const packaged = findFile(path.join(work, 'target', 'package'), 'greet_lib-0.1.0.crate')
    expect(line.cksum).toBe(sha256(fs.readFileSync(packaged)))
    const served = await fetch(`${server.url}/artifacts/sha256/${line.cksum}`)
    expect(served.status).toBe(200)
    expect(sha256(new Uint8Array(await served.arrayBuffer()))).toBe(line.cksum)
  }, 240_000)

  it('cargo build resolves and downloads it for a crate that depends on it', async () => {
    const run = await cargo(path.join(work, 'greet-app'), 'run', '--quiet')
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout.trim()).toBe('hello, wharf, from greet_lib')
    expect(fs.readFileSync(path.join(work, 'greet-app', 'Cargo.lock'), 'utf8')).toContain(`sparse+${server.url}/cargo/`)
    const stats = (await (await fetch(`${server.url}/api/v1/stats`)).json()) as { download_count: number }
    expect(stats.download_count).toBeGreaterThanOrEqual(1)
  }, 240_000)

  it('refuses to publish the same version again', async () => {
    const run = await cargo(path.join(work, 'greet-lib'), 'publish', '--registry', 'wharf', '--allow-dirty', '--no-verify')
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/already (exists|published)/)
    // The server refuses it too, in Cargo's error format, when a client skips cargo's own check.
    const crate = fs.readFileSync(findFile(path.join(work, 'target', 'package'), 'greet_lib-0.1.0.crate'))
    const json = Buffer.from(JSON.stringify({ name: 'greet_lib', vers: '0.1.0', deps: [], features: {} }))
    const body = Buffer.alloc(8 + json.length + crate.length)
    body.writeUInt32LE(json.length, 0)
    json.copy(body, 4)
    body.writeUInt32LE(crate.length, 4 + json.length)
    crate.copy(body, 8 + json.length)
    const res = await fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: TOKEN }, body })
    expect(res.status).toBe(409)
    const answer = (await res.json()) as { errors: { detail: string }[] }
    expect(answer.errors[0]!.detail).toMatch(/already published/)
  }, 240_000)

  it('refuses a malformed publish body and a bad token in Cargo error format', async () => {
    const short = await fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: TOKEN }, body: Buffer.from([1, 2]) })
    expect(short.status).toBe(400)
    expect(((await short.json()) as { errors: { detail: string }[] }).errors[0]!.detail).toMatch(/not a cargo publish body/)
    const lying = Buffer.alloc(12)
    lying.writeUInt32LE(1_000_000, 0)
    expect((await fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: TOKEN }, body: lying })).status).toBe(400)
    const unauthorized = await fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: 'nope' }, body: Buffer.alloc(8) })
    expect(unauthorized.status).toBe(401)
  })

  it('cargo search finds the crate; cargo owner lists its namespace owners and changes none', async () => {
    const search = await cargo(work, 'search', 'greet', '--registry', 'wharf', '--limit', '5')
    expect(search.code, search.stderr).toBe(0)
    expect(search.stdout).toMatch(/^greet_lib = "0\.1\.0"\s+# /m)
    const answer = (await (await fetch(`${server.url}/api/v1/crates?q=greet&per_page=1`)).json()) as { crates: { name: string; max_version: string }[]; meta: { total: number } }
    expect(answer).toMatchObject({ crates: [{ name: 'greet_lib', max_version: '0.1.0' }], meta: { total: 1 } })
    expect(((await (await fetch(`${server.url}/api/v1/crates?q=nothing-like-it`)).json()) as { meta: { total: number } }).meta.total).toBe(0)
    expect((await fetch(`${server.url}/api/v1/crates?q=greet&per_page=x`)).status).toBe(400)

    const namespace = JSON.parse(fs.readFileSync(path.join(server.registry.repo.dir, 'index/namespaces/crates.json'), 'utf8')) as { owners: { login: string }[] }
    const list = await cargo(work, 'owner', '--list', 'greet_lib', '--registry', 'wharf')
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout.trim().split('\n').map((l) => l.trim()).sort()).toEqual(namespace.owners.map((o) => o.login).sort())
    const add = await cargo(work, 'owner', '--add', 'mallory', 'greet_lib', '--registry', 'wharf')
    expect(add.code).not.toBe(0)
    expect(add.stderr).toMatch(/listed in index\/namespaces\/crates\.json; they are not changed through Cargo/)
    expect(JSON.parse(fs.readFileSync(path.join(server.registry.repo.dir, 'index/namespaces/crates.json'), 'utf8'))).toEqual(namespace)
    expect((await fetch(`${server.url}/api/v1/crates/no_such_crate/owners`)).status).toBe(404)
  }, 240_000)

  it('cargo yank writes a yank notice; an unyank is refused because notices are permanent', async () => {
    const yank = await cargo(work, 'yank', 'greet_lib@0.1.0', '--registry', 'wharf')
    expect(yank.code, yank.stderr).toBe(0)
    const line = JSON.parse((await (await fetch(`${server.url}/cargo/gr/ee/greet_lib`)).text()).trim()) as { yanked: boolean }
    expect(line.yanked).toBe(true)
    expect(fs.existsSync(path.join(server.registry.repo.dir, 'index/packages/crates/greet-lib/0.1.0.yank.json'))).toBe(true)
    const undo = await cargo(work, 'yank', 'greet_lib@0.1.0', '--undo', '--registry', 'wharf')
    expect(undo.code).not.toBe(0)
    expect(undo.stderr).toMatch(/stays yanked/)
  }, 240_000)
})
