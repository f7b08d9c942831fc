/**
 * A full disk, for real: the data dir on a small tmpfs mounted for the test.
 * The disk is filled to within a few pages of full, then publishes run with
 * a little more room each time, so they fail at every step a write takes
 * (journal, store, objects, refs, work tree, build). Each answers 201 or 507
 * with a clear message, and none leaves anything half-written. Then space is
 * freed, crash leftovers are planted, and a restart removes them: the index
 * audits clean, git fsck finds nothing broken, and no orphan file remains.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { deflateSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { listBranches, MAIN, readJsonAt, resolveCommit } from '../../src/git/index.js'
import { recordPath } from '../../src/core/layout.js'
import { STORE_DIR } from '../../src/store/index.js'
import { component } from '../helpers/wasm.js'
import { publish, serveTemp, sha256, type TestServer } from './helpers.js'

const MOUNT_BYTES = 32 * 1024 * 1024

let mount: string
let dataDir: string

beforeAll(() => {
  mount = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-full-disk-'))
  // A real, small file system: tmpfs needs root (the test machine and CI run as root).
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_BYTES},mode=0755`, 'tmpfs', mount])
  dataDir = path.join(mount, 'data')
})

afterAll(() => {
  if (mount) {
    spawnSync('umount', [mount])
    fs.rmSync(mount, { recursive: true, force: true })
  }
})

/** Writes `file` until the disk is full; returns its size. */
function fill(file: string): number {
  const fd = fs.openSync(file, 'w')
  let size = 0
  try {
    for (const chunk of [1024 * 1024, 4096]) {
      const block = Buffer.alloc(chunk, 1)
      for (;;) {
        try {
          size += fs.writeSync(fd, block)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
          break
        }
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  return size
}

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name))
  return out
}

/** What no write may leave: temp files anywhere in the data dir, broken objects (git fsck), branches besides main. */
async function expectNothingHalfWritten(server: TestServer, when: string): Promise<void> {
  expect(filesUnder(dataDir).filter((f) => f.endsWith('.tmp')), when).toEqual([])
  const fsck = spawnSync('git', ['fsck', '--full', '--no-dangling', '--no-progress'], { cwd: server.registry.repo.dir, encoding: 'utf8' })
  expect(`${fsck.status} ${fsck.stderr}${fsck.stdout}`, when).toBe('0 ')
  expect(await listBranches(server.registry.repo), when).toEqual([MAIN])
  expect(fs.existsSync(path.join(server.registry.repo.dir, '.wharf', 'lock')), when).toBe(false)
}

/** A process id that is not running (a child that has exited). */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' })
  return Number(child.stdout.trim())
}

