/**
 * What the index holds at one commit, read straight from git objects: the
 * registry descriptor, namespace files, and packages with their records,
 * yank notices and reports. A full build reads all of it; an incremental
 * build reads only the packages a change touched.
 */
import fs from 'node:fs'
import { WharfError } from '../core/errors.js'
import { classifyPath, PACKAGES_DIR, REGISTRY_PATH, REPORTS_DIR } from '../core/layout.js'
import { schemaErrors } from '../core/schemas.js'
import type { NamespaceFile, RegistryFile, VersionRecord, YankNotice } from '../core/types.js'
import { checkVersion, compareVersions } from '../core/versions.js'
import { artifactPath as storePath, isLocalUrl } from '../store/index.js'
import type { Blob, PackageModel, VersionEntry } from './documents.js'
import { primaryArtifact } from './documents.js'
import { walkTree } from './history.js'
import { isTreeMode, lookupPath as lookup, type ObjectReader } from '../git/index.js'
import { componentInterfaces } from './wit.js'

function parseJson<T>(blob: Blob, schema: 'record' | 'yank' | 'namespace' | 'registry'): T {
  let value: unknown
  try {
    value = JSON.parse(blob.bytes.toString('utf8'))
  } catch (e) {
    throw new WharfError('NOT_AN_INDEX', `${blob.path} (blob ${blob.oid.slice(0, 12)}) is not JSON: ${(e as Error).message}`, {
      hint: 'main must only hold files that wharf check accepted; run wharf audit to find how it got there',
    })
  }
  const problems = schemaErrors(schema, value)
  if (problems.length) {
    throw new WharfError('NOT_AN_INDEX', `${blob.path} is not a valid ${schema} file: ${problems.slice(0, 3).join('; ')}`, {
      hint: 'main must only hold files that wharf check accepted; run wharf audit to find how it got there',
    })
  }
  return value as T
}

export function readBlobAt(reader: ObjectReader, filePath: string, oid: string): Blob {
  return { path: filePath, oid, bytes: reader.readAs(oid, 'blob') }
}

export function readRegistryAt(reader: ObjectReader, tree: string): RegistryFile {
  const entry = lookup(reader, tree, REGISTRY_PATH)
  if (!entry || isTreeMode(entry.mode)) {
    throw new WharfError('NOT_AN_INDEX', `the commit has no ${REGISTRY_PATH}`, { hint: 'point --index at an index repo made by `wharf init`' })
  }
  return parseJson<RegistryFile>(readBlobAt(reader, REGISTRY_PATH, entry.oid), 'registry')
}

export function parseNamespace(blob: Blob): NamespaceFile {
  return parseJson<NamespaceFile>(blob, 'namespace')
}

export function packageIdOf(dir: string): string {
  const rest = dir.slice(PACKAGES_DIR.length + 1)
  const slash = rest.indexOf('/')
  return `${rest.slice(0, slash)}:${rest.slice(slash + 1)}`
}

/** Splits `index/reports/<ns>/<name...>/<version>/...` into package id and version; undefined for another path. */
export function reportTarget(file: string): { id: string; version: string } | undefined {
  if (!file.startsWith(`${REPORTS_DIR}/`)) return undefined
  const parts = file.slice(REPORTS_DIR.length + 1).split('/')
  // Name segments start with a letter and versions with a digit, so the first segment that parses as a version ends the name.
  const at = parts.findIndex((p, i) => i >= 2 && checkVersion(p) === undefined)
  if (at < 0 || at === parts.length - 1) return undefined
  return { id: `${parts[0]}:${parts.slice(1, at).join('/')}`, version: parts[at]! }
}

export interface PackageFiles {
  records: Blob[]
  yanks: Blob[]
  reports: Blob[]
}

/** Reads the files of one package into its model, checking that each says what its path says. */
export function buildPackage(id: string, files: PackageFiles, reader: ObjectReader, indexDir: string): PackageModel {
  const yanks = new Map<string, { notice: YankNotice; file: Blob }>()
  for (const file of files.yanks) {
    const notice = parseJson<YankNotice>(file, 'yank')
    const where = classifyPath(file.path)
    if (where.kind !== 'yank' || notice.name !== where.name || notice.version !== where.version) {
      throw new WharfError('NOT_AN_INDEX', `${file.path} names ${notice.name}@${notice.version}, not what its path says`, { hint: 'run wharf audit on the index' })
    }
    yanks.set(notice.version, { notice, file })
  }
  const reports = new Map<string, Blob[]>()
  for (const file of files.reports) {
    const target = reportTarget(file.path)
    if (!target) continue
    const list = reports.get(target.version) ?? []
    list.push(file)
    reports.set(target.version, list)
  }
  const versions: VersionEntry[] = []
  for (const file of files.records) {
    const record = parseJson<VersionRecord>(file, 'record')
    const where = classifyPath(file.path)
    if (where.kind !== 'record' || record.name !== where.name || record.version !== where.version) {
      throw new WharfError('NOT_AN_INDEX', `${file.path} holds ${record.name}@${record.version}, not what its path says`, { hint: 'run wharf audit on the index' })
    }
    const yank = yanks.get(record.version)
    versions.push({
      version: record.version,
      record,
      file,
      ...(yank ? { yank } : {}),
      reports: (reports.get(record.version) ?? []).sort((a, b) => (a.path < b.path ? -1 : 1)),
      ...witOf(record, indexDir),
    })
  }
  versions.sort((a, b) => compareVersions(a.version, b.version))
  return { id, namespace: id.slice(0, id.indexOf(':')), versions }
}

