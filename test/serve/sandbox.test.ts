/**
 * Uploaded crates run in bubblewrap. A hostile crate whose build script
 * writes outside its directory and whose tests read the registry key, a
 * secret file, the data dir and the server's environment and connect to a
 * loopback listener is built and tested through `POST /tests/{id}`: every
 * attempt fails (so its tests pass), no canary reaches the report, the
 * listener sees no connection and the canary files are unchanged. Without a
 * sandbox, test runs are refused unless the operator opts out by name.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REGISTRY_KEY_PATH } from '../../src/core/layout.js'
import { WHARF_ROOT, scrubPaths, hostPaths } from '../../src/matrix/sandbox.js'
import { configFromEnv, UNSANDBOXED_OPT_OUT } from '../../src/serve/index.js'
import { tempDir } from '../helpers/index-repo.js'
import { serveTemp, type TestServer } from './helpers.js'

const HOSTILE = fileURLToPath(new URL('../fixtures/serve/hostile/', import.meta.url))

interface Job {
  status: string
  exit_code?: number
  error?: string
  report?: { targets: { target: string; status: string; test: { passed?: number; failed?: number; first_failure?: string } }[] }
}

async function waitForJob(url: string, id: string, limitMs: number): Promise<Job> {
  const deadline = Date.now() + limitMs
  let job: Job = { status: 'queued' }
  while ((job.status === 'queued' || job.status === 'running') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250))
    job = ((await (await fetch(`${url}/tests/${id}`)).json()) as { data: Job }).data
  }
  return job
}

/** The hostile crate with the paths and values it attacks written into src/targets.rs, packed as a .crate. */
function hostileCrate(work: string, targets: Record<string, string>): Buffer {
  const dir = path.join(work, 'hostile-0.1.0')
  fs.cpSync(HOSTILE, dir, { recursive: true })
  const consts = Object.entries(targets).map(([name, value]) => `pub const ${name}: &str = ${JSON.stringify(value)};`)
  fs.writeFileSync(path.join(dir, 'src', 'targets.rs'), `${consts.join('\n')}\n`)
  const file = path.join(work, 'hostile-0.1.0.crate')
  execFileSync('tar', ['-C', work, '-czf', file, 'hostile-0.1.0'])
  return fs.readFileSync(file)
}

describe('a hostile crate under POST /tests/{id}', () => {
  let server: TestServer
  let listener: net.Server
  let connections = 0
  let secrets: string
  const envCanary = `CANARY-ENV-${randomBytes(8).toString('hex')}`
  const secretCanary = `CANARY-SECRET-${randomBytes(8).toString('hex')}`

  beforeAll(async () => {
    process.env.WHARF_TEST_CANARY = envCanary
    server = await serveTemp()
    secrets = await tempDir('wharf-secrets-')
    fs.writeFileSync(path.join(secrets, 'shadow'), secretCanary, { mode: 0o600 })
    listener = net.createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  })
  afterAll(async () => {
    delete process.env.WHARF_TEST_CANARY
    listener?.close()
    await server?.close()
  })

  it('fails at every attempt to get out, and its report carries no canary', async () => {
    expect(server.registry.sandbox.kind).toBe('bwrap')
    const keyFile = path.join(server.registry.repo.dir, REGISTRY_KEY_PATH)
    const key = fs.readFileSync(keyFile, 'utf8')
    const { port } = listener.address() as net.AddressInfo
    const crate = hostileCrate(await tempDir('wharf-hostile-'), {
      KEY: keyFile,
      SHADOW: path.join(secrets, 'shadow'),
      DATA: server.dataDir,
      WRITE_NEW: path.join(secrets, 'written-by-build'),
      WRITE_NEW_FROM_TEST: path.join(secrets, 'written-by-test'),
      ENV_CANARY: envCanary,
      LISTENER: `127.0.0.1:${port}`,
    })
    const admin = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }
    const created = await fetch(`${server.url}/crates`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'hostile', version: '0.1.0', crate: crate.toString('base64') }) })
    expect(created.status).toBe(201)

    const queued = await fetch(`${server.url}/tests/hostile?targets=native`, { method: 'POST', headers: admin })
    expect(queued.status).toBe(202)
    const job = await waitForJob(server.url, 'hostile', 240_000)
    const text = JSON.stringify(job)
    const native = job.report?.targets.find((t) => t.target === 'native')
    // The six attacks ran and each found the door shut (a test that got through fails, showing what it reached).
    expect(native?.test, text).toMatchObject({ passed: 6, failed: 0 })
    expect(job).toMatchObject({ status: 'passed', exit_code: 0 })
    expect(job.report?.targets.map((t) => t.target)).toEqual(['native'])

    for (const canary of [envCanary, secretCanary, key.trim().split('\n')[1]!, 'REACHED']) expect(text).not.toContain(canary)
    // No host path leaks: not the data dir, not wharf's own directory.
    expect(text).not.toContain(server.dataDir)
    expect(text).not.toContain(WHARF_ROOT)
    expect(connections).toBe(0)
    expect(fs.readFileSync(path.join(secrets, 'shadow'), 'utf8')).toBe(secretCanary)
    expect(fs.readdirSync(secrets)).toEqual(['shadow'])
    expect(fs.existsSync(path.join(server.registry.repo.dir, 'build-rs-was-here'))).toBe(false)
    expect(fs.existsSync(path.join(server.registry.repo.dir, 'test-was-here'))).toBe(false)
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(key)
  }, 300_000)
})

