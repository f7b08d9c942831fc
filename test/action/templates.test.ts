/**
 * `wharf init --github` writes the same workflows this repo runs, with the
 * Action pinned by commit instead of `./`; both pass the safety lint.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { indexWorkflows } from '../../src/publish/index.js'
import { wharf } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'
import { lintWorkflow } from './workflow-lint.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const ACTION = 'acme/wharf@3d3c42e5aac5ba805825da76410c181273ba90b1 # v0.1.0'

describe('the index workflows', () => {
  it("are this repo's own .github/workflows with the Action from its checkout", () => {
    for (const [file, text] of Object.entries(indexWorkflows('./'))) {
      expect(fs.readFileSync(path.join(ROOT, file), 'utf8') === text, `${file} differs from indexWorkflows('./') in src/publish/github-workflows.ts: change both`).toBe(true)
    }
  })

  it('written by wharf init --github, use the pinned Action, are committed, and pass the safety lint', async () => {
    const dir = path.join(await tempDir(), 'index')
    const result = await wharf(['init', dir, '--maintainer', 'admin', '--github', ACTION])
    expect(result.code, result.stderr).toBe(0)
    const committed = execFileSync('git', ['ls-tree', '-r', '--name-only', 'HEAD'], { cwd: dir, encoding: 'utf8' }).split('\n').filter(Boolean)
    expect(committed).toEqual(expect.arrayContaining(['.github/workflows/merge.yml', '.github/workflows/release.yml', '.github/workflows/validate.yml', 'index/registry.json']))
    for (const file of ['validate.yml', 'merge.yml', 'release.yml']) {
      const text = fs.readFileSync(path.join(dir, '.github/workflows', file), 'utf8')
      expect(text).not.toMatch(/uses: \.\//)
      expect(text).toContain(`uses: ${ACTION}\n`)
      expect(await lintWorkflow(file, text)).toEqual([])
    }
  }, 60_000)

  it('refuse an Action pinned by a tag, with a hint', async () => {
    expect(() => indexWorkflows('acme/wharf@v1')).toThrow(/not the Action pinned by a full commit sha/)
    const result = await wharf(['init', path.join(await tempDir(), 'index'), '--github', 'acme/wharf@main'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/40-hex commit/)
  }, 60_000)
})
