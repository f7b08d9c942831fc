/**
 * `wharf build-api` and `wharf check` as a registry grows: synthetic indexes
 * of 20,000, 200,000 and 1,000,000 versions (one commit per version, as
 * merges land; test/fixtures/api/synthetic.ts), and at each size
 *
 * - the full build as a user runs it, a whole `wharf build-api` process
 *   under GNU time: wall time, microseconds per version, CPU time (all
 *   threads) and peak RSS;
 * - the incremental build after one more version, in process (median of
 *   fifteen), once for a new version of a package that exists and once for
 *   a new package (which also rewrites the package list and its namespace):
 *   wall time, and the CPU time the process spent in it (what the build
 *   itself did, free of waiting on the disk's flushes), and how many files
 *   each changed (a count the machine's noise does not move);
 * - `wharf check` of a one-file submission (a signed record of a new
 *   version), in process (median of fifteen);
 *
 * and the ratios to the smallest size. The full builds run first, one size
 * after another, and their outputs are kept; the incremental builds and
 * checks then run in rounds, each round one process that measures every
 * size build by build in turn (after three runs of each to warm it up, not
 * counted), so that what the ratios compare was measured side by side, not
 * seconds apart. On a shared two-core machine one build's time moves by a
 * factor of two from one second to the next (the host's load, and the
 * JIT's and the collector's threads on the same two cores); a process per
 * size measured those swings as much as the sizes. Each build opens its index afresh, so one
 * size's build leaves nothing the next one reads. The builds are of the API alone
 * (`--no-site`): bench/site.ts measures what the site adds. A whole `wharf build-api --since` and
 * `wharf check` process are timed once too: start-up is most of them.
 *
 * `npm run bench -- api` runs all three sizes (1,000,000 takes a while);
 * `npm run bench` runs the first two; WHARF_BENCH_API_SIZES=a,b,c picks
 * others. Indexes and outputs go to temp dirs removed at the end.
 * With WHARF_BENCH_API_KEEP=1 the generated indexes are kept in
 * `.bench/api/<versions>/` and used again by the next run (main set back to
 * the generated tip), so a second run at a million versions does not wait
 * for the generator; `.bench/api` may be a link to a tmpfs, where the
 * builds read them faster.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildApi } from '../src/api/index.js'
import { runCheck } from '../src/check/index.js'
import { deleteBranch, listBranches, MAIN, openRepo, resolveCommit, setBranch, type Repo } from '../src/git/index.js'
import { publishToIndex } from '../src/publish/index.js'
import { appendSynthetic, createSyntheticIndex, SYNTHETIC_OWNER, syntheticPrivatePem, syntheticSlot } from '../test/fixtures/api/synthetic.js'
import { memoryNote, scratchNote, table } from './_util.js'

const WHARF = fileURLToPath(new URL('../bin/wharf.js', import.meta.url))
const KEPT = fileURLToPath(new URL('../.bench/api/', import.meta.url))
const ALL_SIZES = [20_000, 200_000, 1_000_000]
const ROUTINE_SIZES = [20_000, 200_000]
/** Rounds of measurement: each one process that measures every size RUNS_PER_ROUND times, build by build in turn. */
const ROUNDS = 3
const RUNS_PER_ROUND = 5
/** Incremental builds of each size a probe process runs before it measures. */
const WARM_UPS = 3
const NOW = new Date('2026-06-01T00:00:00Z')
// A component header: check reads the artifact from the local store and finds a component.
const COMPONENT = Buffer.from('0061736d0d000100', 'hex')

function load(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' ')
}

interface Timed {
  wallS: number
  cpuS: number
  rssMb: number
  stdout: string
}

