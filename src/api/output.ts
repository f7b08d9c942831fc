/**
 * Where a build writes. A full build fills a new directory and swaps it in
 * by replacing the `out` symlink (one rename: a reader sees the old tree or
 * the new one, never a mix); an incremental build updates the current tree
 * in place, each file by temp file and rename, leaves before the documents
 * that point at them and the snapshot last.
 */
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { writeFileAtomic } from '../store/index.js'
import { isSnapshotFile } from './snapshot.js'

/** Files written at once while filling a new tree: enough to keep the thread pool busy. */
const PARALLEL_WRITES = 32

export class OutputTree {
  /** Path to sha256 of every file written (or linked) by this build. */
  readonly written = new Map<string, string>()
  readonly removed = new Set<string>()
  /** Files whose bytes on disk this build changed. */
  changed = 0
  private readonly dirs = new Set<string>()
  private readonly unsynced = new Set<string>()
  private readonly inflight = new Set<Promise<void>>()
  private failure: unknown

  /**
   * @param root the directory to write into
   * @param inPlace update a tree readers may be reading (atomic per file), rather than fill a new one
   */
  constructor(
    readonly root: string,
    readonly inPlace: boolean,
  ) {}

  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return
    await fs.promises.mkdir(dir, { recursive: true })
    this.dirs.add(dir)
  }

  private async schedule(work: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure
    while (this.inflight.size >= PARALLEL_WRITES) await Promise.race(this.inflight)
    const task: Promise<void> = work()
      .catch((e: unknown) => {
        this.failure ??= e
      })
      .finally(() => this.inflight.delete(task))
    this.inflight.add(task)
  }

  /**
   * Writes a file (relative path). In place, a file that already holds these
   * bytes is left alone, so its ETag stays; `changed` says the caller knows
   * the bytes differ from the file's (or there is none), so it is not read.
   * Resolves to the bytes' sha256.
   */
  async write(file: string, content: string | Buffer, changed = false): Promise<string> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content
    const sha256 = sha256Hex(bytes)
    this.written.set(file, sha256)
    this.removed.delete(file)
    const full = path.join(this.root, file)
    await this.schedule(async () => {
      if (this.inPlace) {
        const existing = changed ? undefined : await fs.promises.readFile(full).catch(() => undefined)
        if (existing && existing.equals(bytes)) return
        await writeFileAtomic(full, bytes, 0o644, false)
        this.unsynced.add(full)
      } else {
        await this.ensureDir(path.dirname(full))
        await fs.promises.writeFile(full, bytes)
      }
      this.changed++
    })
    return sha256
  }

  /** Places a content-addressed file by hard link (a copy across file systems); an existing one is kept. */
  async link(file: string, source: string, sha256: string): Promise<void> {
    this.written.set(file, sha256)
    const full = path.join(this.root, file)
    await this.schedule(async () => {
      if (fs.existsSync(full)) return
      await this.ensureDir(path.dirname(full))
      const temp = `${full}.${randomBytes(4).toString('hex')}.tmp`
      try {
        await fs.promises.link(source, temp)
      } catch (e) {
        if (!['EXDEV', 'EPERM', 'EMLINK'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e
        await fs.promises.copyFile(source, temp)
      }
      await fs.promises.rename(temp, full)
    })
  }

  async remove(file: string): Promise<void> {
    this.written.delete(file)
    this.removed.add(file)
    await this.schedule(() => fs.promises.rm(path.join(this.root, file), { force: true }))
  }

  async read(file: string): Promise<Buffer | undefined> {
    try {
      return await fs.promises.readFile(path.join(this.root, file))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    }
  }

  async readJson<T>(file: string): Promise<T | undefined> {
    const bytes = await this.read(file)
    return bytes && this.parseJson<T>(file, bytes)
  }

  /** The JSON of `bytes`, read from `file`. */
  parseJson<T>(file: string, bytes: Buffer): T {
    try {
      return JSON.parse(bytes.toString('utf8')) as T
    } catch (e) {
      throw new WharfError('IO', `${path.join(this.root, file)} is not JSON: ${(e as Error).message}`, { hint: 'run build-api without --since to rebuild the output' })
    }
  }

  /**
   * Flushes to disk the files this build replaced, all at once (the file
   * system commits them together, where one fsync per file would wait for
   * each), so that the build state written after them never describes files
   * a crash could lose.
   */
  async sync(): Promise<void> {
    await this.flush()
    const files = [...this.unsynced]
    this.unsynced.clear()
    const dirs = new Set(files.map((f) => path.dirname(f)))
    const fsync = async (target: string) => {
      const handle = await fs.promises.open(target, 'r').catch(() => undefined)
      if (!handle) return
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
    for (let i = 0; i < files.length; i += PARALLEL_WRITES) await Promise.all(files.slice(i, i + PARALLEL_WRITES).map(fsync))
    await Promise.all([...dirs].map(fsync))
  }

  /** Waits for every write so far; throws the first failure. */
  async flush(): Promise<void> {
    while (this.inflight.size) await Promise.race(this.inflight)
    if (this.failure) throw this.failure
  }
}

/**
 * `path.join(root, file)` for an absolute, normalized `root`: by hand when
 * `file` is a plain relative path (no empty, `.` or `..` segment), as
 * nearly every file of a build is, since path.join costs ten times more.
 */
export function pathUnder(root: string, file: string): string {
  if (!PLAIN_RELATIVE.test(file)) return path.join(root, file)
  return root.endsWith('/') ? `${root}${file}` : `${root}/${file}`
}
const PLAIN_RELATIVE = /^(?:(?!\.\.?(?:\/|$))[^/]+\/)*(?!\.\.?$)[^/]+$/

/**
 * Fills a new tree (a full build) with plain synchronous writes: one per
 * file, no temp file and no rename, since nobody reads the tree before it
 * is swapped in. Each of a full build's threads has its own; each notes
 * what it wrote as text lines `<first 8 hex of sha256(path)>\t<path>\t<sha256>`,
 * by the first three hex digits, so the snapshot is made from lines without
 * a map of every file in one place.
 */
export class TreeWriter {
  private leaves = new Map<string, string[]>()
  private count = 0
  private linked: string[] = []
  private readonly placed = new Set<string>()
  private readonly dirs = new Set<string>()
  readonly root: string

  constructor(root: string) {
    this.root = path.resolve(root)
  }

  private note(file: string, sha256: string): void {
    const hash = sha256Hex(file)
    const key = hash.slice(0, 3)
    const line = `${hash.slice(0, 8)}\t${file}\t${sha256}\n`
    const lines = this.leaves.get(key)
    if (lines) lines.push(line)
    else this.leaves.set(key, [line])
    this.count++
  }

  private ensureDir(dir: string): void {
    if (this.dirs.has(dir)) return
    fs.mkdirSync(dir, { recursive: true })
    this.dirs.add(dir)
  }

  /** Writes a file (relative path) and returns the sha256 of its bytes; `listed`: whether the snapshot lists it. */
  write(file: string, content: string | Buffer, listed = !isSnapshotFile(file)): string {
    const full = pathUnder(this.root, file)
    this.ensureDir(path.dirname(full))
    // A string goes to the file and to the digest as it is: each encodes it (as UTF-8, lone surrogates as U+FFFD alike)
    // into memory of its own, which costs less than a Buffer made for both (5 µs less for a 4.5 KB page).
    fs.writeFileSync(full, content)
    const sha = sha256Hex(content)
    if (listed) this.note(file, sha)
    return sha
  }

  /**
   * Completes a file begun unlisted (by this thread or another) with
   * `rest`: appends it, then lists the file by the sha256 of all its bytes,
   * which it returns.
   */
  complete(file: string, rest: string): string {
    const full = pathUnder(this.root, file)
    const fd = fs.openSync(full, 'r+')
    try {
      // The bytes begun are read back for the digest from the same open file that takes the rest.
      const begun = fs.readFileSync(fd)
      const tail = Buffer.from(rest)
      fs.writeSync(fd, tail, 0, tail.length, begun.length)
      const sha = createHash('sha256').update(begun).update(tail).digest('hex')
      this.note(file, sha)
      return sha
    } finally {
      fs.closeSync(fd)
    }
  }

  /** Places a content-addressed file by hard link (a copy across file systems); another thread may place the same one. */
  link(file: string, source: string, sha256: string): void {
    if (this.placed.has(file)) return
    this.placed.add(file)
    const full = pathUnder(this.root, file)
    this.ensureDir(path.dirname(full))
    if (!fs.existsSync(full)) {
      const temp = `${full}.${randomBytes(4).toString('hex')}.tmp`
      try {
        fs.linkSync(source, temp)
      } catch (e) {
        if (!['EXDEV', 'EPERM', 'EMLINK'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e
        fs.copyFileSync(source, temp)
      }
      fs.renameSync(temp, full)
    }
    this.note(file, sha256)
    this.linked.push(file)
  }

  /**
   * The snapshot lines so far, one string per three-digit prefix (cheap to
   * pass between threads), how many, and the content-addressed files placed
   * (another thread may have placed them too); then forgets them.
   */
  take(): { leaves: [string, string][]; count: number; linked: string[] } {
    const leaves: [string, string][] = []
    for (const [key, lines] of this.leaves) leaves.push([key, lines.join('')])
    const taken = { leaves, count: this.count, linked: this.linked }
    this.leaves = new Map()
    this.count = 0
    this.linked = []
    return taken
  }
}

/** The directory that holds the builds behind the `out` symlink. */
export function buildsDirOf(out: string): string {
  return path.join(path.dirname(out), `.${path.basename(out)}.builds`)
}

/** The tree `out` serves now: the symlink's target, or `out` itself when it is a directory; undefined when there is none. */
export function currentTree(out: string): string | undefined {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(out)
  } catch {
    return undefined
  }
  if (stat.isSymbolicLink()) {
    const target = path.resolve(path.dirname(out), fs.readlinkSync(out))
    return fs.existsSync(target) ? target : undefined
  }
  return stat.isDirectory() ? out : undefined
}

/** A new, empty directory for a full build, next to the others. */
export async function newTree(out: string): Promise<string> {
  const builds = buildsDirOf(out)
  await fs.promises.mkdir(builds, { recursive: true })
  return fs.promises.mkdtemp(path.join(builds, `${Date.now().toString(36)}-`))
}

/** Whether a directory is one build-api wrote (or is empty), so replacing it loses nothing of the user's. */
function isReplaceable(dir: string): boolean {
  const entries = fs.readdirSync(dir)
  return entries.length === 0 || fs.existsSync(path.join(dir, '.wharf', 'build.json'))
}

/**
 * Points `out` at `tree` with one rename of a symlink, then deletes the
 * builds it replaced (a reader that already opened a file keeps reading it).
 */
export async function swapIn(out: string, tree: string): Promise<void> {
  let stat: fs.Stats | undefined
  try {
    stat = fs.lstatSync(out)
  } catch {
    stat = undefined
  }
  const builds = buildsDirOf(out)
  if (stat && !stat.isSymbolicLink()) {
    if (!stat.isDirectory() || !isReplaceable(out)) {
      throw new WharfError('USAGE', `${out} exists and is not an API directory build-api made`, { hint: 'choose an empty or new --out directory' })
    }
    // A plain directory from before: move it aside (the one moment `out` is absent), then link.
    await fs.promises.rename(out, path.join(builds, `old-${randomBytes(4).toString('hex')}`))
  }
  const link = `${out}.${randomBytes(4).toString('hex')}.link`
  await fs.promises.symlink(path.relative(path.dirname(out), tree), link)
  await fs.promises.rename(link, out)
  for (const entry of await fs.promises.readdir(builds)) {
    const full = path.join(builds, entry)
    if (full !== tree && entry !== '.wharf') await fs.promises.rm(full, { recursive: true, force: true })
  }
}
