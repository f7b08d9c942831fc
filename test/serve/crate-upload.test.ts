/**
 * A `.crate` sent to `wharf serve` is read entry by entry before anything is
 * stored: through Cargo's publish API and the WasmRust routes, a hostile
 * archive is refused with 400 and a message naming the entry, and leaves no
 * record, branch or artifact behind.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { crateArchive, goodCrate, type TarMember } from '../helpers/tar.js'
import { serveTemp, sha256, type TestServer } from './helpers.js'

const TOKEN = 'crate-upload-token'

/** Cargo's publish body: u32 LE length, JSON metadata, u32 LE length, the .crate. */
function cargoBody(name: string, version: string, crate: Buffer) {
  const json = Buffer.from(JSON.stringify({ name, vers: version, deps: [], features: {} }))
  const body = Buffer.alloc(8 + json.length + crate.length)
  body.writeUInt32LE(json.length, 0)
  json.copy(body, 4)
  body.writeUInt32LE(crate.length, 4 + json.length)
  crate.copy(body, 8 + json.length)
  return body
}

const hostile = (version: string, member: TarMember) => crateArchive([{ path: `evil-${version}/Cargo.toml`, content: '[package]\n' }, member])

describe('.crate uploads to wharf serve', () => {
  let server: TestServer

  beforeAll(async () => {
    server = await serveTemp({ tokens: [{ namespace: 'crates', token: TOKEN }] })
  })
  afterAll(async () => {
    await server?.close()
  })

  const stored = () => {
    const dir = path.join(server.registry.repo.dir, '.wharf', 'artifacts', 'sha256')
    return fs.existsSync(dir) ? fs.readdirSync(dir) : []
  }

  it.each([
    ['a symbolic link', '0.1.0', { path: 'evil-0.1.0/passwd', type: '2', linkpath: '/etc/passwd' } as TarMember, /holds a symbolic link: "evil-0\.1\.0\/passwd"/],
    ['..', '0.2.0', { path: 'evil-0.2.0/../../../tmp/evil', content: 'x' } as TarMember, /climbs out with "\.\."/],
    ['an absolute path', '0.3.0', { path: '/tmp/evil', content: 'x' } as TarMember, /has an absolute path/],
    ['a hard link', '0.4.0', { path: 'evil-0.4.0/hard', type: '1', linkpath: 'evil-0.4.0/Cargo.toml' } as TarMember, /holds a hard link/],
  ])('Cargo publish API: refuses a .crate with %s (400, nothing stored)', async (_what, version, member, message) => {
    const before = stored()
    const crate = hostile(version, member)
    const res = await fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: TOKEN }, body: cargoBody('evil', version, crate) })
    expect(res.status).toBe(400)
    const answer = (await res.json()) as { errors: { detail: string }[] }
    expect(answer.errors[0]!.detail).toMatch(message)
    expect(stored()).toEqual(before)
    expect(stored()).not.toContain(sha256(crate))
    expect(fs.existsSync(path.join(server.registry.repo.dir, 'index/packages/crates/evil'))).toBe(false)
    expect((await fetch(`${server.url}/api/v1/packages/crates%3Aevil/versions`)).status).toBe(404)
  })

  it('Cargo publish API: refuses a .crate whose top directory is not <name>-<version>', async () => {
    const res = await fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: TOKEN }, body: cargoBody('evil', '1.0.0', goodCrate('other', '1.0.0')) })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { errors: { detail: string }[] }).errors[0]!.detail).toMatch(/outside its top directory evil-1\.0\.0\//)
  })

  it('Cargo publish API: takes a well-formed .crate', async () => {
    const res = await fetch(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: TOKEN }, body: cargoBody('calc', '1.0.0', goodCrate('calc', '1.0.0')) })
    expect(res.status, await res.clone().text()).toBe(200)
    expect(stored()).toContain(sha256(goodCrate('calc', '1.0.0')))
  })

  it('WasmRust POST /crates: refuses a .crate with a link (400, the field named)', async () => {
    const crate = hostile('0.5.0', { path: 'evil-0.5.0/link', type: '2', linkpath: '../../..' })
    const res = await fetch(`${server.url}/crates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'evil', version: '0.5.0', crate: crate.toString('base64') }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ status: 'error', error: expect.stringMatching(/holds a symbolic link/) })
  })
})
