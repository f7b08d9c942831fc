/**
 * The worker threads of a full build. Each opens the index's object store
 * over the packs the main thread read into shared memory, takes groups of
 * packages, writes their files into the new tree itself, and sends back
 * short summaries and the snapshot lines of what it wrote. With a site,
 * each imports the page renderer itself (PageRenderer.module), renders a
 * package's pages as it reads the package, and completes the package pages
 * once the main thread has every dependents list.
 *
 * A worker runs this very module (`import.meta.url`), so the build needs no
 * separate entry file: run from TypeScript (tsx, vitest) the worker first
 * registers tsx's loader; run from a bundle it loads the bundle's chunk.
 */
import { createRequire } from 'node:module'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { isWharfCode, WharfError } from '../core/errors.js'
import { ObjectReader, type SharedStore } from '../git/index.js'
import { forEachIndexChange } from './history.js'
import type { Site } from './documents.js'
import { buildGroups, closeGroupPages, type GroupTask, type PackageSummary, type PagesTask } from './groups.js'
import { TreeWriter } from './output.js'
import { loadPageRenderer, type PageRenderer, type PageRendererModule } from './pages.js'
import { renderSubtree } from './snapshot.js'

const TAG = 'wharf-build-api-worker'
const STATUS = { added: 'A', modified: 'M', deleted: 'D' } as const

function historyLines(reader: ObjectReader, trees: string[]): string {
  const lines: string[] = []
  forEachIndexChange(reader, trees[0] || undefined, trees.slice(1), (i, changes) => {
    for (const change of changes) lines.push(`${i + 1}\t${STATUS[change.status]}\t${change.path}`)
  })
  return lines.length ? `${lines.join('\n')}\n` : ''
}

export interface WorkerSetup {
  store: SharedStore
  /** The tree the build fills. */
  root: string
  site: Site
  indexDir: string
  /** The renderer of the package pages, and the format the build expects of it (none: the build writes no pages). */
  pages?: { module: PageRendererModule; format: string }
}

export type Job =
  | { kind: 'history'; trees: string[] }
  | { kind: 'groups'; task: GroupTask }
  | { kind: 'pages'; task: PagesTask }
  | { kind: 'leaves'; leaves: [string, string][]; digits: number }
  /** Files to write: their paths, and their bytes one after another in `bytes`, the i-th ending at `ends[i]`. */
  | { kind: 'files'; files: string[]; ends: number[]; bytes: Uint8Array }

/**
 * What each commit of a run changed under `index/`, as text lines
 * `<n>\t<A|M|D>\t<path>`: `trees` holds the root tree of the commit before
 * the run (empty for none) and then of each commit, and `n` counts from 1.
 */
export type HistoryResult = string

export interface GroupsResult {
  packages: PackageSummary[]
  /** Where the package pages wait for their dependents (buildGroups). */
  openPages?: string
  /** What the thread wrote, for the snapshot (TreeWriter.take). */
  written: ReturnType<TreeWriter['take']>
}

export interface PagesResult {
  /** Packages whose pages were written. */
  packages: number
  written: ReturnType<TreeWriter['take']>
}

/** Files written for another thread (their paths and contents in the job). */
export interface FilesResult {
  written: ReturnType<TreeWriter['take']>
}

/** Rendered snapshot subtrees, a three-digit prefix each: the digests of its topmost nodes by name (renderSubtree), how many files they list and how many nodes there are. */
export type LeavesResult = [[string, string][], number, number][]

interface Reply {
  id: number
  result?: unknown
  /** `code`: a WharfError's code, or a system error's (ENOSPC, EACCES, ...). */
  error?: { message: string; code?: string; hint?: string; stack?: string }
}

export interface JobEnv {
  reader: ObjectReader
  writer: TreeWriter
  site: Site
  indexDir: string
  pages?: PageRenderer
}

/** Runs a job in the calling thread or a worker: the one place that knows what each job does. */
export function runJob(env: JobEnv, job: Job): HistoryResult | GroupsResult | PagesResult | LeavesResult | FilesResult {
  if (job.kind === 'history') return historyLines(env.reader, job.trees)
  if (job.kind === 'files') {
    const bytes = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength)
    job.files.forEach((file, i) => env.writer.write(file, bytes.subarray(i ? job.ends[i - 1] : 0, job.ends[i])))
    return { written: env.writer.take() }
  }
  if (job.kind === 'groups') {
    return { ...buildGroups(env, env.writer, job.task), written: env.writer.take() }
  }
  if (job.kind === 'pages') {
    if (!env.pages) throw new Error('a pages job reached a thread without a page renderer')
    const packages = closeGroupPages(env.pages, env.writer, job.task)
    return { packages, written: env.writer.take() }
  }
  return job.leaves.map(([prefix, lines]) => {
    const { digests, count, nodes } = renderSubtree(prefix, lines, job.digits, (file, text) => env.writer.write(file, text))
    return [digests, count, nodes]
  })
}

