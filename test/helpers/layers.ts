/**
 * The import rules of src/ (STYLE.md, "one room per capability"), checked
 * over the source text with TypeScript's own pre-parser, which finds every
 * `import`, `export ... from` and `import()` without running anything.
 *
 * - Imports point down the layers; rooms on one layer may use each other,
 *   but never both ways (no cycle between rooms).
 * - A room is entered through its `index.ts` (or a named extra entry);
 *   `core/` is a library of small modules and is entered anywhere.
 * - `core/` is pure: it imports only the packages and built-ins listed here.
 * - GitHub's toolkits live in `github/` (and the action's entry point); git
 *   objects are reached through `git/`.
 */
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/** Rooms, bottom up; rooms on one line are one layer. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  ['git', 'store', 'github'],
  ['check'],
  ['matrix', 'publish', 'audit'],
  ['api', 'review'],
  ['client', 'sync', 'site'],
  ['serve'],
  ['cli', 'action'],
]

/** Files besides `index.ts` that another room may import. */
export const EXTRA_ENTRIES: Readonly<Record<string, readonly string[]>> = {
  // The Actions-runner output, loaded with import() only when running under Actions, so other runs skip @actions/core.
  github: ['actions.ts'],
}

/** The only packages and built-ins core/ may import: none of them reads or writes anything. */
export const CORE_IMPORTS: readonly string[] = ['canonicalize', 'semver', 'ajv', 'ajv/dist/2020.js', 'ajv-formats', 'node:crypto', 'node:util', 'node:buffer']

/** Packages only some rooms may import. */
export const PACKAGE_ROOMS: readonly { pattern: RegExp; rooms: readonly string[]; why: string }[] = [
  { pattern: /^@octokit\//, rooms: ['github'], why: 'github/ is the only place that knows GitHub' },
  { pattern: /^@actions\//, rooms: ['github', 'action'], why: 'GitHub Actions toolkits belong to github/ and the action entry point' },
  { pattern: /^isomorphic-git(\/|$)/, rooms: ['git'], why: 'git/ owns every read and write of git objects' },
]

export interface Exception {
  /** The importing file, relative to the source root. */
  file: string
  /** The import as written. */
  specifier: string
  why: string
}

export interface Violation extends ImportEdge {
  rule: 'layer' | 'entry' | 'cycle' | 'core-pure' | 'package' | 'room' | 'outside'
  message: string
}

export interface ImportEdge {
  file: string
  line: number
  /** The module specifier, or for a `global` edge the global it uses. */
  specifier: string
  kind: 'import' | 'global'
}

const SOURCE = /\.(ts|mts|js|mjs)$/

/** Every source file under `root` (relative to it), with the imports it holds. */
export function readSources(root: string): { file: string; edges: ImportEdge[] }[] {
  const sources: { file: string; edges: ImportEdge[] }[] = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const text = fs.readFileSync(full, 'utf8')
        const file = path.relative(root, full).split(path.sep).join('/')
        const edges: ImportEdge[] = []
        sources.push({ file, edges })
        if (file.startsWith('core/')) {
          // Globals that reach the outside world without an import.
          for (const m of text.matchAll(/\b(process\.\w+|fetch\()/g)) {
            edges.push({ file, line: text.slice(0, m.index).split('\n').length, specifier: m[1]!, kind: 'global' })
          }
        }
        for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
          edges.push({ file, line: text.slice(0, imported.pos).split('\n').length, specifier: imported.fileName, kind: 'import' })
        }
      }
    }
  }
  walk(root)
  return sources
}

function layerOf(room: string): number {
  return LAYERS.findIndex((layer) => layer.includes(room))
}

/** Where a relative import lands, relative to the source root (`../x` for outside it), with a .ts source for a .js specifier. */
function resolve(file: string, specifier: string): string {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier))
  return target.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts')
}

