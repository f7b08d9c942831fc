/**
 * Real cargo against the static output alone: two crates published with
 * `wharf publish --crate` (the second depends on the first through this
 * registry, under a renamed key), the API built and served by nginx, and an
 * application that depends on the second resolved, downloaded, checksummed
 * and built by cargo from `sparse+http://127.0.0.1:PORT/cargo/` with a fresh
 * CARGO_HOME (crates.io is never contacted).
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/index.js'
import type { VersionRecord } from '../../src/core/types.js'
import { MAIN, resolveCommit } from '../../src/git/index.js'
import { mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import { wharf } from '../helpers/cli.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { readJson } from '../fixtures/api/tree.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

const FIXTURES = path.resolve('test/fixtures/api/crates')

/** A cargo that speaks the sparse protocol (1.68+): $CARGO, rustup's, or the one on PATH. */
function findCargo(): string {
  const candidates = [process.env.CARGO, path.join(os.homedir(), '.cargo/bin/cargo'), 'cargo'].filter((c): c is string => Boolean(c))
  return candidates.find((c) => c === 'cargo' || fs.existsSync(c))!
}

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { ...options, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
  })
}

let idx: TestIndex
let nginx: Nginx
let work: string
let out: string
let env: NodeJS.ProcessEnv
const cargo = findCargo()

async function copyCrate(name: string): Promise<string> {
  const dir = path.join(work, name)
  await fs.promises.cp(path.join(FIXTURES, name), dir, { recursive: true })
  return dir
}

async function publishCrate(name: string): Promise<VersionRecord> {
  const keyFile = path.join(work, 'alice.key')
  const dir = await copyCrate(name)
  const result = await wharf(['publish', '--crate', dir, '--key', keyFile, '--author', 'alice', '--index', idx.dir, '--json'], { env })
  expect(result.code, result.stderr).toBe(0)
  const proposal = JSON.parse(result.stdout) as { branch: string; record: VersionRecord }
  const merged = await mergeProposal(idx.repo, { branch: proposal.branch, author: { login: 'alice' } })
  expect(merged.merged, JSON.stringify(merged.check.findings)).toBe(true)
  return proposal.record
}

beforeAll(async () => {
  const version = await run(cargo, ['--version'], { cwd: os.tmpdir(), env: process.env })
  const [, minor] = /cargo 1\.(\d+)/.exec(version.stdout) ?? []
  if (!minor || Number(minor) < 68) throw new Error(`these tests need cargo 1.68 or later (sparse registries); found ${version.stdout || version.stderr} at ${cargo}. Install Rust with rustup, or set $CARGO.`)
  work = await tempDir('wharf-api-cargo-')
  idx = await createTestIndex()
  await fs.promises.writeFile(path.join(work, 'alice.key'), idx.key.privatePem, { mode: 0o600 })
  const claim = await proposeNamespace(idx.repo, { namespace: 'crates', owners: [{ login: 'alice' }], publicKey: idx.key.publicPem, author: 'alice' })
  expect((await mergeProposal(idx.repo, { branch: claim.branch, author: { login: 'alice' } })).merged).toBe(true)
  out = path.join(work, 'public')
  nginx = await startNginx(out)
  const home = path.join(work, 'cargo-home')
  await fs.promises.mkdir(home)
  await fs.promises.writeFile(path.join(home, 'config.toml'), `[registries.wharf]\nindex = "sparse+${nginx.url}/cargo/"\n`)
  env = { ...process.env, CARGO: cargo, CARGO_HOME: home, PATH: `${path.dirname(cargo)}:${process.env.PATH}`, CARGO_TERM_COLOR: 'never' }
}, 120_000)

afterAll(async () => {
  await nginx?.stop()
})

