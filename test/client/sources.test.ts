/**
 * The same install against other kinds of registry: `wharf serve` (its
 * static files and its counted download routes), and output whose artifacts
 * live at URLs that answer with a redirect, as GitHub release assets do.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { install, parseLockfile, writeToken } from '../../src/client/index.js'
import { sha256Hex } from '../../src/core/hash.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, tempDir } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'
import { publish, serveTemp, type TestServer } from '../serve/helpers.js'
import { buildTo, commitPastGate, recordFile, signedRecord, startRedirector, type Redirector } from './helpers.js'

async function fresh(registry: string, cache?: string) {
  const cwd = await tempDir('wharf-project-')
  const cacheDir = cache ?? (await tempDir('wharf-cache-'))
  const dir = path.join(cwd, 'wasm_components')
  const lockfile = path.join(cwd, 'wharf.lock')
  return { cwd, cacheDir, dir, lockfile, run: (requests: string[]) => install({ registry, requests, dir, lockfile, cacheDir, http: { retryDelayMs: 20 } }) }
}

describe('against wharf serve', () => {
  let server: TestServer
  const token = 'client-test-token'
  const lib = component('served lib')
  const app = component('served app')

  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'shop', token }] })
    for (const [name, bytes, deps] of [
      ['shop:lib', lib, []],
      ['shop:app', app, [{ name: 'shop:lib', version: '^0.3', optional: false }]],
    ] as const) {
      const res = await publish(server.url, token, { name, version: '0.3.1', bytes, extra: { dependencies: JSON.stringify(deps) } })
      expect(res.status, await res.clone().text()).toBe(201)
    }
  }, 120_000)

  afterAll(async () => {
    await server?.close()
  })

  it('installs a package and its dependency, and a second install downloads nothing', async () => {
    const p = await fresh(server.url)
    const result = await p.run(['shop:app'])
    expect(result.packages.map((e) => `${e.name}@${e.version}`)).toEqual(['shop:app@0.3.1', 'shop:lib@0.3.1'])
    expect(fs.readFileSync(path.join(p.dir, 'shop-lib-0.3.1.wasm')).equals(lib)).toBe(true)
    expect(fs.readFileSync(path.join(p.dir, 'shop-app-0.3.1.wasm')).equals(app)).toBe(true)
    const lock = parseLockfile(fs.readFileSync(p.lockfile, 'utf8'), p.lockfile)
    expect(lock.packages.map((e) => e.sha256)).toEqual([sha256Hex(app), sha256Hex(lib)])
    // The server counts each artifact it sends.
    const downloads = () => server.registry.downloads.total()
    expect(downloads()).toBe(2)

    const again = await fresh(server.url, p.cacheDir)
    fs.copyFileSync(p.lockfile, again.lockfile)
    const warm = await again.run([])
    expect(warm.packages.map((e) => e.status)).toEqual(['written', 'written'])
    expect(downloads()).toBe(2)
  })

  it('publishes with the token credentials.toml stores for the registry, no --token needed', async () => {
    const config = await tempDir('wharf-config-')
    const file = writeToken(server.url, token, { XDG_CONFIG_HOME: config })
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const artifact = path.join(config, 'tool.wasm')
    fs.writeFileSync(artifact, component('stored token'))
    const run = await wharf(['publish', artifact, '--name', 'shop:tool', '--version', '1.0.0', '--registry', server.url, '--json'], { env: { XDG_CONFIG_HOME: config, WHARF_TOKEN: '' } })
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'shop:tool', version: '1.0.0' })
  })
})

describe('artifacts behind redirects', () => {
  let nginx: Nginx
  let redirector: Redirector

  beforeAll(async () => {
    redirector = await startRedirector()
    const idx = await createTestIndex()
    const far = component('far away')
    const near = component('near by')
    // Records that name release-asset URLs, as a GitHub-hosted registry's do.
    const farRecord = await signedRecord(idx, { name: 'acme:far', version: '2.1.0', bytes: far, url: redirector.add('far.wasm', far) })
    const nearRecord = await signedRecord(idx, {
      name: 'acme:near',
      version: '1.0.0',
      bytes: near,
      url: redirector.add('near.wasm', near),
      dependencies: [{ name: 'acme:far', req: '^2', optional: false }],
    })
    await commitPastGate(idx, 'releases', [recordFile(farRecord), recordFile(nearRecord)])
    nginx = await startNginx(await buildTo(idx, { ref: 'releases' }))
  }, 120_000)

  afterAll(async () => {
    await nginx?.stop()
    await redirector?.close()
  })

  it('follows the redirect and verifies what it lands on', async () => {
    const p = await fresh(nginx.url)
    const result = await p.run(['acme:near'])
    expect(result.packages.map((e) => `${e.name}@${e.version}`)).toEqual(['acme:far@2.1.0', 'acme:near@1.0.0'])
    expect(fs.readFileSync(path.join(p.dir, 'acme-far-2.1.0.wasm')).equals(component('far away'))).toBe(true)
    expect(redirector.requests).toEqual(expect.arrayContaining(['GET /releases/far.wasm', 'GET /releases/near.wasm', `GET /objects/${sha256Hex(component('far away'))}`]))
    // The lockfile keeps the URL the record names, not where it happened to redirect.
    const lock = parseLockfile(fs.readFileSync(p.lockfile, 'utf8'), p.lockfile)
    expect(lock.packages.find((e) => e.name === 'acme:far')!.source).toBe(`${redirector.url}/releases/far.wasm`)
  })
})