/** Interface names of a stored component artifact (the store is read synchronously: a build reads many small files). */
function witOf(record: VersionRecord, indexDir: string): { wit?: VersionEntry['wit'] } {
  if (record.kind !== 'component') return {}
  const artifact = primaryArtifact(record)
  if (!isLocalUrl(artifact.url)) return {}
  const bytes = readArtifactSync(indexDir, artifact.sha256)
  const wit = bytes ? componentInterfaces(bytes) : undefined
  return wit && (wit.imports.length || wit.exports.length) ? { wit } : {}
}

function readArtifactSync(indexDir: string, sha256: string): Buffer | undefined {
  try {
    return fs.readFileSync(storePath(indexDir, sha256))
  } catch {
    return undefined
  }
}

/** One package's files at a commit (incremental build); undefined when it has none. */
export function readPackage(reader: ObjectReader, rootTree: string, id: string): PackageFiles | undefined {
  const [ns, name] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)]
  const dir = `${PACKAGES_DIR}/${ns}/${name}`
  const files: PackageFiles = { records: [], yanks: [], reports: [] }
  const tree = lookup(reader, rootTree, dir)
  if (tree && isTreeMode(tree.mode)) {
    for (const entry of reader.readTree(tree.oid)) {
      if (isTreeMode(entry.mode)) continue
      const file = `${dir}/${entry.name}`
      const where = classifyPath(file)
      if (where.kind === 'record') files.records.push(readBlobAt(reader, file, entry.oid))
      else if (where.kind === 'yank') files.yanks.push(readBlobAt(reader, file, entry.oid))
      else throw new WharfError('NOT_AN_INDEX', `${file} is not a version record or yank notice`, { hint: 'run wharf audit on the index' })
    }
  }
  if (files.records.length === 0) return undefined
  const reportDir = `${REPORTS_DIR}/${ns}/${name}`
  const reports = lookup(reader, rootTree, reportDir)
  if (reports && isTreeMode(reports.mode)) {
    for (const entry of reader.readTree(reports.oid)) {
      if (!isTreeMode(entry.mode) || checkVersion(entry.name) !== undefined) continue
      const found: { path: string; oid: string }[] = []
      walkTree(reader, entry.oid, `${reportDir}/${entry.name}/`, found)
      for (const f of found) files.reports.push(readBlobAt(reader, f.path, f.oid))
    }
  }
  return files
}

/** Whether a package had any version record at a commit. */
export function packageExistsAt(reader: ObjectReader, rootTree: string, id: string): boolean {
  const dir = `${PACKAGES_DIR}/${id.slice(0, id.indexOf(':'))}/${id.slice(id.indexOf(':') + 1)}`
  const tree = lookup(reader, rootTree, dir)
  if (!tree || !isTreeMode(tree.mode)) return false
  return reader.readTree(tree.oid).some((e) => !isTreeMode(e.mode) && e.name.endsWith('.json') && !e.name.endsWith('.yank.json'))
}

/** Package ids of a namespace at a commit. */
export function packagesOfNamespace(reader: ObjectReader, rootTree: string, ns: string): string[] {
  const dir = lookup(reader, rootTree, `${PACKAGES_DIR}/${ns}`)
  if (!dir || !isTreeMode(dir.mode)) return []
  const ids: string[] = []
  const visit = (oid: string, prefix: string) => {
    const entries = reader.readTree(oid)
    if (entries.some((e) => !isTreeMode(e.mode) && e.name.endsWith('.json') && !e.name.endsWith('.yank.json'))) ids.push(`${ns}:${prefix}`)
    for (const e of entries) if (isTreeMode(e.mode)) visit(e.oid, prefix ? `${prefix}/${e.name}` : e.name)
  }
  visit(dir.oid, '')
  return ids.filter((id) => !id.endsWith(':'))
}

/** Packages nested one segment below `id` at a commit (`<id>/<segment>` with a version record), sorted. */
export function childrenAt(reader: ObjectReader, rootTree: string, id: string): string[] {
  const dir = lookup(reader, rootTree, `${PACKAGES_DIR}/${id.slice(0, id.indexOf(':'))}/${id.slice(id.indexOf(':') + 1)}`)
  if (!dir || !isTreeMode(dir.mode)) return []
  return reader
    .readTree(dir.oid)
    .filter((e) => isTreeMode(e.mode) && packageExistsAt(reader, rootTree, `${id}/${e.name}`))
    .map((e) => `${id}/${e.name}`)
    .sort()
}
