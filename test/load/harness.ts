/**
 * Mixed load on a running `wharf serve`, on loopback, and what must hold
 * after it. Writers publish from a shared queue (some versions sent twice,
 * with different bytes, by two writers at once); readers read what the
 * registry serves while it changes: version lists, the documents and
 * artifacts of versions already acknowledged (which must be there the moment
 * the 201 arrives), stats, search, health, Cargo's config and missing paths.
 *
 * `verifyAfterLoad` then checks the data dir of the stopped server: `wharf
 * audit` passes; a full build-api equals the served output byte for byte;
 * main holds every acknowledged version exactly once and nothing else; no
 * branch, journal entry, temp file or unreferenced artifact is left. The
 * short form runs in `npm test` (test/load/), the long one in `npm run bench`.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildApi } from '../../src/api/index.js'
import { auditIndex } from '../../src/audit/index.js'
import { classifyPath, PACKAGES_DIR } from '../../src/core/layout.js'
import { versionKey } from '../../src/core/versions.js'
import { listBranches, MAIN, openRepo, readBlob, walkFiles } from '../../src/git/index.js'
import { siteRenderer } from '../../src/site/index.js'
import { STORE_DIR } from '../../src/store/index.js'
import { readTree, treeDifferences } from '../fixtures/api/tree.js'
import { component } from '../helpers/wasm.js'

export interface LoadOptions {
  url: string
  /** Namespace to token: each writer publishes into all of them. */
  tokens: Record<string, string>
  writers: number
  readers: number
  /** Distinct versions to publish. */
  versions: number
  /** Every n-th version is also sent by a second writer, with other bytes: exactly one of the two may land. */
  duplicateEvery: number
  /** Each reader waits this long between reads (0: back to back, as hard as it can). */
  readerPauseMs?: number
  /** Readers go on at least this long, even when there is nothing (left) to write. */
  minDurationMs?: number
  /** Versions acknowledged before this run (name@version to sha256), for readers to read too. */
  known?: ReadonlyMap<string, string>
  /** The major version of every version this run publishes, so runs on one registry do not collide. */
  major?: number
}

export interface Attempt {
  name: string
  version: string
  sha256: string
  status: number
  ms: number
}

