/**
 * The long load suite: `wharf serve` as its own process, on loopback. First
 * a registry is seeded; then readers alone, back to back; then writers and
 * readers together (some versions sent twice at once). Figures side by side:
 * reads per second and read latency alone and under writes (and their
 * ratio), publishes per second and publish latency. Then everything
 * test/load/harness.ts checks after a load: audit, a full rebuild equal to
 * the served output, every acknowledged version once, nothing half there,
 * no 5xx. A broken promise fails the bench.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { percentile, runLoad, verifyAfterLoad, type LoadResult } from '../test/load/harness.js'
import { table } from './_util.js'

const WHARF = fileURLToPath(new URL('../bin/wharf.js', import.meta.url))
const TOKENS = { alpha: 'alpha-token', beta: 'beta-token', gamma: 'gamma-token' }
const READERS = 32
const WRITERS = 8
// Publishes are serialised by the write lock (about 1 s each on two cores), so the mixed phase lasts about VERSIONS seconds.
const SEED_VERSIONS = Number(process.env.WHARF_BENCH_LOAD_SEED ?? 40)
const VERSIONS = Number(process.env.WHARF_BENCH_LOAD_VERSIONS ?? 80)
const READ_ALONE_MS = 8_000

async function startServer(dataDir: string, log: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [WHARF, 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      REGISTRY_DATA_DIR: dataDir,
      REGISTRY_TOKENS: Object.entries(TOKENS).map(([ns, t]) => `${ns}:${t}`).join(','),
      REGISTRY_RATE_LIMIT_PER_MIN: '1000000',
    },
    stdio: ['ignore', 'pipe', log],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    let head = ''
    child.stdout!.on('data', (d: Buffer) => {
      if (head.length < 65_536) head += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(head)
      if (m) resolve(m[1]!)
    })
    void exited.then(() => reject(new Error(`wharf serve exited before listening:\n${head}`)))
  })
  return {
    url,
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

function row(phase: string, r: LoadResult): Record<string, string | number> {
  const publishMs = r.attempts.map((a) => a.ms)
  const seconds = r.wallMs / 1000
  const errors = Object.entries(r.statuses).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0)
  return {
    phase,
    'wall s': Number(seconds.toFixed(1)),
    publishes: r.attempts.length,
    'publishes/s': Number((r.attempts.length / seconds).toFixed(1)),
    'publish p50 ms': Number(percentile(publishMs, 50).toFixed(0)) || '-',
    'publish p99 ms': Number(percentile(publishMs, 99).toFixed(0)) || '-',
    reads: r.reads,
    'reads/s': Number((r.reads / seconds).toFixed(0)),
    'read p50 ms': Number(percentile(r.readMs, 50).toFixed(1)) || '-',
    'read p99 ms': Number(percentile(r.readMs, 99).toFixed(1)) || '-',
    '5xx': errors,
  }
}

export async function run(): Promise<void> {
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-load-'))
  const dataDir = path.join(work, 'data')
  const log = fs.openSync(path.join(work, 'serve.log'), 'w')
  const server = await startServer(dataDir, log)
  const results: [string, LoadResult][] = []
  try {
    const seed = await runLoad({ url: server.url, tokens: TOKENS, writers: 4, readers: 0, versions: SEED_VERSIONS, duplicateEvery: 1_000_000, major: 1 })
    results.push(['seed (4 writers)', seed])
    const alone = await runLoad({ url: server.url, tokens: TOKENS, writers: 0, readers: READERS, versions: 0, duplicateEvery: 1, minDurationMs: READ_ALONE_MS, known: seed.acknowledged })
    results.push([`${READERS} readers alone`, alone])
    const mixed = await runLoad({ url: server.url, tokens: TOKENS, writers: WRITERS, readers: READERS, versions: VERSIONS, duplicateEvery: 5, known: seed.acknowledged, major: 2 })
    results.push([`${WRITERS} writers + ${READERS} readers`, mixed])
  } finally {
    await server.stop()
    fs.closeSync(log)
  }
  table(results.map(([phase, r]) => row(phase, r)))
  const alone = results[1]![1]
  const mixed = results[2]![1]
  console.log(
    `reads under writes vs alone: ${((mixed.reads / mixed.wallMs) / (alone.reads / alone.wallMs)).toFixed(2)}x the throughput, ` +
      `${(percentile(mixed.readMs, 50) / percentile(alone.readMs, 50)).toFixed(2)}x the p50 latency`,
  )

  const acknowledged = new Map([...results[0]![1].acknowledged, ...mixed.acknowledged])
  const combined: LoadResult = { ...mixed, acknowledged, failures: results.flatMap(([, r]) => r.failures) }
  const problems = [...combined.failures, ...(await verifyAfterLoad(dataDir, server.url, combined, work))]
  if (problems.length > 0) throw new Error(`the load broke promises:\n${problems.slice(0, 20).join('\n')}`)
  console.log(`after the load: audit clean, full rebuild equal to the served output, ${acknowledged.size} acknowledged versions each on main once, nothing half there, no 5xx`)
  await fs.promises.rm(work, { recursive: true, force: true })
}