/** Checks every import under `root` against the rules; an import named in `exceptions` is let through. */
export function checkLayers(root: string, exceptions: readonly Exception[] = []): Violation[] {
  const violations: Violation[] = []
  const roomEdges = new Map<string, Map<string, ImportEdge>>()
  const excused = (edge: ImportEdge) => exceptions.some((x) => x.file === edge.file && x.specifier === edge.specifier)
  const sources = readSources(root)
  for (const { file } of sources) {
    const [room, ...rest] = file.split('/')
    if (rest.length === 0 || layerOf(room!) < 0) {
      const where = rest.length === 0 ? 'a file directly under src/' : `room "${room}/" is in no layer`
      violations.push({ file, line: 1, specifier: '', kind: 'import', rule: 'room', message: `${where}: put it in a room, and the room in the layer table (test/helpers/layers.ts) and README's Layout` })
    }
  }
  for (const edge of sources.flatMap((s) => s.edges)) {
    if (excused(edge)) continue
    const flag = (rule: Violation['rule'], message: string) => violations.push({ ...edge, rule, message })
    const [room] = edge.file.split('/')
    if (layerOf(room!) < 0 || !edge.file.includes('/')) continue
    if (edge.kind === 'global') {
      flag('core-pure', `core/ is pure: ${edge.specifier} reaches the outside world; take what it gives as an argument`)
      continue
    }
    const bare = !edge.specifier.startsWith('.')
    if (bare) {
      if (room === 'core' && !CORE_IMPORTS.includes(edge.specifier)) {
        flag('core-pure', `core/ is pure and may import only ${CORE_IMPORTS.join(', ')}; "${edge.specifier}" belongs in a room above it`)
      }
      const limited = PACKAGE_ROOMS.find((p) => p.pattern.test(edge.specifier))
      if (limited && !limited.rooms.includes(room!)) flag('package', `"${edge.specifier}" may be imported only in ${limited.rooms.map((r) => `${r}/`).join(' and ')}: ${limited.why}`)
      continue
    }
    const target = resolve(edge.file, edge.specifier)
    if (target.startsWith('../')) {
      // Data files beside src/ (schemas/, package.json) are read-only input; code outside src/ is not part of the program.
      if (!target.endsWith('.json')) flag('outside', `${edge.specifier} leaves src/; only JSON data (schemas/, package.json) may be imported from outside it`)
      continue
    }
    const [targetRoom, ...targetRest] = target.split('/')
    if (targetRoom === room) continue
    const from = layerOf(room!)
    const to = layerOf(targetRoom!)
    if (to < 0) {
      flag('room', `${edge.specifier} reaches "${targetRoom}/", which is in no layer`)
      continue
    }
    if (to > from) {
      flag('layer', `${room}/ (layer ${from}) must not import ${targetRoom}/ (layer ${to}): imports point down (${LAYERS.map((l) => l.join(' ')).join(' < ')})`)
      continue
    }
    const entry = targetRest.join('/')
    const entries = ['index.ts', ...(EXTRA_ENTRIES[targetRoom!] ?? [])]
    if (targetRoom !== 'core' && !entries.includes(entry)) {
      flag('entry', `${room}/ reaches into ${targetRoom}/${entry}; import ${targetRoom}/index.js (and export what is needed there)`)
      continue
    }
    if (to === from) {
      const edges = roomEdges.get(room!) ?? new Map<string, ImportEdge>()
      roomEdges.set(room!, edges)
      if (!edges.has(targetRoom!)) edges.set(targetRoom!, edge)
    }
  }
  // Rooms on one layer may use each other one way only: no cycle among them.
  const onPath: string[] = []
  const done = new Set<string>()
  const visit = (room: string) => {
    onPath.push(room)
    for (const [other, edge] of roomEdges.get(room) ?? []) {
      const loop = onPath.indexOf(other)
      if (loop >= 0) {
        const cycle = [...onPath.slice(loop), other].map((r) => `${r}/`).join(' -> ')
        violations.push({ ...edge, rule: 'cycle', message: `rooms import each other (${cycle}); one of them must not know the other` })
      } else if (!done.has(other)) visit(other)
    }
    onPath.pop()
    done.add(room)
  }
  for (const room of [...roomEdges.keys()].sort()) if (!done.has(room)) visit(room)
  return violations
}

/** One line per violation: file, line, import and the rule it breaks. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `src/${v.file}:${v.line} ${v.kind === 'global' ? 'uses' : 'imports'} "${v.specifier}" [${v.rule}] ${v.message}`).join('\n')
}