export interface LoadResult {
  attempts: Attempt[]
  /** name@version of each 201. */
  acknowledged: Map<string, string>
  /** Every answer by status, reads and writes. */
  statuses: Record<number, number>
  /** 5xx answers, failed connections and broken promises (a 201'd version unreadable, a download that does not hash). */
  failures: string[]
  reads: number
  readMs: number[]
  wallMs: number
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

interface Answer {
  status: number
  body: Buffer
  ms: number
}

function request(agent: http.Agent, url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Answer> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method: init.method ?? 'GET', headers: init.headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), ms: performance.now() - started }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within 60 s: ${url}`)))
    req.on('error', reject)
    req.end(init.body)
  })
}

/** The Run publish form as multipart bytes. */
function publishBody(name: string, version: string, bytes: Buffer): { body: Buffer; type: string } {
  const boundary = `wharf-load-${Math.random().toString(16).slice(2)}`
  const field = (k: string, v: string) => `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`
  const head = field('name', name) + field('version', version) + field('description', `load ${name}`) + field('sha256', sha256(bytes))
  const file = `--${boundary}\r\ncontent-disposition: form-data; name="component"; filename="x.wasm"\r\ncontent-type: application/wasm\r\n\r\n`
  return { body: Buffer.concat([Buffer.from(head + file), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]), type: `multipart/form-data; boundary=${boundary}` }
}

/** A small PRNG, so a run's plan is the same each time. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const namespaces = Object.keys(options.tokens)
  const random = prng(42)
  // The queue: each version once, some twice (the second with other bytes), in an order that puts twins side by side.
  const queue: { name: string; version: string; bytes: Buffer; token: string }[] = []
  for (let i = 0; i < options.versions; i++) {
    const ns = namespaces[i % namespaces.length]!
    const name = `${ns}:pkg-${i % 3}`
    const version = `${options.major ?? 1}.${Math.floor(i / 3)}.0`
    const job = (label: string) => ({ name, version, bytes: component(`${name}@${version} ${label}`), token: options.tokens[ns]! })
    queue.push(job('a'))
    if (i % options.duplicateEvery === 0) queue.push(job('b'))
  }
  const result: LoadResult = { attempts: [], acknowledged: new Map(), statuses: {}, failures: [], reads: 0, readMs: [], wallMs: 0 }
  const count = (status: number) => (result.statuses[status] = (result.statuses[status] ?? 0) + 1)
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.writers + options.readers })
  const started = performance.now()
  let writing = true

  const writer = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const { body, type } = publishBody(job.name, job.version, job.bytes)
      try {
        const answer = await request(agent, `${options.url}/api/v1/packages`, { method: 'POST', headers: { authorization: `Bearer ${job.token}`, 'content-type': type }, body })
        count(answer.status)
        result.attempts.push({ name: job.name, version: job.version, sha256: sha256(job.bytes), status: answer.status, ms: answer.ms })
        if (answer.status >= 500) result.failures.push(`publish ${job.name}@${job.version}: ${answer.status} ${answer.body.toString().slice(0, 300)}`)
        if (answer.status === 201) {
          const key = `${job.name}@${job.version}`
          if (result.acknowledged.has(key)) result.failures.push(`${key} acknowledged twice`)
          result.acknowledged.set(key, sha256(job.bytes))
        }
      } catch (e) {
        result.failures.push(`publish ${job.name}@${job.version}: ${(e as Error).message}`)
      }
    }
  }

  const known = [...(options.known ?? [])]
  const reader = async () => {
    while (writing || performance.now() - started < (options.minDurationMs ?? 0)) {
      const acked = [...known, ...result.acknowledged]
      const pick = acked.length > 0 ? acked[Math.floor(random() * acked.length)]! : undefined
      const r = random()
      let target: string
      let expectOk = false
      let digest: string | undefined
      if (pick && r < 0.35) {
        const [id, version] = [pick[0].slice(0, pick[0].lastIndexOf('@')), pick[0].slice(pick[0].lastIndexOf('@') + 1)]
        target = `/api/v1/packages/${encodeURIComponent(id)}/${version}`
        expectOk = true
      } else if (pick && r < 0.5) {
        const [id, version] = [pick[0].slice(0, pick[0].lastIndexOf('@')), pick[0].slice(pick[0].lastIndexOf('@') + 1)]
        target = `/packages/${encodeURIComponent(id)}/${version}/artifact.wasm`
        expectOk = true
        digest = pick[1]
      } else if (r < 0.65) target = `/api/v1/packages/${encodeURIComponent(`${namespaces[0]}:pkg-${Math.floor(random() * 3)}`)}/versions`
      else if (r < 0.75) target = '/api/v1/stats'
      else if (r < 0.85) target = '/api/v1/search?q=pkg'
      else if (r < 0.9) target = '/cargo/config.json'
      else if (r < 0.95) target = '/health'
      else target = `/api/v1/packages/nope%3Amissing/${Math.floor(random() * 1e6)}`
      try {
        const answer = await request(agent, `${options.url}${target}`)
        count(answer.status)
        result.reads++
        result.readMs.push(answer.ms)
        if (answer.status >= 500) result.failures.push(`GET ${target}: ${answer.status} ${answer.body.toString().slice(0, 300)}`)
        else if (expectOk && answer.status !== 200) result.failures.push(`GET ${target}: ${answer.status} for an acknowledged version`)
        else if (digest && sha256(answer.body) !== digest) result.failures.push(`GET ${target}: the bytes do not hash to the acknowledged sha256`)
      } catch (e) {
        result.failures.push(`GET ${target}: ${(e as Error).message}`)
      }
      if (options.readerPauseMs) await new Promise((resolve) => setTimeout(resolve, options.readerPauseMs))
    }
  }

  const writers = Promise.all(Array.from({ length: options.writers }, writer)).finally(() => (writing = false))
  await Promise.all([writers, ...Array.from({ length: options.readers }, reader)])
  result.wallMs = performance.now() - started
  agent.destroy()
  return result
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
}

/** Everything that must hold in the data dir of a server stopped after `runLoad`; the problems found (none when all is well). */
export async function verifyAfterLoad(dataDir: string, baseUrl: string, result: LoadResult, scratch: string): Promise<string[]> {
  const problems: string[] = []
  const repo = openRepo(path.join(dataDir, 'index'))
  const audit = await auditIndex(repo)
  for (const v of audit.violations) problems.push(`audit: ${JSON.stringify(v)}`)

  // Main holds each acknowledged version once, with the acknowledged bytes, and no version nobody was told about.
  const onMain = new Map<string, string>()
  const keys = new Set<string>()
  for (const file of await walkFiles(repo, MAIN, PACKAGES_DIR)) {
    if (classifyPath(file.path).kind !== 'record') continue
    const record = JSON.parse(Buffer.from(await readBlob(repo, file.oid)).toString('utf8')) as { name: string; version: string; artifacts: { sha256: string }[] }
    const key = `${record.name}@${versionKey(record.version)}`
    if (keys.has(key)) problems.push(`${key} is on main twice`)
    keys.add(key)
    onMain.set(`${record.name}@${record.version}`, record.artifacts[0]!.sha256)
  }
  for (const [key, digest] of result.acknowledged) {
    if (!onMain.has(key)) problems.push(`${key} was acknowledged (201) but is not on main`)
    else if (onMain.get(key) !== digest) problems.push(`${key} on main holds other bytes than the acknowledged ones`)
  }
  for (const key of onMain.keys()) if (!result.acknowledged.has(key)) problems.push(`${key} is on main but nobody was told it landed`)

  // The change feed lists each version once.
  const publicDir = path.join(dataDir, 'public')
  const head = JSON.parse(fs.readFileSync(path.join(publicDir, 'api/v1/feed/head.json'), 'utf8')) as { pages: number }
  const seen = new Map<string, number>()
  for (let page = 0; page < head.pages; page++) {
    const entries = (JSON.parse(fs.readFileSync(path.join(publicDir, `api/v1/feed/${page}.json`), 'utf8')) as { entries: { type: string; name: string; version: string }[] }).entries
    for (const e of entries) if (e.type === 'publish') seen.set(`${e.name}@${e.version}`, (seen.get(`${e.name}@${e.version}`) ?? 0) + 1)
  }
  for (const key of result.acknowledged.keys()) if (seen.get(key) !== 1) problems.push(`the feed lists ${key} ${seen.get(key) ?? 0} times`)

  // A full build with the site's pages, as the server builds, at the time the served snapshot was made, equals the incrementally built output byte for byte.
  const snapshot = JSON.parse(fs.readFileSync(path.join(publicDir, 'snapshot.json'), 'utf8')) as { generated_at: string }
  const full = path.join(scratch, 'full')
  await buildApi({ repo, out: full, baseUrl, now: new Date(snapshot.generated_at), pages: siteRenderer })
  for (const p of treeDifferences(readTree(publicDir), readTree(full))) problems.push(`the served output differs from a full build at ${p}`)

  // Nothing half there: no proposal branch, journal entry, temp file or artifact no record names.
  const branches = await listBranches(repo)
  if (branches.join() !== MAIN) problems.push(`branches left: ${branches.join(', ')}`)
  const journal = filesUnder(path.join(dataDir, 'state', 'journal')).filter((f) => f.endsWith('.json'))
  if (journal.length) problems.push(`journal entries left: ${journal.join(', ')}`)
  const temps = filesUnder(dataDir).filter((f) => f.endsWith('.tmp'))
  if (temps.length) problems.push(`temp files left: ${temps.join(', ')}`)
  const named = new Set(onMain.values())
  for (const file of filesUnder(path.join(repo.dir, STORE_DIR))) if (!named.has(path.basename(file))) problems.push(`artifact ${path.basename(file)} is in the store but no record names it`)
  return problems
}

/** The p-th percentile of `values` (sorted copy). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
}
