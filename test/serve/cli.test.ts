/** `wharf serve` and `npm start` as a user runs them: first start, the generated admin token, configuration errors. */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { configFromEnv, parseTokens } from '../../src/serve/index.js'
import { wharf } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'
import { publish, serveChild, serveTemp } from './helpers.js'

describe('wharf serve', () => {
  it('creates the registry on first start and prints the URL, a generated admin token (stored 0600) and a publish command', async () => {
    const dataDir = await tempDir('wharf-serve-cli-')
    const first = await serveChild(dataDir)
    try {
      await new Promise((r) => setTimeout(r, 200))
      const out = first.output()
      const token = /Admin token[^\n]*\n\s+(\S+)/.exec(out)?.[1]
      expect(token).toMatch(/^wharf_/)
      const file = path.join(dataDir, 'state', 'admin-token')
      expect(fs.statSync(file).mode & 0o777).toBe(0o600)
      expect(fs.readFileSync(file, 'utf8').trim()).toBe(token)
      expect(out).toContain(`curl -X POST ${first.url}/api/v1/packages -H "Authorization: Bearer ${token}"`)
      expect(fs.existsSync(path.join(dataDir, 'index', '.git'))).toBe(true)
      expect(fs.existsSync(path.join(dataDir, 'index', '.wharf', 'registry.key'))).toBe(true)
      expect((await publish(first.url, token, { name: 'first:pkg', version: '1.0.0' })).status).toBe(201)
    } finally {
      await first.stop()
    }
    // The second start keeps the token and says nothing about it.
    const second = await serveChild(dataDir)
    try {
      expect(second.output()).not.toContain('Admin token')
      expect((await fetch(`${second.url}/packages/first%3Apkg/1.0.0/artifact.wasm`)).status).toBe(200)
      expect((await publish(second.url, fs.readFileSync(path.join(dataDir, 'state', 'admin-token'), 'utf8').trim(), { name: 'first:pkg', version: '1.0.1' })).status).toBe(201)
    } finally {
      await second.stop()
    }
    // A download count survives the restart.
    const third = await serveChild(dataDir, { REGISTRY_ADMIN_TOKEN: 'configured' })
    try {
      const stats = (await (await fetch(`${third.url}/api/v1/stats`)).json()) as { download_count: number; version_count: number }
      expect(stats).toMatchObject({ download_count: 1, version_count: 2 })
      expect((await publish(third.url, 'configured', { name: 'first:pkg', version: '1.0.2' })).status).toBe(201)
    } finally {
      await third.stop()
    }
  }, 60_000)

  it('refuses a second server on the same data dir', async () => {
    const dataDir = await tempDir('wharf-serve-lock-')
    const first = await serveChild(dataDir)
    try {
      const second = await wharf(['serve'], { env: { PORT: '0', HOST: '127.0.0.1', REGISTRY_DATA_DIR: dataDir } })
      expect(second.code).toBe(2)
      expect(second.stderr).toMatch(/is served by process \d+/)
    } finally {
      await first.stop()
    }
  }, 60_000)

  it('says what is wrong with the environment, with exit 2', async () => {
    for (const [env, message] of [
      [{ PORT: 'eighty' }, /PORT="eighty"/],
      [{ REGISTRY_TOKENS: 'acme' }, /REGISTRY_TOKENS entry "acme"/],
      [{ REGISTRY_TOKENS: 'Acme:x' }, /namespace/],
      [{ REGISTRY_MAX_UPLOAD_MB: '0' }, /REGISTRY_MAX_UPLOAD_MB/],
      [{ REGISTRY_URL: 'localhost:8080' }, /REGISTRY_URL/],
    ] as const) {
      const run = await wharf(['serve'], { env })
      expect(run.code, JSON.stringify(env)).toBe(2)
      expect(run.stderr).toMatch(message)
    }
  })

  it('reads the Run registry environment with its defaults', () => {
    const config = configFromEnv({})
    expect(config).toMatchObject({ port: 8080, maxUploadBytes: 50 * 1024 * 1024, rateLimitPerMin: 120, tokens: [] })
    expect(config.dataDir).toBe(path.resolve('registry-data'))
    expect(configFromEnv({ PORT: '9000', REGISTRY_URL: 'https://r.example/', REGISTRY_MAX_UPLOAD_MB: '2' })).toMatchObject({ port: 9000, url: 'https://r.example', maxUploadBytes: 2 * 1024 * 1024 })
    expect(parseTokens('acme:a1, run:b:2 ,*:root')).toEqual([
      { namespace: 'acme', token: 'a1' },
      { namespace: 'run', token: 'b:2' },
      { namespace: '*', token: 'root' },
    ])
  })

  it('publishes with --registry and reads back with search, info, list, stats and health', async () => {
    const server = await serveTemp({ tokens: [{ namespace: 'cli', token: 'cli-token' }] })
    try {
      const dir = await tempDir('wharf-remote-')
      const file = path.join(dir, 'calc.wasm')
      fs.writeFileSync(file, component('cli calc'))
      const registry = ['--registry', server.url]
      const published = await wharf(['publish', file, '--name', 'cli:calc', '--version', '1.2.0', '--description', 'CLI calculator', '--license', 'MIT', '--token', 'cli-token', ...registry])
      expect(published.stderr).toBe('')
      expect(published.stdout).toMatch(/^Published cli:calc@1\.2\.0 \(sha256 [0-9a-f]{64}\)/)
      const again = await wharf(['publish', file, '--name', 'cli:calc', '--version', '1.2.0', '--token', 'cli-token', ...registry])
      expect(again.code).toBe(1)
      expect(again.stderr).toMatch(/already published/)
      const badToken = await wharf(['publish', file, '--name', 'cli:calc', '--version', '1.3.0', '--token', 'nope', ...registry])
      expect(badToken.code).toBe(1)
      expect(badToken.stderr).toMatch(/token/)

      // A record signed by the publisher is taken as is when the key is the namespace's, refused otherwise.
      const registryKey = path.join(server.registry.repo.dir, '.wharf', 'registry.key')
      const signed = await wharf(['publish', file, '--name', 'cli:calc', '--version', '1.3.0', '--description', 'CLI calculator', '--key', registryKey, '--author', 'cli', '--token', 'cli-token', '--json', ...registry])
      expect(signed.code, signed.stderr).toBe(0)
      expect(JSON.parse(signed.stdout)).toMatchObject({ name: 'cli:calc', version: '1.3.0', publisher: 'cli' })
      const stranger = path.join(dir, 'stranger.key')
      expect((await wharf(['keygen', '--out', stranger])).code).toBe(0)
      const foreign = await wharf(['publish', file, '--name', 'cli:calc', '--version', '1.4.0', '--key', stranger, '--token', 'cli-token', ...registry])
      expect(foreign.code).toBe(1)
      expect(foreign.stderr).toMatch(/record\/signature/)

      const found = await wharf(['search', 'calculator', ...registry])
      expect(found.stdout).toMatch(/^cli:calc@1\.3\.0\s+CLI calculator$/m)
      const info = await wharf(['info', 'cli:calc', '--json', ...registry])
      expect(JSON.parse(info.stdout)).toMatchObject({ name: 'cli:calc', version: '1.3.0', versions: ['1.2.0', '1.3.0'] })
      const pinned = await wharf(['info', 'cli:calc@1.2.0', ...registry])
      expect(pinned.stdout).toMatch(/^cli:calc@1\.2\.0\n/)
      expect(pinned.stdout).toContain('license     MIT')
      const all = JSON.parse((await wharf(['list', '--json', ...registry])).stdout) as { name: string }[]
      expect(all.map((p) => p.name)).toEqual(['cli:calc'])
      expect(JSON.parse((await wharf(['stats', '--json', ...registry])).stdout)).toMatchObject({ package_count: 1, version_count: 2 })
      expect((await wharf(['health', ...registry])).code).toBe(0)
      const down = await wharf(['health', '--registry', 'http://127.0.0.1:9'])
      expect(down.code).toBe(1)
      const unreachable = await wharf(['stats', '--registry', 'http://127.0.0.1:9'])
      expect(unreachable.code).toBe(2)
      expect(unreachable.stderr).toMatch(/cannot reach the registry/)
    } finally {
      await server.close()
    }
  }, 60_000)

  it('never sends a publish token over plain http to another host, and sends nothing at all', async () => {
    // A server on this machine, reached by its own name: as far as the URL says, another host.
    let requests = 0
    const server = http.createServer((_req, res) => {
      requests++
      res.writeHead(500).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const file = path.join(await tempDir(), 'calc.wasm')
      fs.writeFileSync(file, component('calc'))
      const url = `http://${os.hostname()}:${(server.address() as AddressInfo).port}`
      const run = await wharf(['publish', file, '--name', 'cli:calc', '--version', '1.0.0', '--token', 'secret-token', '--registry', url])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/is not https, and a publish token would cross the network in the clear/)
      expect(requests).toBe(0)
    } finally {
      server.close()
    }
  })

  it('npm start runs the registry and prints its URL', async () => {
    const dataDir = await tempDir('wharf-npm-start-')
    // Its own process group, so the whole npm → node chain stops together.
    const child = spawn('npm', ['start', '--silent'], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REGISTRY_DATA_DIR: dataDir }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise((resolve) => child.on('exit', resolve))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start did not print a URL:\n${out}`)), 40_000)
        child.stdout!.on('data', () => {
          const m = /listening on (http:\/\/\S+)/.exec(out)
          if (m) {
            clearTimeout(timer)
            resolve(m[1]!)
          }
        })
      })
      expect((await fetch(`${url}/health`)).status).toBe(200)
    } finally {
      process.kill(-child.pid!, 'SIGTERM')
      await exited
    }
  }, 60_000)
})