describe('crate packages through the Cargo sparse index', () => {
  let greet: VersionRecord
  let shout: VersionRecord

  it('publishes a crate with its exact name, features and cksum', async () => {
    greet = await publishCrate('greet')
    expect(greet).toMatchObject({
      name: 'crates:wharf-greet',
      version: '0.1.0',
      kind: 'crate',
      description: 'Greets someone',
      license: 'MIT OR Apache-2.0',
      keywords: ['greeting', 'example'],
      targets: ['source'],
      artifacts: [{ name: 'wharf_greet-0.1.0.crate', target: 'source' }],
      crate: { name: 'wharf_greet', features: { default: ['polite'], polite: [] }, deps: [] },
    })
    expect(greet.crate!.cksum).toBe(greet.artifacts[0]!.sha256)
    await buildApi({ repo: idx.repo, out, baseUrl: nginx.url })
    const line = JSON.parse(fs.readFileSync(path.join(out, 'cargo/wh/ar/wharf_greet'), 'utf8'))
    expect(line).toEqual({ name: 'wharf_greet', vers: '0.1.0', deps: [], cksum: greet.crate!.cksum, features: { default: ['polite'], polite: [] }, yanked: false, links: null, v: 1 })
  }, 120_000)

  it('publishes a crate whose dependency cargo resolves from this registry, recorded without a registry field', async () => {
    const since = await resolveCommit(idx.repo, MAIN)
    shout = await publishCrate('shout')
    expect(shout.crate!.deps).toEqual([{ name: 'greeting', package: 'wharf_greet', req: '^0.1', features: [], optional: false, default_features: true, target: null, kind: 'normal' }])
    expect(shout.dependencies).toEqual([{ name: 'crates:wharf-greet', req: '^0.1', optional: false }])
    const result = await buildApi({ repo: idx.repo, out, baseUrl: nginx.url, since })
    expect(result.mode).toBe('incremental')
    const res = await fetch(`${nginx.url}/cargo/wh/ar/wharf-shout`)
    expect(res.status).toBe(200)
    expect(JSON.parse(await res.text())).toMatchObject({ name: 'wharf-shout', vers: '0.2.0', deps: [{ name: 'greeting', package: 'wharf_greet', req: '^0.1', kind: 'normal' }] })
    expect(readJson(out, 'api/v1/crates/wharf-shout')).toMatchObject({ crate: 'wharf-shout', package: 'crates:wharf-shout' })
  }, 120_000)

  it('lets cargo resolve, download and build an application from the static output alone', async () => {
    const app = await copyCrate('app')
    const built = await run(cargo, ['run', '--quiet'], { cwd: app, env })
    expect(built.code, built.stderr).toBe(0)
    expect(built.stdout.trim()).toBe('HELLO, WHARF!')
    const lock = fs.readFileSync(path.join(app, 'Cargo.lock'), 'utf8')
    expect(lock).toContain(`source = "sparse+${nginx.url}/cargo/"`)
    expect(lock).toContain(`checksum = "${greet.crate!.cksum}"`)
    expect(lock).toContain(`checksum = "${shout.crate!.cksum}"`)
    expect(lock).not.toContain('crates.io')
    const log = fs.readFileSync(path.join(out, 'cargo/config.json'), 'utf8')
    expect(JSON.parse(log).dl).toBe(`${nginx.url}/artifacts/sha256/{sha256-checksum}`)
  }, 180_000)

  it('answers 404 for a crate the registry does not have, which cargo reports as not found', async () => {
    expect((await fetch(`${nginx.url}/cargo/no/pe/nope-crate`)).status).toBe(404)
    const app = await copyCrate('app')
    await fs.promises.writeFile(path.join(app, 'Cargo.toml'), fs.readFileSync(path.join(app, 'Cargo.toml'), 'utf8').replace('wharf-shout = { version = "0.2"', 'nope-crate = { version = "1"'))
    const failed = await run(cargo, ['generate-lockfile'], { cwd: app, env })
    expect(failed.code).not.toBe(0)
    expect(failed.stderr).toMatch(/no matching package named `nope-crate` found/)
  }, 120_000)
})
