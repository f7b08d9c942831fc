#!/usr/bin/env node
/**
 * The README's table of the Action's inputs and outputs, generated from
 * action.yml (the one source of truth) between two marker comments.
 * test/action/readme.test.ts fails when the README's table is stale.
 *
 *   node scripts/action-readme.mjs     rewrites the table in README.md
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const START = '<!-- action-inputs: generated from action.yml by scripts/action-readme.mjs -->'
export const END = '<!-- /action-inputs -->'

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ').trim()

/** The Markdown tables for action.yml's text. */
export function renderTables(actionYml) {
  const action = parse(actionYml)
  const lines = ['| input | required | default | description |', '| --- | --- | --- | --- |']
  for (const [name, input] of Object.entries(action.inputs ?? {})) {
    lines.push(`| \`${name}\` | ${input.required ? 'yes' : 'no'} | ${input.default !== undefined ? `\`${cell(input.default)}\`` : ''} | ${cell(input.description ?? '')} |`)
  }
  lines.push('', '| output | description |', '| --- | --- |')
  for (const [name, output] of Object.entries(action.outputs ?? {})) lines.push(`| \`${name}\` | ${cell(output.description ?? '')} |`)
  return lines.join('\n')
}

/** `readme` with the generated block replaced by the tables for `actionYml`. */
export function withTables(readme, actionYml) {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} block`)
  return `${readme.slice(0, start + START.length)}\n${renderTables(actionYml)}\n${readme.slice(end)}`
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = path.join(ROOT, 'README.md')
  fs.writeFileSync(file, withTables(fs.readFileSync(file, 'utf8'), fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')))
  console.log('README.md: the Action inputs and outputs tables are up to date')
}
