/**
 * `wharf install`: resolve, download, verify, then write. Every check runs
 * before the first byte lands in the install directory: a failure anywhere
 * leaves the directory and the lockfile as they were. Files are then written
 * by temp file and rename, the lockfile last.
 */
import fs from 'node:fs'
import path from 'node:path'
import { namespaceDocPath, PATHS, primaryArtifact, versionsPath } from '../api/index.js'
import type { TrustedKey } from '../core/dsse.js'
import { WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { namespacePath, recordPath } from '../core/layout.js'
import type { NamespaceFile, VersionRecord } from '../core/types.js'
import { checkVersion } from '../core/versions.js'
import { localFileError, normalizeRegistryUrl, openCache, readOptional, writeAtomic } from './cache.js'
import { createHttp, type FetchLike, type HttpOptions } from './http.js'
import { LOCKFILE, parseLockfile, renderLockfile, sortPackages, splitRequest, type LockedPackage, type Lockfile } from './lockfile.js'
import { openReader, type RegistryReader } from './reader.js'
import { parseDocument, parseNamespaceFile, verifyRecord } from './records.js'
import { closeNames, matches, resolve, type PackageIndex, type Requirement } from './resolve.js'

export const DEFAULT_INSTALL_DIR = 'wasm_components'

export interface InstallProgress {
  phase: 'resolve' | 'download' | 'write'
  /** Package versions whose records were fetched and verified. */
  packages: number
  /** Artifact bytes received so far, and expected in all. */
  bytes: number
  totalBytes: number
}

export interface InstallOptions {
  /** The registry's URL (the root of its static output, or a `wharf serve`). */
  registry: string
  /** Mirrors of the registry, tried in order after it. */
  mirrors?: string[]
  /** Pinned registry keys; without them the registry's keys are trusted on first use. */
  keys?: TrustedKey[]
  /** `ID` or `ID@RANGE` for each package to add or update; none installs what the lockfile says. */
  requests: string[]
  /** Where artifacts go (created when missing). */
  dir: string
  /** The lockfile (default `wharf.lock` in the current directory). */
  lockfile?: string
  /** Refuse to change the lockfile. */
  frozen?: boolean
  /** Use the cache alone. */
  offline?: boolean
  /** The shared cache directory. */
  cacheDir: string
  fetch?: FetchLike
  http?: Omit<HttpOptions, 'fetch'>
  now?: Date
  onProgress?: (progress: InstallProgress) => void
  /** Notes for a person (a key trusted on first use, a failed source skipped). */
  note?: (message: string) => void
}

export interface InstalledPackage {
  name: string
  version: string
  file: string
  sha256: string
  size: number
  /** written: new bytes in the directory; unchanged: the right bytes were already there. */
  status: 'written' | 'unchanged'
}

export interface InstallResult {
  registry: string
  /** The source whose snapshot was used (the registry, or a mirror). */
  source: string
  /** The index commit the registry's snapshot names. */
  commit: string
  dir: string
  lockfile: string
  lockChanged: boolean
  packages: InstalledPackage[]
  /** Files of packages the lockfile no longer holds, removed from the directory. */
  removed: string[]
  /** HTTP requests sent, and body bytes received. */
  requests: number
  bytes: number
}

interface VerifiedRecord {
  record: VersionRecord
  /** sha256 of the record file's bytes. */
  digest: string
}

/** The file name of a package in the install directory: `<ns>-<name, / as ->-<version>.<wasm|crate>`. */
export function installFileName(name: string, version: string, artifactName: string, kind: string): string {
  const ext = artifactName.endsWith('.crate') || (kind === 'crate' && !artifactName.endsWith('.wasm')) ? '.crate' : '.wasm'
  return `${name.replace(/[:/]/g, '-')}-${version}${ext}`
}

const ref = (name: string, version: string) => `${name}@${version}`

/**
 * Reads and verifies records and namespace files through a registry reader,
 * each once. `pinned` holds the record digests the lockfile pins, by
 * name@version: whichever path reads a pinned version first (resolution or
 * download), the registry must serve the record pinned, since a published
 * record never changes.
 */
function createRecordSource(reader: RegistryReader, onRecord: () => void, pinned: ReadonlyMap<string, string> = new Map()) {
  const namespaces = new Map<string, Promise<NamespaceFile>>()
  const records = new Map<string, Promise<VerifiedRecord>>()
  const namespace = (ns: string) => {
    let p = namespaces.get(ns)
    if (!p) {
      const file = namespacePath(ns)
      p = reader.read(file).then((bytes) => {
        if (!bytes) throw new WharfError('UNKNOWN_PACKAGE', `the registry has no namespace "${ns}" (${file} is not in its snapshot)`, { hint: '`wharf search WORD` lists what the registry holds' })
        return parseNamespaceFile(bytes, ns, file)
      })
      namespaces.set(ns, p)
    }
    return p
  }
  const record = (name: string, version: string, digestGiven?: string): Promise<VerifiedRecord> => {
    const lockedDigest = pinned.get(ref(name, version)) ?? digestGiven
    let p = records.get(ref(name, version))
    if (!p) {
      p = (async () => {
        const file = recordPath(name, version)
        const digest = await reader.digestOf(file)
        if (!digest) throw new WharfError('LOCK_MISMATCH', `${ref(name, version)} is listed, but its record ${file} is not in the registry's snapshot`, { hint: 'the registry is inconsistent; tell its operators' })
        if (lockedDigest && digest !== lockedDigest) {
          throw new WharfError('LOCK_MISMATCH', `the record of ${ref(name, version)} changed: the lockfile has sha256 ${lockedDigest}, the registry now serves ${digest} (${file})`, {
            hint: 'a published record never changes: the registry or a mirror was altered. Do not install; tell the registry operators',
          })
        }
        const [bytes, ns] = await Promise.all([reader.readByDigest(file, { sha256: digest }, `the record of ${ref(name, version)}`), namespace(name.slice(0, name.indexOf(':')))])
        const verified = { record: verifyRecord(bytes, { name, version }, ns, file), digest }
        onRecord()
        return verified
      })()
      records.set(ref(name, version), p)
    }
    return p
  }
  return { record }
}

/** Names each locked package's file, keeping the names an older lock gave, and makes them unique. */
function assignFiles(entries: Omit<LockedPackage, 'file'>[], artifactNames: Map<string, string>, previous: Map<string, string>): LockedPackage[] {
  const used = new Set<string>()
  return sortPackages(entries.map((e) => ({ ...e, file: '' }))).map((e) => {
    let file = previous.get(ref(e.name, e.version)) ?? installFileName(e.name, e.version, artifactNames.get(ref(e.name, e.version)) ?? '', e.kind)
    // Two ids can flatten to one name (a:b-c and a:b/c): the later one gets a short digest of its id.
    if (used.has(file)) file = file.replace(/(\.[a-z]+)$/, `-${sha256Hex(e.name).slice(0, 8)}$1`)
    used.add(file)
    return { ...e, file }
  })
}

function describeLockChange(before: Lockfile | undefined, after: Lockfile): string {
  const was = new Set(before?.packages.map((p) => ref(p.name, p.version)) ?? [])
  const now = new Set(after.packages.map((p) => ref(p.name, p.version)))
  const added = [...now].filter((p) => !was.has(p))
  const removed = [...was].filter((p) => !now.has(p))
  const parts = [added.length ? `adds ${added.join(', ')}` : '', removed.length ? `removes ${removed.join(', ')}` : ''].filter(Boolean)
  return parts.join('; ') || 'changes its requirements or digests'
}

/** Resolves, downloads and verifies `requests` (or the lockfile), then writes the artifacts and the lockfile. */
export async function install(options: InstallOptions): Promise<InstallResult> {
  const dir = path.resolve(options.dir)
  const lockPath = path.resolve(options.lockfile ?? LOCKFILE)
  const lockText = await readOptional(lockPath)
  const oldLock = lockText ? parseLockfile(lockText.toString('utf8'), lockPath) : undefined
  const sameRegistry = oldLock !== undefined && normalizeRegistryUrl(oldLock.registry) === normalizeRegistryUrl(options.registry)
  if (options.requests.length === 0 && !oldLock) {
    throw new WharfError('USAGE', `nothing to install: no package was named and there is no ${path.basename(lockPath)} in ${path.dirname(lockPath)}`, {
      hint: 'name one: wharf install <namespace>:<name>[@RANGE]',
    })
  }
  // Installing what the lockfile says means installing it from where it was resolved: another registry would
  // resolve everything again, silently, to whatever it holds.
  if (options.requests.length === 0 && oldLock && !sameRegistry) {
    throw new WharfError('USAGE', `${path.basename(lockPath)} was resolved against ${oldLock.registry}, and the registry is now ${options.registry}`, {
      hint: `pass --registry ${oldLock.registry} to install what it pins (--mirror URL for another source of the same registry), or name the packages to resolve them again against ${options.registry}`,
    })
  }

  const http = createHttp({ ...options.http, ...(options.fetch ? { fetch: options.fetch } : {}) })
  const cache = openCache(options.cacheDir)
  const progress: InstallProgress = { phase: 'resolve', packages: 0, bytes: 0, totalBytes: 0 }
  const report = () => options.onProgress?.({ ...progress })
  const reader = await openReader({
    url: options.registry,
    ...(options.mirrors ? { mirrors: options.mirrors } : {}),
    ...(options.keys ? { keys: options.keys } : {}),
    http,
    cache,
    ...(options.now ? { now: options.now } : {}),
    ...(options.offline ? { offline: true } : {}),
    ...(options.note ? { note: options.note } : {}),
  })
  // What the lockfile pins holds however the install resolves: with IDs given, too, a pinned record is checked.
  const pinned = new Map(sameRegistry && oldLock ? oldLock.packages.map((p) => [ref(p.name, p.version), p.record.slice('sha256:'.length)]) : [])
  const records = createRecordSource(
    reader,
    () => {
      progress.packages++
      report()
    },
    pinned,
  )

  let lock: Lockfile
  if (options.requests.length === 0 && sameRegistry) {
    lock = await checkLock(oldLock, records)
  } else {
    lock = await resolveLock(options, reader, records, sameRegistry ? oldLock : undefined, oldLock)
  }
  // Compared as lockfiles, not as bytes: a checkout that turned its line ends into CRLF changed nothing it pins.
  const lockChanged = oldLock === undefined || renderLockfile(lock) !== renderLockfile(oldLock)
  if (options.frozen && lockChanged) {
    throw new WharfError('FROZEN', `${path.basename(lockPath)} would change (${describeLockChange(oldLock, lock)}), and --frozen forbids it`, {
      hint: 'run without --frozen to update it, and commit the new lockfile',
    })
  }

  // Download and verify every artifact the directory does not already hold.
  progress.phase = 'download'
  report()
  const present = await Promise.all(lock.packages.map(async (p) => {
    const bytes = await readOptional(path.join(dir, p.file))
    return bytes !== undefined && bytes.length === p.size && sha256Hex(bytes) === p.sha256
  }))
  const needed = lock.packages.filter((_, i) => !present[i])
  progress.totalBytes = needed.reduce((sum, p) => sum + p.size, 0)
  // Verified artifacts wait in the cache, not in memory, until every check has passed.
  await Promise.all(
    needed.map(async (p) => {
      const { record } = await records.record(p.name, p.version, p.record.slice('sha256:'.length))
      const artifact = primaryArtifact(record)
      await reader.fetchArtifact(artifact.url, { sha256: p.sha256, size: p.size }, `${ref(p.name, p.version)} (${artifact.name})`, (n) => {
        progress.bytes += n
        report()
      })
    }),
  )

  // Every check passed: write.
  progress.phase = 'write'
  report()
  await fs.promises.mkdir(dir, { recursive: true }).catch((e: unknown) => {
    throw localFileError(e, dir, 'write')
  })
  for (const p of needed) {
    const bytes = await cache.get(p.sha256)
    if (!bytes) throw new WharfError('CACHE', `${ref(p.name, p.version)} left the cache (${cache.dir}) before it was written`, { hint: 'run the install again' })
    await writeAtomic(path.join(dir, p.file), bytes)
  }
  const removed: string[] = []
  if (oldLock) {
    const kept = new Set(lock.packages.map((p) => p.file))
    for (const old of oldLock.packages) {
      if (kept.has(old.file)) continue
      const file = path.join(dir, old.file)
      const bytes = await readOptional(file)
      // Only what this client put there, unchanged since; anything else in the directory is the user's.
      if (bytes && sha256Hex(bytes) === old.sha256) {
        await fs.promises.rm(file, { force: true }).catch((e: unknown) => {
          throw localFileError(e, file, 'write')
        })
        removed.push(old.file)
      }
    }
  }
  if (lockChanged) await writeAtomic(lockPath, renderLockfile(lock))

  return {
    registry: options.registry,
    source: reader.source,
    commit: reader.snapshot.commit,
    dir,
    lockfile: lockPath,
    lockChanged,
    packages: lock.packages.map((p, i) => ({ name: p.name, version: p.version, file: p.file, sha256: p.sha256, size: p.size, status: present[i] ? 'unchanged' : 'written' })),
    removed,
    requests: http.requests,
    bytes: http.bytes,
  }
}

type Records = ReturnType<typeof createRecordSource>

/** The lockfile as it stands, once each record it pins is the one the registry signs and serves, and the graph holds together. */
async function checkLock(lock: Lockfile, records: Records): Promise<Lockfile> {
  const verified = await Promise.all(lock.packages.map((p) => records.record(p.name, p.version, p.record.slice('sha256:'.length))))
  const byName = new Map<string, string[]>()
  for (const p of lock.packages) byName.set(p.name, [...(byName.get(p.name) ?? []), p.version])
  const inconsistent = (why: string) =>
    new WharfError('LOCK_MISMATCH', `the lockfile does not hold together: ${why}`, { hint: 'run `wharf install ID...` without --frozen to resolve it again' })
  for (const [i, p] of lock.packages.entries()) {
    const record = verified[i]!.record
    const artifact = primaryArtifact(record)
    if (artifact.sha256 !== p.sha256 || artifact.size !== p.size) {
      throw new WharfError('LOCK_MISMATCH', `${ref(p.name, p.version)}: the lockfile pins artifact sha256 ${p.sha256} (${p.size} bytes), its signed record says ${artifact.sha256} (${artifact.size} bytes)`, {
        hint: 'the lockfile was edited or comes from another registry; restore it, or resolve again without --frozen',
      })
    }
    for (const d of record.dependencies) {
      if (!d.optional && !(byName.get(d.name) ?? []).some((v) => matches(v, d.req))) throw inconsistent(`${ref(p.name, p.version)} needs ${d.name}@${d.req}, which it does not pin`)
    }
  }
  for (const r of lock.requires) {
    const { name, range } = splitRequest(r)
    if (!(byName.get(name) ?? []).some((v) => matches(v, range))) throw inconsistent(`it requires ${r}, but pins no such version`)
  }
  return lock
}

/** Resolves the requests (and what the lockfile required before) into a new lockfile. */
async function resolveLock(options: InstallOptions, reader: RegistryReader, records: Records, base: Lockfile | undefined, previous: Lockfile | undefined): Promise<Lockfile> {
  const asked = options.requests.map((r) => {
    const { name, range } = splitRequest(r)
    return { name, range: range || '*' }
  })
  const askedNames = new Set(asked.map((r) => r.name))
  const kept: Requirement[] = (options.requests.length ? (base?.requires ?? []) : (previous?.requires ?? [])).map(splitRequest).filter((r) => !askedNames.has(r.name))
  const roots: Requirement[] = [...kept, ...asked]
  // A package named on the command line is resolved afresh; the others keep their pinned versions while they fit.
  const locked = new Map<string, string[]>()
  for (const p of base?.packages ?? []) if (!askedNames.has(p.name)) locked.set(p.name, [...(locked.get(p.name) ?? []), p.version])

  const index: PackageIndex = {
    async versions(name) {
      const file = versionsPath(name)
      const bytes = await reader.read(file)
      if (!bytes) return undefined
      const doc = parseDocument(bytes, file)
      // Only well-formed versions: they become paths and file names.
      const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && checkVersion(x) === undefined) : [])
      return { versions: strings(doc.versions), yanked: strings(doc.yanked) }
    },
    async dependencies(name, version) {
      return (await records.record(name, version)).record.dependencies
    },
    async names(name) {
      // The packages of the name's namespace, or of the namespaces closest to it: a few small documents at any registry size.
      const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
      const json = async (file: string): Promise<Record<string, unknown> | undefined> => {
        const bytes = await reader.read(file)
        return bytes ? parseDocument(bytes, file) : undefined
      }
      const ns = name.slice(0, name.indexOf(':'))
      const own = await json(namespaceDocPath(ns))
      if (own) return strings(own.packages)
      const near = closeNames(ns, strings((await json(PATHS.namespaces))?.namespaces))
      return (await Promise.all(near.map(async (other) => strings((await json(namespaceDocPath(other)))?.packages)))).flat()
    },
  }
  const resolution = await resolve(index, { roots, locked })
  const verified = await Promise.all(resolution.packages.map((p) => records.record(p.name, p.version)))
  const artifactNames = new Map<string, string>()
  const entries = resolution.packages.map((p, i) => {
    const { record, digest } = verified[i]!
    const artifact = primaryArtifact(record)
    artifactNames.set(ref(p.name, p.version), artifact.name)
    return {
      name: p.name,
      version: p.version,
      kind: record.kind,
      size: artifact.size,
      sha256: artifact.sha256,
      record: `sha256:${digest}`,
      source: reader.artifactUrl(artifact.url),
      dependencies: p.dependencies.map((d) => ref(d.name, d.version)),
    }
  })
  const previousFiles = new Map((previous?.packages ?? []).map((p) => [ref(p.name, p.version), p.file]))
  const requires = [
    ...kept.map((r) => `${r.name}@${r.range}`),
    // What was asked without a range is recorded as compatible with what it resolved to, as npm and cargo add do.
    ...asked.map((r, i) => `${r.name}@${options.requests[i]!.includes('@') ? r.range : `^${resolution.roots[kept.length + i]!.version}`}`),
  ]
  return { version: 1, registry: normalizeRegistryUrl(options.registry), requires: [...new Set(requires)], packages: assignFiles(entries, artifactNames, previousFiles) }
}