describe('without a sandbox', () => {
  it('refuses test runs with 503 naming what to install, and runs nothing', async () => {
    const server = await serveTemp({ sandbox: { bwrap: '/nonexistent/bwrap' } })
    try {
      expect(server.registry.sandbox).toMatchObject({ kind: 'unavailable' })
      expect(server.logs.some((l) => l.startsWith('test runs: refused, no sandbox'))).toBe(true)
      const admin = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }
      const work = await tempDir('wharf-plain-crate-')
      fs.mkdirSync(path.join(work, 'plain-0.1.0'))
      fs.writeFileSync(path.join(work, 'plain-0.1.0', 'Cargo.toml'), '[package]\nname = "plain"\nversion = "0.1.0"\n')
      execFileSync('tar', ['-C', work, '-czf', path.join(work, 'plain.crate'), 'plain-0.1.0'])
      const crate = fs.readFileSync(path.join(work, 'plain.crate'))
      expect((await fetch(`${server.url}/crates`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'plain', version: '0.1.0', crate: crate.toString('base64') }) })).status).toBe(201)
      const refused = await fetch(`${server.url}/tests/plain`, { method: 'POST', headers: admin })
      expect(refused.status).toBe(503)
      const body = (await refused.json()) as { status: string; code: string; error: string; hint: string }
      expect(body).toMatchObject({ status: 'error', code: 'NO_SANDBOX' })
      expect(body.error).toContain('/nonexistent/bwrap')
      expect(body.hint).toContain('apt-get install bubblewrap')
      expect(body.hint).toContain(`REGISTRY_UNSANDBOXED_TESTS=${UNSANDBOXED_OPT_OUT}`)
      expect((await fetch(`${server.url}/tests/plain`)).status).toBe(404)
    } finally {
      await server.close()
    }
  })

  it('runs them only for the exact opt-out phrase', () => {
    expect(configFromEnv({}).sandbox).toEqual({ unsandboxed: false })
    expect(configFromEnv({ REGISTRY_UNSANDBOXED_TESTS: UNSANDBOXED_OPT_OUT }).sandbox).toEqual({ unsandboxed: true })
    expect(() => configFromEnv({ REGISTRY_UNSANDBOXED_TESTS: '1' })).toThrow(/not the opt-out phrase/)
  })

  it('scrubs host paths from what an unsandboxed run reports, whole paths only', () => {
    const paths = hostPaths(['/srv/registry-data'], { HOME: '/home/alice' })
    const scrubbed = scrubPaths({ a: `${WHARF_ROOT}/src/x.ts`, b: ['/home/alice/.cargo/registry', '/home/alicex', 'see /srv/registry-data/index'] }, paths)
    expect(scrubbed).toEqual({ a: '/opt/wharf/src/x.ts', b: ['~/.cargo/registry', '/home/alicex', 'see <hidden>/index'] })
  })
})
