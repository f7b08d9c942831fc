/**
 * release.yml on the emulator, after the gate: an honest pull request is
 * validated and merged by merge.yml with a merge token whose push starts
 * workflows (WHARF_MERGE_TOKEN), the push runs release.yml, and the version
 * ships as an asset of the index repo's release with the record's digest; the
 * API deployed to Pages names that asset as the version's download URL. The
 * committed workflow files and the committed Action (`uses: ./`) run.
 */
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { releaseAssetUrl } from '../../src/core/release-assets.js'
import type { VersionRecord } from '../../src/core/types.js'
import { createRunner, type Runner } from '../github/runner/runner.js'
import { client, pushBranch, tempDir, useEmulator } from '../github/helpers.js'
import { createIndexFixture, REPO, type IndexFixture } from './fixture.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const WORKFLOWS = ['validate.yml', 'merge.yml', 'release.yml']
const repoRef = { owner: 'wharf', repo: 'index' }

/** Every file under `dir` (following the output's symlink), as paths relative to it. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile())
}

describe('release.yml after a merge', () => {
  const ctx = useEmulator()
  let fx: IndexFixture
  let runner: Runner
  let pagesDir: string
  beforeAll(async () => {
    const files = Object.fromEntries(WORKFLOWS.map((w) => [`.github/workflows/${w}`, fs.readFileSync(path.join(ROOT, '.github/workflows', w), 'utf8')]))
    fx = await createIndexFixture(ctx.emu, { files, withAction: true })
    pagesDir = path.join(await tempDir('wharf-pages-'), 'site')
    runner = createRunner({
      emulator: ctx.emu,
      repo: REPO,
      // admin's own token: a merge made with it starts workflows, as a GitHub App's or a PAT does.
      secrets: { WHARF_MERGE_TOKEN: ctx.emu.mintToken({ user: 'admin' }), WHARF_REGISTRY_KEY: fx.registryKey },
      pagesDir,
      pagesUrl: 'http://127.0.0.1:9/wharf/',
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', WHARF_PACE_WRITES: 'false' },
    })
  })
  afterAll(() => fx?.close())

  it('ships the merged version as a release asset and deploys the API naming it', async () => {
    const record = fx.record('1.1.0')
    const token = ctx.emu.mintToken({ user: 'alice' })
    await pushBranch(await fx.clone(token), 'calc-1.1.0', { [record.path]: record.content }, 'Add calc-1.1.0')
    const n = (await client(ctx.emu, token).pulls.create(repoRef, { title: 'Add calc-1.1.0', head: 'calc-1.1.0', base: 'main' })).number
    const runs = await runner.drain()
    const log = (name: string) => JSON.stringify(runs.filter((r) => r.name === name).map((r) => r.jobs.map((j) => [j.id, j.conclusion, j.log.slice(-1500)])))
    expect(runs.find((r) => r.name === 'merge')?.conclusion, log('merge')).toBe('success')
    expect((await client(ctx.emu, token).pulls.get(repoRef, n)).merged).toBe(true)

    const release = runs.filter((r) => r.name === 'release')
    expect(release.map((r) => r.conclusion), log('release')).toEqual(['success'])
    expect(release[0]!.jobs.map((j) => [j.id, j.conclusion])).toEqual([
      ['release', 'success'],
      ['build', 'success'],
      ['deploy', 'success'],
    ])

    const declared = JSON.parse(record.content) as VersionRecord
    const artifact = declared.artifacts[0]!
    const shipped = await client(ctx.emu, token).releases.getByTag(repoRef, 'acme.calc@1.1.0')
    expect(shipped?.assets.map((a) => ({ name: a.name, size: a.size, digest: a.digest }))).toEqual([{ name: 'calc.wasm', size: artifact.size, digest: `sha256:${artifact.sha256}` }])

    const url = releaseAssetUrl(`${ctx.emu.urls.html}/${REPO}`, declared, artifact)
    // The version's document (api/v1/packages/<name>/<version>, served without an extension) names the asset as its download.
    const naming = filesUnder(pagesDir).filter((f) => f.startsWith('api/v1/packages/') && fs.readFileSync(path.join(pagesDir, f), 'utf8').includes(JSON.stringify(url)))
    expect(naming.length, `no deployed API document names ${url}`).toBeGreaterThan(0)
  }, 360_000)
})
