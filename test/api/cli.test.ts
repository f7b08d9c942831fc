/** `wharf build-api` and `wharf publish --crate` through the real binary: output, --json, and errors that say how to fix them. */
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MAIN, resolveCommit } from '../../src/git/index.js'
import { HOME, ICON, SCRIPT, STYLESHEET } from '../../src/site/paths.js'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

let idx: TestIndex
let work: string

beforeAll(async () => {
  idx = await createTestIndex()
  await idx.release({ version: '1.0.0' })
  work = await tempDir('wharf-api-cli-')
})

describe('wharf build-api', () => {
  it('builds in full, then incrementally with --since, printing JSON', async () => {
    const out = path.join(work, 'site')
    const full = await wharf(['build-api', '--index', idx.dir, '--out', out, '--base-url', 'https://registry.example/', '--json'])
    expect(full.code, full.stderr).toBe(0)
    const first = JSON.parse(full.stdout)
    expect(first).toMatchObject({ mode: 'full', commit: await resolveCommit(idx.repo, MAIN), seq: 1, warnings: [] })
    // the trailing slash of --base-url is dropped
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).base_url).toBe('https://registry.example')
    // the site's files, which the bundled renderer reads from beside itself, are written byte for byte
    for (const asset of [STYLESHEET, SCRIPT, ICON]) expect(fs.readFileSync(path.join(out, asset))).toEqual(fs.readFileSync(path.join('src/site', asset)))
    expect(fs.readFileSync(path.join(out, HOME), 'utf8')).toContain(`href="./${STYLESHEET}"`)
    await idx.release({ version: '1.1.0' })
    const inc = await wharf(['build-api', '--index', idx.dir, '--out', out, '--base-url', 'https://registry.example', '--since', first.commit])
    expect(inc.code, inc.stderr).toBe(0)
    expect(inc.stdout).toMatch(/^Built the API of [0-9a-f]{12} incremental: \d+ file\(s\) written, 0 removed, feed at 2\n$/)
  })

  it('says why a --since build ran in full', async () => {
    const out = path.join(work, 'fresh')
    const result = await wharf(['build-api', '--index', idx.dir, '--out', out, '--since', 'main~1'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('full (full: there is no previous output at')
  })

  it('exits 2 with a hint when an option or the registry key is missing', async () => {
    const noOut = await wharf(['build-api', '--index', idx.dir])
    expect(noOut.code).toBe(2)
    expect(noOut.stderr).toBe('wharf: build-api needs --out (see `wharf build-api --help`)\n')
    const keyless = await createTestIndex()
    fs.rmSync(path.join(keyless.dir, '.wharf/registry.key'))
    const noKey = await wharf(['build-api', '--index', keyless.dir, '--out', path.join(work, 'keyless')])
    expect(noKey.code).toBe(2)
    expect(noKey.stderr).toMatch(/there is no registry key at .*registry\.key to sign the snapshot with \(build on the machine that ran `wharf init`/)
    const badUrl = await wharf(['build-api', '--index', idx.dir, '--out', path.join(work, 'x'), '--base-url', 'ftp://nope'])
    expect(badUrl.code).toBe(2)
    expect(badUrl.stderr).toContain('--base-url "ftp://nope" is not an http(s) URL')
  })

  it('is listed in wharf --help and has its own --help', async () => {
    expect((await wharf(['--help'])).stdout).toMatch(/build-api\s+generate the static JSON API/)
    const help = await wharf(['build-api', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout.split('\n')[0]).toBe('wharf build-api --index DIR --out DIR [--base-url URL] [--releases URL] [--since REV] [--no-site] [--json]')
  })
})

describe('wharf publish --crate', () => {
  it('refuses an ARTIFACT next to --crate, and a crate directory without Cargo.toml', async () => {
    const both = await wharf(['publish', 'x.wasm', '--crate', work, '--key', 'k', '--index', idx.dir])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('publish --crate makes its own artifact')
    const key = path.join(work, 'alice.key')
    fs.writeFileSync(key, idx.key.privatePem)
    const empty = await wharf(['publish', '--crate', work, '--key', key, '--index', idx.dir])
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain(`${work} has no Cargo.toml (pass the directory of the crate to --crate)`)
  })

  it('still needs an ARTIFACT without --crate', async () => {
    const none = await wharf(['publish', '--name', 'acme:calc', '--version', '2.0.0', '--index', idx.dir])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('publish: missing argument ARTIFACT')
  })
})
