/**
 * What `wharf install` says when a registry's own signed files are broken,
 * or the user's own files fail it (a damaged trust file, a full disk, an
 * install directory that is not one): a refusal (exit 1) or an environment
 * error (exit 2) naming the file and the way out, never an internal failure
 * (exit 3), and nothing half-installed.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { feedPagePath, PATHS, versionsPath } from '../../src/api/documents.js'
import { createHttp, openCache, openReader, readFeed } from '../../src/client/index.js'
import { leafDigitsOf, leafOf, nodePath, SNAPSHOT_PATH, verifySnapshot, type Snapshot } from '../../src/api/snapshot.js'
import { keyId } from '../../src/core/keys.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { WHARF, wharf } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'
import { buildTo, copyTree, createGraphIndex, listFiles, replaceSigned, type GraphIndex } from './helpers.js'

let graph: GraphIndex
let out: string
const servers: Nginx[] = []

/** A copy of the registry with `file` replaced by `bytes` and signed again, served by its own nginx. */
async function brokenRegistry(file: string, bytes: string): Promise<string> {
  const copy = await copyTree(out)
  replaceSigned(graph.idx, copy, file, bytes)
  const nginx = await startNginx(copy)
  servers.push(nginx)
  return nginx.url
}

const freshHome = async () => ({ XDG_CACHE_HOME: await tempDir('wharf-cache-'), XDG_CONFIG_HOME: await tempDir('wharf-config-'), WHARF_REGISTRY: '' })

beforeAll(async () => {
  graph = await createGraphIndex()
  out = await buildTo(graph.idx)
  servers.push(await startNginx(out))
}, 120_000)

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
})

describe('a registry that signed a broken file', () => {
  it('the fixture: the snapshot signed again verifies over the replaced bytes', async () => {
    const copy = await copyTree(out)
    const file = versionsPath('acme:calc')
    replaceSigned(graph.idx, copy, file, 'not json')
    const config = JSON.parse(fs.readFileSync(path.join(copy, 'config.json'), 'utf8')) as { keys: { public_key: string }[] }
    const verdict = await verifySnapshot({
      read: async (p) => fs.promises.readFile(path.join(copy, p)).catch(() => undefined),
      keys: config.keys.map((k) => ({ id: keyId(k.public_key), public_key: k.public_key })),
    })
    expect(verdict.problems).toEqual([])
    expect(verdict.ok).toBe(true)
    expect(fs.readFileSync(path.join(copy, file), 'utf8')).toBe('not json')
  })

  it.each([
    ['not JSON', 'not json', /api\/v1\/packages\/acme:calc\/versions is not JSON/],
    ['not an object', 'null', /api\/v1\/packages\/acme:calc\/versions is not a valid registry document/],
  ])('a versions document that is %s is refused (exit 1), nothing written', async (_what, bytes, message) => {
    const url = await brokenRegistry(versionsPath('acme:calc'), bytes)
    const cwd = await tempDir('wharf-project-')
    const run = await wharf(['install', 'acme:calc', '--registry', url], { cwd, env: await freshHome() })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toMatch(message)
    expect(run.stderr).toContain("report it to its operators")
    expect(await listFiles(cwd)).toEqual([])
  })

  it('a snapshot part that is not JSON is refused as an invalid snapshot (exit 1)', async () => {
    const snapshot = JSON.parse(fs.readFileSync(path.join(out, SNAPSHOT_PATH), 'utf8')) as Snapshot
    const part = leafOf(versionsPath('acme:calc'), leafDigitsOf(snapshot)).slice(0, 2)
    const url = await brokenRegistry(nodePath(part), '{"leaves": ')
    const cwd = await tempDir('wharf-project-')
    const run = await wharf(['install', 'acme:calc', '--registry', url, '--json'], { cwd, env: await freshHome() })
    expect(run.code, run.stderr).toBe(1)
    expect(JSON.parse(run.stderr.trim().split('\n').pop()!)).toMatchObject({ code: 'SNAPSHOT_INVALID', error: expect.stringContaining(`${nodePath(part)} is not JSON`) })
    expect(await listFiles(cwd)).toEqual([])
  })
})

