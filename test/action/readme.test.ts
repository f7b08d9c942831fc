/** The README's inputs and outputs tables are what action.yml says (scripts/action-readme.mjs writes them). */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain ESM script, without types
import { renderTables, withTables } from '../../scripts/action-readme.mjs'

const ROOT = path.resolve(import.meta.dirname, '../..')
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
const actionYml = fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')

describe("the README's Action tables", () => {
  it('are generated from action.yml as it is now', () => {
    expect(withTables(readme, actionYml) === readme, 'README.md is stale: run node scripts/action-readme.mjs').toBe(true)
  })
  it('list every input and output, and change when action.yml does', () => {
    const tables: string = renderTables(actionYml)
    for (const name of ['command', 'token', 'merge-token', 'team-token', 'accepted', 'legs', 'merged']) expect(tables).toContain(`| \`${name}\` |`)
    const edited = actionYml.replace('  index:\n', '  index-dir:\n')
    expect(withTables(readme, edited)).not.toBe(readme)
  })
})
