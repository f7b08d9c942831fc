/** The import rules of src/ hold, and the checker that enforces them catches each kind of bad import. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkLayers, formatViolations, LAYERS, type Exception, type Violation } from './helpers/layers.js'

const SRC = path.resolve('src')

/** Imports let through for now, each with the change that removes it. */
const KNOWN_EXCEPTIONS: Exception[] = []

describe('src/', () => {
  it('imports only down the layers, through index.ts, with a pure core', () => {
    const violations = checkLayers(SRC, KNOWN_EXCEPTIONS)
    expect(violations, formatViolations(violations)).toEqual([])
  })

  it('has every room in the README Layout section, and no room there that does not exist', () => {
    const readme = fs.readFileSync('README.md', 'utf8')
    const layout = /## Layout\n+```\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
    const listed = [...layout.matchAll(/^src\/([a-z-]+)\//gm)].map((m) => m[1]!).sort()
    const rooms = fs
      .readdirSync(SRC, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
    expect(listed).toEqual(rooms)
    for (const room of rooms) expect(LAYERS.flat(), `room ${room}/ is in no layer`).toContain(room)
  })
})

describe('the layer checker', () => {
  const roots: string[] = []
  afterAll(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true })
  })

  /** A source tree from `{ 'room/file.ts': 'text' }`. */
  function tree(files: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-layers-'))
    roots.push(root)
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
      fs.writeFileSync(path.join(root, file), text)
    }
    return root
  }

  const clean = {
    'core/errors.ts': "import { createHash } from 'node:crypto'\nexport const x = 1\n",
    'core/records.ts': "import { x } from './errors.js'\nimport schema from '../../schemas/record.schema.json' with { type: 'json' }\n",
    'git/index.ts': "import fs from 'node:fs'\nimport git from 'isomorphic-git'\nimport { x } from '../core/errors.js'\n",
    'store/index.ts': "import { x } from '../core/errors.js'\n",
    'api/index.ts': "export * from './documents.js'\n",
    'api/documents.ts': "import type { Repo } from '../git/index.js'\n",
    'serve/index.ts': "import { x } from '../api/index.js'\nimport { y } from '../store/index.js'\n",
    'cli/check.ts': "const actions = await import('../github/actions.js')\nimport { serve } from '../serve/index.js'\n",
    'github/actions.ts': "import * as core from '@actions/core'\n",
  }

  it('passes a tree that keeps the rules', () => {
    expect(checkLayers(tree(clean))).toEqual([])
  })

  it.each<[string, Record<string, string>, Partial<Violation>]>([
    ['an import against the grain', { 'git/index.ts': "import { runCheck } from '../check/index.js'\n", 'check/index.ts': '' }, { file: 'git/index.ts', specifier: '../check/index.js', rule: 'layer' }],
    ['a reach past index.ts', { 'serve/index.ts': "import { primaryArtifact } from '../api/documents.js'\n" }, { file: 'serve/index.ts', specifier: '../api/documents.js', rule: 'entry' }],
    ['a type-only reach past index.ts', { 'serve/views.ts': "import type { Blob } from '../api/documents.js'\n" }, { file: 'serve/views.ts', specifier: '../api/documents.js', rule: 'entry' }],
    ['I/O in core', { 'core/layout.ts': "import fs from 'node:fs'\n" }, { file: 'core/layout.ts', specifier: 'node:fs', rule: 'core-pure' }],
    ['the environment read in core', { 'core/version.ts': 'export const v = process.env.VERSION\n' }, { file: 'core/version.ts', specifier: 'process.env', rule: 'core-pure', kind: 'global' }],
    ['a room importing GitHub outside github/', { 'publish/pr.ts': "import { Octokit } from '@octokit/rest'\n" }, { file: 'publish/pr.ts', specifier: '@octokit/rest', rule: 'package' }],
    ['isomorphic-git outside git/', { 'publish/init.ts': "import git from 'isomorphic-git'\n" }, { file: 'publish/init.ts', specifier: 'isomorphic-git', rule: 'package' }],
    ['two rooms of one layer importing each other', { 'store/index.ts': "import { x } from '../git/index.js'\n" }, { file: 'store/index.ts', specifier: '../git/index.js', rule: 'cycle' }],
    ['code from outside src/', { 'serve/wasmrust.ts': "import { main } from '../../bin/wharf.js'\n" }, { file: 'serve/wasmrust.ts', specifier: '../../bin/wharf.js', rule: 'outside' }],
    ['a room in no layer', { 'misc/util.ts': "export const x = 1\n" }, { file: 'misc/util.ts', rule: 'room' }],
  ])('flags %s, naming the file, the import and the rule', (_what, bad, expected) => {
    const files: Record<string, string> = { ...clean, ...bad }
    if (expected.rule === 'cycle') files['git/index.ts'] += "import { put } from '../store/index.js'\n"
    const violations = checkLayers(tree(files))
    expect(violations).toEqual([expect.objectContaining(expected)])
    expect(formatViolations(violations)).toContain(`src/${expected.file}:`)
    expect(violations[0]!.line).toBeGreaterThan(0)
    if (expected.rule !== 'room') expect(formatViolations(violations)).toContain(`"${expected.specifier}" [${expected.rule}]`)
  })

  it('lets a named exception through, and only that import', () => {
    const files = { ...clean, 'api/build.ts': "import { ObjectReader } from '../git/objects.js'\nimport { diff } from '../git/diff.js'\n" }
    const violations = checkLayers(tree(files), [{ file: 'api/build.ts', specifier: '../git/objects.js', why: 'test' }])
    expect(violations).toEqual([expect.objectContaining({ specifier: '../git/diff.js', rule: 'entry' })])
  })
})