describe('a peer whose signed feed is broken', () => {
  it.each([
    ['an entry that is not a numbered change', feedPagePath(0), (text: string) => text.replace('"entries": [', '"entries": [\n    null,'), /feed page 0 of .* holds an entry that is not a numbered change/],
    ['a head past every page there is', PATHS.feedHead, (text: string) => text.replace(/"seq": \d+/, '"seq": 9007199254740991'), /says it ends at 9007199254740991, more pages than the registry has files/],
  ])('%s is refused (INVALID_RECORD), not a crash', async (_what, file, edit, message) => {
    const text = fs.readFileSync(path.join(out, file), 'utf8')
    expect(edit(text)).not.toBe(text)
    const url = await brokenRegistry(file, edit(text))
    const reader = await openReader({ url, http: createHttp(), cache: openCache(await tempDir('wharf-cache-')) })
    await expect(readFeed(reader)).rejects.toMatchObject({ code: 'INVALID_RECORD', message: expect.stringMatching(message) })
  })
})

describe("the user's own files", () => {
  it('a damaged trust file is named, with the way out (exit 2), and kept for the user to look at', async () => {
    const home = await freshHome()
    const cwd = await tempDir('wharf-project-')
    const first = await wharf(['install', 'acme:calc', '--registry', servers[0]!.url], { cwd, env: home })
    expect(first.code, first.stderr).toBe(0)
    const [state] = fs.readdirSync(path.join(home.XDG_CACHE_HOME, 'wharf', 'registries'))
    const trust = path.join(home.XDG_CACHE_HOME, 'wharf', 'registries', state!, 'trust.json')
    for (const damaged of ['{"keys": [', '{}', '{"keys": [{"id": 1}]}']) {
      fs.writeFileSync(trust, damaged)
      const run = await wharf(['install', 'acme:base', '--registry', servers[0]!.url], { cwd, env: home })
      expect(run.code, `${damaged}: ${run.stderr}`).toBe(2)
      expect(run.stderr).toContain(`${trust} is damaged`)
      expect(run.stderr).toContain('delete it')
      expect(fs.readFileSync(trust, 'utf8')).toBe(damaged)
    }
    expect(await listFiles(cwd)).toEqual(['wasm_components/acme-calc-1.0.0.wasm', 'wharf.lock'])
  })

  it('an install directory that is a file is named (exit 2), and the lockfile is not written', async () => {
    const cwd = await tempDir('wharf-project-')
    fs.writeFileSync(path.join(cwd, 'wasm_components'), 'mine')
    const run = await wharf(['install', 'acme:calc', '--registry', servers[0]!.url], { cwd, env: await freshHome() })
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toMatch(/cannot (read|write) .*wasm_components/)
    expect(fs.readFileSync(path.join(cwd, 'wasm_components'), 'utf8')).toBe('mine')
    expect(await listFiles(cwd)).toEqual(['wasm_components'])
  })

  it('a full disk is NO_SPACE (exit 2) naming the file, and the lockfile is not written', async () => {
    // The install directory is a tmpfs of one page, in a bubblewrap mount namespace: the second artifact does not fit.
    const cwd = await tempDir('wharf-project-')
    const dir = path.join(cwd, 'wasm_components')
    fs.mkdirSync(dir)
    const home = await freshHome()
    const run = spawnSync(
      'bwrap',
      ['--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--size', '4096', '--tmpfs', dir, '--chdir', cwd, '--die-with-parent', process.execPath, WHARF, 'install', 'acme:app', '--registry', servers[0]!.url, '--json'],
      { encoding: 'utf8', env: { ...process.env, ...home, NO_COLOR: '1' }, timeout: 60_000 },
    )
    expect(run.status, run.stderr).toBe(2)
    const error = JSON.parse(run.stderr.trim().split('\n').pop()!) as { code: string; error: string; hint: string }
    expect(error.code).toBe('NO_SPACE')
    expect(error.error).toMatch(/^writing .*wasm_components\/acme-[a-z]+-[\d.]+\.wasm failed: the disk is full \(ENOSPC\)/)
    expect(error.hint).toMatch(/free space on that disk/)
    expect(fs.existsSync(path.join(cwd, 'wharf.lock'))).toBe(false)
  })
})
