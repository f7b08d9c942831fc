/**
 * A publish that carries a signed record naming a remote artifact: the
 * signature is verified before anything is fetched or stored, and the fetch
 * happens outside the write lock, so a URL that never answers holds up only
 * its own publish while another namespace's publish lands.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { generateKey, parsePrivateKey, type SigningKey } from '../../src/core/keys.js'
import { REGISTRY_KEY_PATH } from '../../src/core/layout.js'
import type { VersionRecord } from '../../src/core/types.js'
import { listBranches } from '../../src/git/index.js'
import { componentRecord } from '../../src/publish/index.js'
import { STORE_DIR } from '../../src/store/index.js'
import { component } from '../helpers/wasm.js'
import { publish, serveTemp, sha256, type TestServer } from './helpers.js'

/** A loopback server that accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; connections: () => number; close(): void }> {
  const sockets = new Set<net.Socket>()
  let count = 0
  const server = net.createServer((socket) => {
    count++
    sockets.add(socket)
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => count,
    close() {
      for (const s of sockets) s.destroy()
      server.close()
    },
  }
}

/** The record the server would make for `bytes`, plus a second artifact at `extraUrl`, signed with `key`. */
function signedWithRemote(name: string, version: string, bytes: Uint8Array, extraUrl: string, key: SigningKey): VersionRecord {
  const base = componentRecord({ name, version, description: 'with a remote artifact', dependencies: [], bytes, filename: 'main.wasm' }, 'acme', key, new Date())
  const extra = component(`${name}-extra`)
  const { signature: _old, ...unsigned } = base
  const record = { ...unsigned, artifacts: [...base.artifacts, { name: 'extra.wasm', target: 'wasm32-wasip2', url: `${extraUrl}/extra.wasm`, sha256: sha256(extra), size: extra.length }] }
  return signDocument(record, PAYLOAD_TYPES.record, key) as VersionRecord
}

const storeFiles = (server: TestServer) => {
  const dir = path.join(server.registry.repo.dir, STORE_DIR)
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []
}

describe('signed records with remote artifacts', () => {
  let server: TestServer
  let silent: Awaited<ReturnType<typeof silentServer>>
  let registryKey: SigningKey

  beforeEach(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'acme', token: 'acme-token' }, { namespace: 'other', token: 'other-token' }] })
    registryKey = parsePrivateKey(fs.readFileSync(path.join(server.registry.repo.dir, REGISTRY_KEY_PATH), 'utf8'))
    silent = await silentServer()
  })
  afterEach(async () => {
    silent.close()
    await server.close()
  })

  it('fetches outside the write lock: a URL that never answers does not stall another namespace', async () => {
    const bytes = component('acme:slow@1.0.0')
    const record = signedWithRemote('acme:slow', '1.0.0', bytes, silent.url, registryKey)
    let slowSettled = false
    const slow = publish(server.url, 'acme-token', { name: 'acme:slow', version: '1.0.0', bytes, extra: { record: JSON.stringify(record) } }).finally(() => (slowSettled = true))
    // The fetch of the extra artifact is under way (and will not end on its own for the policy's whole timeout).
    for (let i = 0; i < 400 && silent.connections() === 0; i++) await new Promise((r) => setTimeout(r, 25))
    expect(silent.connections()).toBe(1)

    const other = await publish(server.url, 'other-token', { name: 'other:fast', version: '1.0.0' })
    expect(other.status).toBe(201)
    expect(slowSettled).toBe(false)

    // The silent server hangs up: the slow publish fails on its fetch, having stored nothing.
    silent.close()
    const answer = await slow
    expect(answer.status).toBe(502)
    expect(await answer.json()).toMatchObject({ code: 'FETCH_FAILED' })
    expect(fs.existsSync(path.join(server.registry.repo.dir, 'index/packages/acme/slow/1.0.0.json'))).toBe(false)
    expect(storeFiles(server)).not.toContain(sha256(bytes))
    expect(await listBranches(server.registry.repo)).toEqual(['main'])
  }, 60_000)

  it('verifies the signature before fetching or storing anything', async () => {
    const bytes = component('acme:forged@1.0.0')
    const forged = signedWithRemote('acme:forged', '1.0.0', bytes, silent.url, parsePrivateKey(generateKey().privatePem))
    const before = storeFiles(server)
    const res = await publish(server.url, 'acme-token', { name: 'acme:forged', version: '1.0.0', bytes, extra: { record: JSON.stringify(forged) } })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'REJECTED', field: 'record', error: expect.stringMatching(/signature does not verify/) })
    expect(silent.connections()).toBe(0)
    expect(storeFiles(server)).toEqual(before)
    expect(fs.readdirSync(server.registry.layout.journal).filter((f) => f.endsWith('.json'))).toEqual([])
  })

  it('publishes a signed record whose remote artifact answers, checked against the bytes fetched before the lock', async () => {
    const extra = component('acme:fine-extra')
    const host = await new Promise<{ url: string; close(): void }>((resolve) => {
      const srv = net.createServer((socket) => {
        socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/wasm\r\ncontent-length: ${extra.length}\r\nconnection: close\r\n\r\n${Buffer.from(extra).toString('latin1')}`, 'latin1'))
      })
      srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, close: () => srv.close() }))
    })
    try {
      const bytes = component('acme:fine@1.0.0')
      const base = componentRecord({ name: 'acme:fine', version: '1.0.0', description: 'fine', dependencies: [], bytes, filename: 'main.wasm' }, 'acme', registryKey, new Date())
      const { signature: _old, ...unsigned } = base
      const record = signDocument(
        { ...unsigned, artifacts: [...base.artifacts, { name: 'extra.wasm', target: 'wasm32-wasip2', url: `${host.url}/extra.wasm`, sha256: sha256(extra), size: extra.length }] },
        PAYLOAD_TYPES.record,
        registryKey,
      )
      const res = await publish(server.url, 'acme-token', { name: 'acme:fine', version: '1.0.0', bytes, extra: { record: JSON.stringify(record) } })
      expect(res.status, await res.clone().text()).toBe(201)
    } finally {
      host.close()
    }
  })
})