/** A whole process under GNU time. */
function timedProcess(args: string[], cwd: string): Timed {
  const report = path.join(os.tmpdir(), `wharf-bench-time-${process.pid}`)
  const out = spawnSync('/usr/bin/time', ['-o', report, '-f', '%e %U %S %M', process.execPath, WHARF, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (out.status !== 0) throw new Error(`wharf ${args.join(' ')} exited ${out.status}: ${out.stderr}`)
  const [wall, user, sys, rss] = fs.readFileSync(report, 'utf8').trim().split(/\s+/).slice(-4).map(Number)
  fs.rmSync(report, { force: true })
  return { wallS: wall!, cpuS: user! + sys!, rssMb: rss! / 1024, stdout: out.stdout }
}

/** An incremental build's time in ms, wall and CPU (this process, all threads: what the build itself did, free of the disk's wait). */
interface Run {
  ms: number
  cpuMs: number
}

/** One incremental build after appending version `i` (not timed): its in-process times, and how many files it changed. */
async function incrementalOnce(dir: string, out: string, i: number): Promise<Run & { written: number }> {
  const since = await resolveCommit(openRepo(dir), MAIN)
  await appendSynthetic(dir, i, i + 1)
  const started = performance.now()
  const cpu = process.cpuUsage()
  const result = await buildApi({ repo: openRepo(dir), out, since, now: NOW })
  const ms = performance.now() - started
  const used = process.cpuUsage(cpu)
  if (result.mode !== 'incremental') throw new Error(`bench: expected an incremental build, got a full one (${result.reason})`)
  return { ms, cpuMs: (used.user + used.system) / 1000, written: result.written }
}

const median = (times: number[]): number => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!

/** What a probe process measures, every size in turn: incremental builds after appending versions, or checks of a proposal. */
type Probe =
  | { kind: 'incremental'; sizes: { dir: string; out: string; warmUp: number[]; fresh: number[]; existing: number[] }[] }
  | { kind: 'check'; sizes: { dir: string; head: string }[]; runs: number }

interface IncrementalResult {
  fresh: Run[]
  existing: Run[]
  written: { fresh: number; existing: number }
}
/** By size, as the probe listed them: its incremental builds, or its checks' times in ms. */
type ProbeResult = IncrementalResult[] | number[][]

/** Measures `probe` in this process, each size's build (or check) after the other's, after runs to warm it up (the first builds of a process compile the code they run). */
async function runProbe(probe: Probe): Promise<ProbeResult> {
  if (probe.kind === 'incremental') {
    const { sizes } = probe
    const results = sizes.map((): IncrementalResult => ({ fresh: [], existing: [], written: { fresh: 0, existing: 0 } }))
    for (let j = 0; j < sizes[0]!.warmUp.length; j++) for (const size of sizes) await incrementalOnce(size.dir, size.out, size.warmUp[j]!)
    for (const kind of ['fresh', 'existing'] as const) {
      for (let j = 0; j < sizes[0]![kind].length; j++) {
        for (const [n, size] of sizes.entries()) {
          const { written, ...run } = await incrementalOnce(size.dir, size.out, size[kind][j]!)
          results[n]![kind].push(run)
          results[n]!.written[kind] = written
        }
      }
    }
    return results
  }
  const checks = probe.sizes.map((): number[] => [])
  for (let k = 0; k <= probe.runs; k++) {
    for (const [n, size] of probe.sizes.entries()) {
      const started = performance.now()
      const result = await runCheck({ repo: openRepo(size.dir), base: MAIN, head: size.head, author: { login: SYNTHETIC_OWNER } })
      if (k > 0) checks[n]!.push(performance.now() - started)
      if (!result.accepted) throw new Error(`bench submission refused: ${JSON.stringify(result.findings)}`)
    }
  }
  return checks
}

/** `probe` in a process of its own (this file, run with `--probe`). */
function probeProcess<T extends ProbeResult>(probe: Probe): T {
  const out = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--probe', JSON.stringify(probe)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  if (out.status !== 0) throw new Error(`bench probe (${probe.kind}) exited ${out.status}: ${out.stderr}`)
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as T
}

/** A size under measurement: its index, its built output, and what was measured of it. */
interface Measured {
  versions: number
  parent: string
  dir: string
  repo: Repo
  out: string
  generateS: number | undefined
  full: Timed
  files: number
  /** Version numbers for new packages (syntheticSlot: versions i with i % 100 < 10 start one); +10 are second versions of them. */
  first: number
  fresh: Run[]
  existing: Run[]
  /** Files the last incremental build of each kind changed: what it costs, free of the machine's noise. */
  written: { fresh: number; existing: number }
  check: number[]
  incrementalProcess?: Timed
  checkProcess?: Timed
}

/**
 * A synthetic index of `versions`: a kept one with main set back to its
 * generated tip and the proposal branches of the run before removed, else a
 * new one in `parent` (kept when WHARF_BENCH_API_KEEP is set). `generateS`
 * is undefined for a kept one.
 */
async function syntheticIndex(versions: number, parent: string): Promise<{ dir: string; repo: Repo; generateS: number | undefined }> {
  const kept = path.join(KEPT, String(versions))
  if (fs.existsSync(path.join(kept, 'head'))) {
    const repo = openRepo(path.join(kept, 'index'))
    await setBranch(repo, MAIN, (await fs.promises.readFile(path.join(kept, 'head'), 'utf8')).trim())
    for (const branch of await listBranches(repo)) if (branch !== MAIN) await deleteBranch(repo, branch)
    return { dir: repo.dir, repo, generateS: undefined }
  }
  const keep = Boolean(process.env.WHARF_BENCH_API_KEEP)
  if (keep) {
    await fs.promises.rm(kept, { recursive: true, force: true })
    await fs.promises.mkdir(kept, { recursive: true })
  }
  const started = performance.now()
  // A kept index is made where it is kept, since a rename cannot cross file systems (`.bench/api` may link to a tmpfs).
  const index = await createSyntheticIndex(versions, keep ? kept : parent)
  const generateS = (performance.now() - started) / 1000
  if (!keep) return { dir: index.dir, repo: index.repo, generateS }
  await fs.promises.rename(index.dir, path.join(kept, 'index'))
  await fs.promises.writeFile(path.join(kept, 'head'), `${index.head}\n`)
  const repo = openRepo(path.join(kept, 'index'))
  return { dir: repo.dir, repo, generateS }
}

export async function run(): Promise<void> {
  const env = process.env.WHARF_BENCH_API_SIZES
  const sizes = env ? env.split(',').map(Number) : process.argv.includes('api') ? ALL_SIZES : ROUTINE_SIZES
  if (!env && sizes === ROUTINE_SIZES) console.log('(`npm run bench` builds 20,000 and 200,000 versions; `npm run bench -- api` adds 1,000,000; WHARF_BENCH_API_SIZES=a,b,c picks sizes)')
  console.log(`${os.availableParallelism()} cores; load average at start: ${load()}; ${scratchNote(os.tmpdir())}${memoryNote()}`)
  const measured: Measured[] = []
  const parents: string[] = []
  try {
    // The full builds, one size after another, each output kept for what follows.
    for (const versions of sizes) {
      const parent = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-api-'))
      parents.push(parent)
      const index = await syntheticIndex(versions, parent)
      const out = path.join(parent, 'public')
      // The API alone: the site's share of a build is bench/site.ts's.
      const full = timedProcess(['build-api', '--index', index.dir, '--out', out, '--json', '--no-site'], parent)
      // The full build leaves gigabytes to write back; the builds timed next would wait behind them.
      execFileSync('sync')
      const first = Math.ceil(versions / 100) * 100
      if (syntheticSlot(first).version !== '1.0.0' || syntheticSlot(first + 10).name !== syntheticSlot(first).name) throw new Error('bench: the synthetic slots moved; fix the versions chosen')
      const files = (JSON.parse(full.stdout) as { written: number }).written
      measured.push({ versions, parent, dir: index.dir, repo: index.repo, out, generateS: index.generateS, full, files, first, fresh: [], existing: [], written: { fresh: 0, existing: 0 }, check: [] })
      console.log(`  ${versions.toLocaleString('en')} versions built in ${full.wallS.toFixed(1)} s; load average ${load()}`)
    }

    // What is compared across sizes is measured side by side, build by build in one process, so a noisy second or
    // a cold cache falls on all of them rather than on whichever size ran then. New packages take the versions of
    // the first ten slots of each hundred from `first` on (syntheticSlot), second versions of them the next ten, and
    // the runs that warm a process up new packages of hundreds further on.
    const freshSlot = (m: Measured, k: number) => m.first + 100 * Math.floor(k / 10) + (k % 10)
    for (let round = 0; round < ROUNDS; round++) {
      const results = probeProcess<IncrementalResult[]>({
        kind: 'incremental',
        sizes: measured.map((m) => {
          const slots = Array.from({ length: RUNS_PER_ROUND }, (_, j) => freshSlot(m, round * RUNS_PER_ROUND + j))
          const warmUp = Array.from({ length: WARM_UPS }, (_, j) => m.first + 100 * (10 + round) + j)
          return { dir: m.dir, out: m.out, warmUp, fresh: slots, existing: slots.map((i) => i + 10) }
        }),
      })
      results.forEach((result, n) => {
        const m = measured[n]!
        m.fresh.push(...result.fresh)
        m.existing.push(...result.existing)
        m.written = result.written
      })
    }
    for (const m of measured) {
      const since = await resolveCommit(m.repo, MAIN)
      await appendSynthetic(m.dir, m.first + 20, m.first + 21)
      m.incrementalProcess = timedProcess(['build-api', '--index', m.dir, '--out', m.out, '--since', since, '--no-site'], m.parent)
    }

    // One signed record of a new version of a package that exists, checked against each index.
    const slot = syntheticSlot(0)
    const proposals = await Promise.all(
      measured.map(async (m) => {
        const artifact = path.join(m.parent, 'calc.wasm')
        await fs.promises.writeFile(artifact, COMPONENT)
        return (await publishToIndex(m.repo, { artifact, name: slot.name, version: '9.0.0', privateKey: syntheticPrivatePem(slot.ns), author: SYNTHETIC_OWNER })).head
      }),
    )
    for (let round = 0; round < ROUNDS; round++) {
      const checks = probeProcess<number[][]>({ kind: 'check', sizes: measured.map((m, i) => ({ dir: m.dir, head: proposals[i]! })), runs: RUNS_PER_ROUND })
      checks.forEach((times, n) => measured[n]!.check.push(...times))
    }
    for (const [i, m] of measured.entries()) m.checkProcess = timedProcess(['check', '--index', m.dir, '--base', MAIN, '--head', proposals[i]!, '--author', SYNTHETIC_OWNER], m.parent)
  } finally {
    for (const parent of parents) await fs.promises.rm(parent, { recursive: true, force: true })
  }

  const base = measured[0]!
  const usOf = (m: Measured) => (m.full.wallS * 1e6) / m.versions
  const ratio = (a: number, b: number) => (a / b).toFixed(2)
  const wall = (run: Run) => run.ms
  const cpu = (run: Run) => run.cpuMs
  table(
    measured.map((m) => ({
      versions: m.versions.toLocaleString('en'),
      files: m.files,
      'generate s': m.generateS === undefined ? 'kept' : m.generateS.toFixed(0),
      'full build s': m.full.wallS.toFixed(1),
      'µs/version': usOf(m).toFixed(0),
      'x smallest': ratio(usOf(m), usOf(base)),
      'cpu s': m.full.cpuS.toFixed(0),
      'peak RSS MB': m.full.rssMb.toFixed(0),
      'incr. new version ms': median(m.existing.map(wall)).toFixed(0),
      'x ': ratio(median(m.existing.map(wall)), median(base.existing.map(wall))),
      'incr. new package ms': median(m.fresh.map(wall)).toFixed(0),
      'x  ': ratio(median(m.fresh.map(wall)), median(base.fresh.map(wall))),
      'incr. cpu ms: version / package': `${median(m.existing.map(cpu)).toFixed(0)} / ${median(m.fresh.map(cpu)).toFixed(0)}`,
      'x     ': `${ratio(median(m.existing.map(cpu)), median(base.existing.map(cpu)))} / ${ratio(median(m.fresh.map(cpu)), median(base.fresh.map(cpu)))}`,
      'incr. files written: version / package': `${m.written.existing} / ${m.written.fresh}`,
      'check ms': median(m.check).toFixed(0),
      'x   ': ratio(median(m.check), median(base.check)),
      'process: incr. / check s': `${m.incrementalProcess!.wallS.toFixed(2)} / ${m.checkProcess!.wallS.toFixed(2)}`,
      'x    ': `${ratio(m.incrementalProcess!.wallS, base.incrementalProcess!.wallS)} / ${ratio(m.checkProcess!.wallS, base.checkProcess!.wallS)}`,
    })),
  )
  console.log(`load average at end: ${load()}; git ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim()}, node ${process.version}`)
}

// `tsx bench/api.ts` runs it alone; bench/index.ts imports it; `--probe <json>` is a process the run measures in.
if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--probe') console.log(JSON.stringify(await runProbe(JSON.parse(process.argv[3]!) as Probe)))
  else await run()
}
