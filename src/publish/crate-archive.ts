/**
 * Reading and unpacking `.crate` files (gzipped tar) with node-tar, on
 * archives anyone may upload. An archive is accepted only when every entry is
 * a plain file or directory inside the crate's one top directory
 * (`<name>-<version>/`): no absolute path, no `..`, no link of either kind, no
 * device file or FIFO, no setuid bits, no path twice, and its unpacked size
 * and entry count stay under limits (a gzip bomb stops early). Reading writes
 * nothing; unpacking reads first and writes only what passed.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Parser, Unpack, type ReadEntry } from 'tar'
import { WharfError } from '../core/errors.js'

export interface CrateArchiveLimits {
  /** Total bytes of the unpacked files (default 512 MiB, as crates.io). */
  maxBytes?: number
  /** Entries, files and directories together (default 50,000). */
  maxEntries?: number
}

export interface CrateArchiveOptions extends CrateArchiveLimits {
  /** The top directory every entry must be in, `<crate name>-<version>`; default: the one the first entry names. */
  topDir?: string
}

export interface CrateArchive {
  topDir: string
  /** Files, by path inside the archive (`<top>/src/lib.rs`), with their sizes. */
  files: { path: string; size: number }[]
  /** Total unpacked bytes. */
  bytes: number
}

export const CRATE_LIMITS: Required<CrateArchiveLimits> = { maxBytes: 512 * 1024 * 1024, maxEntries: 50_000 }

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile'])

const TYPE_NAMES: Record<string, string> = {
  SymbolicLink: 'a symbolic link',
  Link: 'a hard link',
  CharacterDevice: 'a device file',
  BlockDevice: 'a device file',
  FIFO: 'a FIFO',
}

function refuse(message: string): WharfError {
  return new WharfError('REJECTED', `the .crate ${message}`, { hint: 'make the .crate with `cargo package`: it holds plain files under <name>-<version>/ only' })
}

/** What is wrong with one entry, or undefined. */
function entryProblem(entry: ReadEntry, topDir: string): string | undefined {
  const name = JSON.stringify(entry.path)
  if (!FILE_TYPES.has(entry.type) && entry.type !== 'Directory') return `holds ${TYPE_NAMES[entry.type] ?? `an entry of type ${entry.type}`}: ${name}`
  if (entry.path.includes('\0') || entry.path.includes('\\')) return `has a path with a NUL byte or a backslash: ${name}`
  if (entry.path.startsWith('/') || /^[A-Za-z]:/.test(entry.path)) return `has an absolute path: ${name}`
  const segments = entry.path.replace(/\/$/, '').split('/')
  if (segments.includes('..')) return `has a path that climbs out with "..": ${name}`
  if (segments.some((s) => s === '' || s === '.')) return `has a path with an empty or "." segment: ${name}`
  if (segments[0] !== topDir) return `has an entry outside its top directory ${topDir}/: ${name}`
  if (segments.length === 1 && entry.type !== 'Directory') return `has a file where its top directory should be: ${name}`
  if ((entry.mode ?? 0) & 0o7000) return `has an entry with setuid, setgid or sticky bits: ${name}`
  return undefined
}

/**
 * Reads every entry of `bytes` without writing anything and checks it.
 * Throws a `REJECTED` WharfError naming the first bad entry, or `TOO_LARGE`
 * past a limit; a broken archive is refused too.
 */
export function readCrateArchive(bytes: Uint8Array, options: CrateArchiveOptions = {}): CrateArchive {
  const maxBytes = options.maxBytes ?? CRATE_LIMITS.maxBytes
  const maxEntries = options.maxEntries ?? CRATE_LIMITS.maxEntries
  let topDir = options.topDir
  const files: CrateArchive['files'] = []
  const seen = new Set<string>()
  let total = 0
  let problem: WharfError | undefined
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry) => {
      entry.resume()
      if (problem) return
      topDir ??= entry.path.split('/')[0]!
      const key = entry.path.replace(/\/$/, '')
      const wrong = entryProblem(entry, topDir) ?? (seen.has(key) ? `has the path ${JSON.stringify(key)} twice` : undefined)
      seen.add(key)
      total += entry.size ?? 0
      if (wrong) problem = refuse(wrong)
      else if (seen.size > maxEntries) problem = new WharfError('TOO_LARGE', `the .crate has more than ${maxEntries} entries`, { hint: 'leave generated and vendored files out of the package (Cargo.toml `exclude`)' })
      else if (total > maxBytes) problem = new WharfError('TOO_LARGE', `the .crate unpacks to more than ${maxBytes} bytes`, { hint: 'leave large files out of the package (Cargo.toml `exclude`)' })
      else if (FILE_TYPES.has(entry.type)) files.push({ path: entry.path, size: entry.size ?? 0 })
      // Stop reading (and inflating) at the first problem.
      if (problem) parser.abort(problem)
    },
  })
  let broken: Error | undefined
  parser.on('error', (e: Error) => {
    broken ??= e
  })
  // Fed a whole buffer, node-tar parses (and inflates) synchronously.
  parser.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  if (problem) throw problem
  if (broken) throw refuse(`is not a gzipped tar archive that reads to its end (${broken.message})`)
  if (topDir === undefined || files.length === 0) throw refuse('holds no files')
  return { topDir, files, bytes: total }
}

/**
 * Unpacks a `.crate` into `dest` (an empty directory) once `readCrateArchive`
 * accepted all of it, and returns the path of its top directory.
 */
export async function unpackCrate(bytes: Uint8Array, dest: string, options: CrateArchiveOptions = {}): Promise<string> {
  const archive = readCrateArchive(bytes, options)
  const top = path.join(dest, archive.topDir)
  try {
    await new Promise<void>((resolve, reject) => {
      const unpack = new Unpack({
        cwd: dest,
        strict: true,
        // Running as root, node-tar would give files the archive's owners; they belong to whoever unpacks.
        preserveOwner: false,
        // The same rule again, in case the two reads ever disagree.
        filter: (_path, entry) => 'type' in entry && (FILE_TYPES.has(entry.type) || entry.type === 'Directory'),
      })
      unpack.on('error', reject)
      unpack.on('close', () => resolve())
      unpack.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    })
  } catch (e) {
    await fs.promises.rm(top, { recursive: true, force: true })
    throw refuse(`does not unpack: ${(e as Error).message}`)
  }
  return top
}