/** A pool of workers that take jobs in turn. */
export class Pool {
  private readonly workers: Worker[] = []
  private readonly idleWorkers: Worker[] = []
  private readonly waiting: (() => void)[] = []
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (e: unknown) => void }>()
  private next = 0
  private failure: unknown

  constructor(size: number, setup: WorkerSetup) {
    const url = new URL(import.meta.url)
    for (let i = 0; i < size; i++) {
      const data = { [TAG]: true, ...setup }
      const worker = url.pathname.endsWith('.ts') ? new Worker(tsxEntry(url), { eval: true, workerData: data }) : new Worker(url, { workerData: data })
      worker.on('message', (reply: Reply) => this.settle(worker, reply))
      worker.on('error', (e) => this.fail(e))
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new WharfError('IO', `a build worker stopped (exit ${code})`, { hint: 'run build-api again; if it fails again, report it' }))
      })
      this.workers.push(worker)
      this.idleWorkers.push(worker)
    }
  }

  private fail(e: unknown): void {
    this.failure ??= e
    for (const { reject } of this.pending.values()) reject(this.failure)
    this.pending.clear()
    for (const wake of this.waiting.splice(0)) wake()
  }

  private settle(worker: Worker, reply: Reply): void {
    const waiter = this.pending.get(reply.id)
    // An answer to no pending job: the job ran twice, and the worker may still be running it (or the pool failed already; the first failure stays).
    if (!waiter) return this.fail(new Error(`a build worker answered job ${reply.id} twice: it ran twice`))
    this.pending.delete(reply.id)
    this.idleWorkers.push(worker)
    this.waiting.shift()?.()
    if (reply.error) {
      const { code, message, hint } = reply.error
      // As it was thrown: a WharfError with its code, or an error with a system error's code, which callers read (noSpaceError).
      const e = isWharfCode(code) ? new WharfError(code, message, { hint }) : Object.assign(new Error(message), code ? { code } : {})
      if (reply.error.stack) e.stack = reply.error.stack
      waiter.reject(e)
    } else waiter.resolve(reply.result)
  }

  /** Runs a job on the next idle worker (moving the `transfer` buffers to it); waits for one when all are busy. */
  async run<T>(job: Job, transfer: ArrayBuffer[] = []): Promise<T> {
    while (!this.idleWorkers.length && !this.failure) await new Promise<void>((wake) => this.waiting.push(wake))
    if (this.failure) throw this.failure
    const worker = this.idleWorkers.shift()!
    const id = this.next++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      worker.postMessage({ id, job }, transfer)
    })
  }

  get size(): number {
    return this.workers.length
  }

  /** Workers with no job. */
  get idle(): number {
    return this.idleWorkers.length
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

/** Code for a worker that loads a TypeScript module: node's module hooks do not reach workers, so it registers tsx itself. */
function tsxEntry(url: URL): string {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs')).href
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}) })`
}

function serve(setup: WorkerSetup): void {
  const reader = ObjectReader.fromShared(setup.store)
  const env: JobEnv = { reader, writer: new TreeWriter(setup.root), site: setup.site, indexDir: setup.indexDir }
  // The renderer loads while the history is read; a job that renders waits for it. A worker has one job at a time.
  const pages = setup.pages ? loadPageRenderer(setup.pages.module, setup.pages.format) : undefined
  pages?.catch(() => {})
  parentPort!.on('message', async ({ id, job }: { id: number; job: Job }) => {
    let reply: Reply
    try {
      if (job.kind === 'groups' || job.kind === 'pages') env.pages = await pages
      reply = { id, result: runJob(env, job) }
    } catch (e) {
      const error = e as Error & { code?: unknown; hint?: string }
      reply = { id, error: { message: error.message, code: typeof error.code === 'string' ? error.code : undefined, hint: error.hint, stack: error.stack } }
    }
    parentPort!.postMessage(reply)
  })
}

// A thread may hold two copies of this module (the action's bundle is one, and the site.js its workers load holds
// another): only the first serves, or each job would run twice, the second run racing what follows the first.
const SERVING = Symbol.for(TAG)
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[TAG] && !(globalThis as Record<symbol, unknown>)[SERVING]) {
  ;(globalThis as Record<symbol, unknown>)[SERVING] = true
  serve(workerData as WorkerSetup)
}
