/**
 * `wharf.lock`: what an install resolved, so the next one fetches exactly
 * that. TOML, written in one stable order (packages by name, then version;
 * fields in a fixed order) so that a diff shows only what changed.
 *
 *   version = 1
 *   registry = "https://registry.example"
 *   requires = ["acme:app@^1.2.0"]
 *
 *   [[package]]
 *   name = "acme:app"
 *   version = "1.2.0"
 *   kind = "component"
 *   file = "acme-app-1.2.0.wasm"
 *   size = 1234
 *   sha256 = "<hex of the artifact>"
 *   record = "sha256:<hex of the signed record file>"
 *   source = "https://registry.example/artifacts/sha256/<hex>"
 *   dependencies = ["acme:lib@1.0.3"]
 */
import { parse as parseToml } from 'smol-toml'
import { WharfError } from '../core/errors.js'
import { SHA256_HEX } from '../core/hash.js'
import { checkPackageId } from '../core/names.js'
import { checkVersion, compareVersions } from '../core/versions.js'

export const LOCKFILE = 'wharf.lock'
export const LOCK_VERSION = 1

export interface LockedPackage {
  name: string
  version: string
  kind: 'component' | 'crate'
  /** File name in the install directory. */
  file: string
  size: number
  /** sha256 of the artifact. */
  sha256: string
  /** `sha256:<hex>` of the signed record file. */
  record: string
  /** Where the artifact is served (the registry's copy, or the URL its record names). */
  source: string
  /** `name@version` of each package it depends on. */
  dependencies: string[]
}

export interface Lockfile {
  version: number
  /** The registry the packages were resolved from. */
  registry: string
  /** What was asked for: `name@range`. */
  requires: string[]
  packages: LockedPackage[]
}

const str = (value: string) => JSON.stringify(value)
const strings = (values: string[]) => `[${values.map(str).join(', ')}]`

export function sortPackages(packages: LockedPackage[]): LockedPackage[] {
  return [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : compareVersions(a.version, b.version)))
}

/** The lockfile's text: the same lock always renders to the same bytes. */
export function renderLockfile(lock: Lockfile): string {
  const lines = [
    '# Written by `wharf install`: exact versions and digests of what it installed. Commit it; do not edit it.',
    `version = ${LOCK_VERSION}`,
    `registry = ${str(lock.registry)}`,
    `requires = ${strings([...lock.requires].sort())}`,
  ]
  for (const p of sortPackages(lock.packages)) {
    lines.push(
      '',
      '[[package]]',
      `name = ${str(p.name)}`,
      `version = ${str(p.version)}`,
      `kind = ${str(p.kind)}`,
      `file = ${str(p.file)}`,
      `size = ${p.size}`,
      `sha256 = ${str(p.sha256)}`,
      `record = ${str(p.record)}`,
      `source = ${str(p.source)}`,
      `dependencies = ${strings([...p.dependencies].sort())}`,
    )
  }
  return `${lines.join('\n')}\n`
}

/**
 * A safe file name for the install directory: no separators, no leading dot,
 * and a `.wasm` or `.crate` file, as install names them. A lockfile arrives
 * in pull requests: one naming `package.json` must not make an install into
 * the project's own directory overwrite it.
 */
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._+-]*\.(?:wasm|crate)$/

/** Parses and checks a lockfile; `file` names it in errors. */
export function parseLockfile(text: string, file: string): Lockfile {
  const bad = (why: string) =>
    new WharfError('INVALID_LOCKFILE', `${file} is not a valid lockfile: ${why}`, { hint: `restore it from version control, or delete it and run \`wharf install ID...\` again` })
  let doc: Record<string, unknown>
  try {
    doc = parseToml(text) as Record<string, unknown>
  } catch (e) {
    throw bad((e as Error).message.split('\n')[0]!)
  }
  if (doc.version !== LOCK_VERSION) throw bad(`version is ${String(doc.version)}, this wharf reads version ${LOCK_VERSION}`)
  if (typeof doc.registry !== 'string') throw bad('it names no registry')
  const requires = doc.requires ?? []
  if (!Array.isArray(requires) || !requires.every((r) => typeof r === 'string')) throw bad('requires must be a list of "name@range" strings')
  const raw = doc.package ?? []
  if (!Array.isArray(raw)) throw bad('[[package]] must be a list of tables')
  const seenFiles = new Set<string>()
  const packages = raw.map((entry: Record<string, unknown>, i): LockedPackage => {
    const where = `package ${i + 1}${typeof entry.name === 'string' ? ` (${entry.name})` : ''}`
    for (const field of ['name', 'version', 'kind', 'file', 'sha256', 'record', 'source']) {
      if (typeof entry[field] !== 'string') throw bad(`${where} has no ${field}`)
    }
    const p = entry as unknown as LockedPackage
    const problem = checkPackageId(p.name) ?? checkVersion(p.version)
    if (problem) throw bad(`${where}: ${problem}`)
    if (p.kind !== 'component' && p.kind !== 'crate') throw bad(`${where}: kind must be "component" or "crate"`)
    if (!SAFE_FILE.test(p.file) || seenFiles.has(p.file)) throw bad(`${where}: file "${p.file}" is not a plain, unique .wasm or .crate file name`)
    seenFiles.add(p.file)
    if (!SHA256_HEX.test(p.sha256)) throw bad(`${where}: sha256 is not 64 hex digits`)
    if (!/^sha256:[0-9a-f]{64}$/.test(p.record)) throw bad(`${where}: record must be "sha256:<64 hex digits>"`)
    const size = entry.size
    if (typeof size !== 'number' && typeof size !== 'bigint') throw bad(`${where} has no size`)
    const deps = entry.dependencies ?? []
    if (!Array.isArray(deps) || !deps.every((d) => typeof d === 'string')) throw bad(`${where}: dependencies must be a list of "name@version" strings`)
    return { name: p.name, version: p.version, kind: p.kind, file: p.file, size: Number(size), sha256: p.sha256, record: p.record, source: p.source, dependencies: deps as string[] }
  })
  return { version: LOCK_VERSION, registry: doc.registry, requires: requires as string[], packages }
}

/** `name@range` split at its last `@` (names hold none). */
export function splitRequest(request: string): { name: string; range: string } {
  const at = request.lastIndexOf('@')
  return at > 0 ? { name: request.slice(0, at), range: request.slice(at + 1) } : { name: request, range: '' }
}
