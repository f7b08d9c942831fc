/**
 * `wharf sync` of one new version when the peer holds 1,000 and 10,000
 * versions: the peer is a synthetic index (its namespaces not delegated)
 * plus one real namespace, acme, delegated to this registry's peer entry;
 * its build-api output is served by nginx. After a first sync has set the
 * cursor, each run publishes one acme version on the peer, rebuilds its API
 * incrementally and times `wharf sync` as a whole process under GNU time,
 * with the requests and body bytes the sync reports. A sync reads
 * snapshot.json (which names the feed's head and last page itself), the
 * feed's last page from the end of the copy it holds (Range), the record and
 * the artifact, so the figures should not grow with the peer (target: ratio
 * at most 1.2).
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { MAIN, resolveCommit } from '../src/git/index.js'
import { syncIndex, type SyncResult } from '../src/sync/index.js'
import { createFollower, startSyntheticPeer } from '../test/sync/helpers.js'
import { table } from './_util.js'

const WHARF = fileURLToPath(new URL('../bin/wharf.js', import.meta.url))
const SIZES = (process.env.WHARF_BENCH_SYNC_SIZES ?? '1000,10000').split(',').map(Number)
const RUNS = 5
const run_ = promisify(execFile)

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

interface Measured {
  wallMs: number
  cpuMs: number
  result: SyncResult
}

/** `wharf sync --json` under GNU time. */
async function timedSync(index: string): Promise<Measured> {
  const { stdout, stderr } = await run_('/usr/bin/time', ['-f', 'TIME %e %U %S', process.execPath, WHARF, 'sync', '--index', index, '--json'], { maxBuffer: 64 * 1024 * 1024 })
  const [, e, u, s] = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stderr) ?? []
  if (!e) throw new Error(`bench: no timing from /usr/bin/time: ${stderr}`)
  return { wallMs: Number(e) * 1000, cpuMs: (Number(u) + Number(s)) * 1000, result: JSON.parse(stdout) as SyncResult }
}

interface Row {
  peer: string
  'first sync, s': string
  'first sync, KiB': string
  'wall ms': number
  'cpu ms': number
  requests: number
  bytes: number
  'no-op requests': number
  /** Body bytes of one more sync, by what was fetched. */
  split: string
  /** Entries on the peer's last feed page (pages hold 1000); a sync reads what the page grew by. */
  'feed tail': number
}

/** What a request to the peer was for. */
function kind(url: string): string {
  const p = new URL(url).pathname
  if (p.startsWith('/api/v1/feed/')) return 'feed'
  if (p.startsWith('/artifacts/')) return 'artifact'
  if (p.startsWith('/index/')) return 'record'
  if (p.includes('snapshot')) return 'snapshot'
  return 'other'
}

async function measure(versions: number, parent: string): Promise<Row> {
  const a = await startSyntheticPeer(versions, parent)
  try {
    const bDir = path.join(parent, 'b')
    const b = await createFollower(bDir, a.url)

    const first = await timedSync(bDir)
    if (first.result.added.length !== 1) throw new Error(`bench: the first sync added ${first.result.added.length} versions, not 1`)
    const wall: number[] = []
    const cpu: number[] = []
    const requests: number[] = []
    const bytes: number[] = []
    for (let i = 0; i < RUNS; i++) {
      await a.release()
      const before = await resolveCommit(b, MAIN)
      const m = await timedSync(bDir)
      const report = m.result.peers[0]!
      if (m.result.added.length !== 1 || (await resolveCommit(b, MAIN)) === before) throw new Error(`bench: a sync imported ${m.result.added.length} versions, not 1`)
      wall.push(m.wallMs)
      cpu.push(m.cpuMs)
      requests.push(report.requests)
      bytes.push(report.bytes)
    }
    const noop = await timedSync(bDir)
    // One more, in process, with the bytes of each response split by kind.
    await a.release()
    const byKind = new Map<string, number>()
    const counting = async (url: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(url, init)
      const k = kind(String(url))
      byKind.set(k, (byKind.get(k) ?? 0) + (await res.clone().arrayBuffer()).byteLength)
      return res
    }
    const last = await syncIndex({ repo: b, fetch: counting as typeof fetch })
    if (last.added.length !== 1) throw new Error(`bench: the split sync imported ${last.added.length} versions, not 1`)
    return {
      peer: `${(versions + 1 + RUNS).toLocaleString('en')} versions`,
      'first sync, s': (first.wallMs / 1000).toFixed(2),
      'first sync, KiB': (first.result.peers[0]!.bytes / 1024).toFixed(0),
      'wall ms': median(wall),
      'cpu ms': median(cpu),
      requests: median(requests),
      bytes: median(bytes),
      'no-op requests': noop.result.peers[0]!.requests,
      split: [...byKind].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)}K`).join(', '),
      'feed tail': last.peers[0]!.to % 1000,
    }
  } finally {
    await a.stop()
  }
}

/** `wharf --version` under GNU time: the start-up every process pays, median of RUNS. */
async function startup(): Promise<{ wallMs: number; cpuMs: number }> {
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const { stderr } = await run_('/usr/bin/time', ['-f', 'TIME %e %U %S', process.execPath, WHARF, '--version'])
    const [, e, u, s] = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stderr) ?? []
    wall.push(Number(e) * 1000)
    cpu.push((Number(u) + Number(s)) * 1000)
  }
  return { wallMs: median(wall), cpuMs: median(cpu) }
}

export async function run(): Promise<void> {
  const rows: Row[] = []
  for (const versions of SIZES) {
    const parent = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-sync-'))
    try {
      rows.push(await measure(versions, parent))
    } finally {
      await fs.promises.rm(parent, { recursive: true, force: true })
    }
  }
  const start = await startup()
  console.log(`wharf sync as a process under GNU time, 1 new version per sync, median of ${RUNS}; start-up (wharf --version) ${start.wallMs.toFixed(0)} ms wall, ${start.cpuMs.toFixed(0)} ms cpu; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`)
  table(
    rows.map((r) => ({
      ...r,
      'wall ms': r['wall ms'].toFixed(0),
      'cpu ms': r['cpu ms'].toFixed(0),
      'cpu minus start-up': (r['cpu ms'] - start.cpuMs).toFixed(0),
    })),
  )
  const [small, large] = [rows[0]!, rows[rows.length - 1]!]
  if (rows.length > 1) {
    const ratio = (k: 'wall ms' | 'cpu ms' | 'requests' | 'bytes') => (large[k] / small[k]).toFixed(2)
    const beyond = ((large['cpu ms'] - start.cpuMs) / Math.max(1, small['cpu ms'] - start.cpuMs)).toFixed(2)
    console.log(`${large.peer} vs ${small.peer} (target at most 1.2): wall ${ratio('wall ms')}x, cpu ${ratio('cpu ms')}x (${beyond}x beyond start-up), requests ${ratio('requests')}x, bytes ${ratio('bytes')}x`)
  }
}

// `tsx bench/sync.ts` runs it alone; bench/index.ts imports it.
if (import.meta.url === `file://${process.argv[1]}`) await run()