describe('a full disk', () => {
  it('answers 507 and leaves nothing half-written; a restart cleans what a crash left', async () => {
    let server = await serveTemp({ dataDir, tokens: [{ namespace: 'disk', token: 'disk-token' }] })
    const accepted: string[] = []
    const refused: string[] = []
    try {
      expect((await publish(server.url, 'disk-token', { name: 'disk:pkg', version: '0.0.1' })).status).toBe(201)
      accepted.push('0.0.1')
      const filler = path.join(mount, 'filler')
      const full = fill(filler)
      // 64 kB artifacts; from no room at all to room for a few, a page more each time.
      for (let gap = 0, i = 0; gap <= 384 * 1024; gap += gap < 96 * 1024 ? 4096 : 32 * 1024, i++) {
        fs.truncateSync(filler, full - gap)
        const version = `1.0.${i}`
        const bytes = padded(`disk:pkg@${version}`, 64 * 1024)
        const res = await publish(server.url, 'disk-token', { name: 'disk:pkg', version, bytes })
        const body = (await res.json()) as { code?: string; error?: string }
        expect([201, 507], `${version} with ${gap} bytes free: ${JSON.stringify(body)}`).toContain(res.status)
        if (res.status === 507) {
          refused.push(version)
          expect(body).toMatchObject({ code: 'NO_SPACE', error: expect.stringMatching(/the disk is full \(ENOSPC\); nothing was written/) })
          expect(await readJsonAt(server.registry.repo, MAIN, recordPath('disk:pkg', version)), version).toBeUndefined()
          expect(fs.existsSync(path.join(server.registry.repo.dir, STORE_DIR, sha256(bytes))), version).toBe(false)
        } else {
          accepted.push(version)
        }
        await expectNothingHalfWritten(server, `${version} with ${gap} bytes free (${res.status})`)
      }
      // Both outcomes were met: the loop went from no room to enough.
      expect(refused.length).toBeGreaterThan(3)
      expect(accepted.length).toBeGreaterThan(2)
      fs.rmSync(filler)

      // What a crash mid-write would leave: temp files of a dead writer, an empty and a truncated loose object, a build's temp file.
      const repoDir = server.registry.repo.dir
      const dead = deadPid()
      const planted = [
        path.join(repoDir, STORE_DIR, `${'ab'.repeat(32)}.${dead}.0123abcd.tmp`),
        path.join(repoDir, '.git', 'refs', 'heads', `main.${dead}.89abcdef.tmp`),
        path.join(server.registry.layout.state, `downloads.json.${dead}.deadbeef.tmp`),
        path.join(server.registry.layout.public, 'api', 'v1', 'stats.0badf00d.tmp'),
      ]
      for (const file of planted) fs.writeFileSync(file, 'half')
      const objects = path.join(repoDir, '.git', 'objects')
      fs.mkdirSync(path.join(objects, 'fe'), { recursive: true })
      fs.writeFileSync(path.join(objects, 'fe', '0'.repeat(38)), '')
      fs.writeFileSync(path.join(objects, 'fe', '1'.repeat(38)), deflateSync(Buffer.from('blob 100\0only part of it')).subarray(0, 12))
      await server.close()

      server = await serveTemp({ dataDir, tokens: [{ namespace: 'disk', token: 'disk-token' }] })
      for (const file of planted) expect(fs.existsSync(file), file).toBe(false)
      expect(fs.existsSync(path.join(objects, 'fe', '0'.repeat(38)))).toBe(false)
      expect(fs.existsSync(path.join(objects, 'fe', '1'.repeat(38)))).toBe(false)
      expect(server.logs.filter((l) => l.startsWith('recovered: removed')).length).toBeGreaterThanOrEqual(5)
      await expectNothingHalfWritten(server, 'after the restart')
      expect(fs.readdirSync(server.registry.layout.journal).filter((f) => f.endsWith('.json'))).toEqual([])

      const audit = await auditIndex(server.registry.repo)
      expect(audit.violations).toEqual([])
      // Every acknowledged version is there exactly once, no refused one is, and the store holds only what records name.
      const versions = [...(server.registry.catalog.packages.get('disk:pkg')?.versions.keys() ?? [])].sort()
      expect(versions).toEqual([...accepted].sort())
      const named = new Set([...server.registry.catalog.packages.values()].flatMap((p) => [...p.versions.values()].flatMap((v) => v.record.artifacts.map((a) => a.sha256))))
      expect(fs.readdirSync(path.join(repoDir, STORE_DIR)).filter((f) => !named.has(f))).toEqual([])
      // The generated API caught up with main, and the registry takes writes again.
      expect(JSON.parse(fs.readFileSync(server.registry.layout.builtFile, 'utf8')).commit).toBe(await resolveCommit(server.registry.repo, MAIN))
      expect((await publish(server.url, 'disk-token', { name: 'disk:pkg', version: '2.0.0' })).status).toBe(201)
    } finally {
      await server.close()
    }
  }, 300_000)
})

/** A component `size` bytes larger than `component(label)`: a custom section of padding after it. */
function padded(label: string, size: number): Buffer {
  const leb = (n: number) => {
    const out: number[] = []
    do {
      out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0))
      n >>>= 7
    } while (n > 0)
    return Buffer.from(out)
  }
  const body = Buffer.concat([Buffer.from([3]), Buffer.from('pad'), Buffer.alloc(size, label.length)])
  return Buffer.concat([component(label), Buffer.from([0]), leb(body.length), body])
}
