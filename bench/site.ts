/**
 * The site's share of `wharf build-api`: a synthetic index of 10,000
 * packages (100,000 versions, no compatibility reports), built as a user
 * builds it, one whole process at a time, without the site (`--no-site`)
 * and with it, side by side, in six rounds that take turns at which goes
 * first (WHARF_BENCH_SITE_ROUNDS sets how many): on a shared machine the
 * same build moves by half from one run to the next, so the verdict is on
 * the medians, with the fastest runs and every round's pair beside them;
 * then one new version, incrementally, both ways.
 * Also the bytes a reader's browser fetches for the home page before any
 * search data loads. Targets: the site adds under 25% to a full build (said
 * of wall time and of CPU time, with the machine's load: both builds share
 * its cores with whatever else runs); home under 100 KB.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { buildsDirOf } from '../src/api/output.js'
import { MAIN, resolveCommit } from '../src/git/index.js'
import { appendSynthetic, createSyntheticIndex } from '../test/fixtures/api/synthetic.js'
import { memoryNote, scratchNote, table } from './_util.js'

const PACKAGES = (process.env.WHARF_BENCH_SITE_PACKAGES ?? '10000').split(',').map(Number)
/** Even by default, so that neither order (API first, site first) runs more often than the other. */
const ROUNDS = Number(process.env.WHARF_BENCH_SITE_ROUNDS ?? 6)
const WHARF = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bin/wharf.js')
const TIME = '/usr/bin/time'

interface Run {
  wall: number
  cpu: number
  rssMb: number
  written: number
}

/** One `wharf build-api` as a whole process, timed by GNU time (wall, user + system CPU, peak RSS). */
function buildApi(index: string, out: string, site: boolean, since?: string): Run {
  const args = ['-f', '%e %U %S %M', process.execPath, WHARF, 'build-api', '--index', index, '--out', out, '--json', ...(site ? [] : ['--no-site']), ...(since ? ['--since', since] : [])]
  const result = spawnSync(TIME, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`bench: build-api failed: ${result.stderr}`)
  const [wall, user, sys, rss] = result.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number]
  const json = JSON.parse(result.stdout) as { written: number; mode: string; reason?: string }
  if (since && json.mode !== 'incremental') throw new Error(`bench: expected an incremental build (${json.reason})`)
  return { wall, cpu: user + sys, rssMb: rss / 1024, written: json.written }
}

/** The bytes of the files under `out` (the tree its symlink points at), as the disk must take them in. */
function megabytes(out: string): number {
  const du = spawnSync('du', ['-sbL', out], { encoding: 'utf8' })
  if (du.status !== 0) throw new Error(`bench: du ${out} failed: ${du.stderr}`)
  return Number(du.stdout.split('\t')[0]) / 1e6
}

/** The middle value; for an even count, the mean of the middle two. */
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const fastest = (runs: Run[], key: 'wall' | 'cpu') => Math.min(...runs.map((r) => r[key]))
const share = (site: number, api: number) => ((site - api) / api) * 100
const pct = (site: number, api: number) => `${share(site, api).toFixed(1)}%`
const load = () => `${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (${os.cpus().length} cores)`
/** The targets: the site adds under this much to a full build; home loads under this many KB before search data. */
const SHARE_TARGET = 25
const HOME_TARGET_KB = 100

export async function run(): Promise<void> {
  if (!fs.existsSync(TIME)) throw new Error(`bench: ${TIME} (GNU time) is needed; npm test installs it`)
  const rows: Record<string, string | number>[] = []
  const homes: Record<string, string | number>[] = []
  const verdicts: string[] = []
  const loadBefore = load()
  for (const packages of PACKAGES) {
    const parent = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-site-'))
    try {
      const index = await createSyntheticIndex(packages * 10, parent)
      const runs: { api: Run[]; site: Run[] } = { api: [], site: [] }
      for (let round = 0; round < ROUNDS; round++) {
        // Taking turns at going first, so a change in the machine's load weighs on both sides alike.
        const order = round % 2 === 0 ? [false, true] : [true, false]
        for (const withSite of order) {
          // Each round builds the same two outputs, the one before removed first, outside the timing: a round's
          // output of 10,000 packages is some 300,000 files, which on a tmpfs are inodes as well as memory.
          const out = path.join(parent, withSite ? 'site' : 'api')
          for (const old of [out, buildsDirOf(out)]) fs.rmSync(old, { recursive: true, force: true })
          runs[withSite ? 'site' : 'api'].push(buildApi(index.dir, out, withSite))
        }
      }
      const api = { wall: median(runs.api.map((r) => r.wall)), cpu: median(runs.api.map((r) => r.cpu)), rss: median(runs.api.map((r) => r.rssMb)) }
      const site = { wall: median(runs.site.map((r) => r.wall)), cpu: median(runs.site.map((r) => r.cpu)), rss: median(runs.site.map((r) => r.rssMb)) }
      // What the disk takes in: on a disk (not tmpfs) writing it back is much of a build's wall time.
      const bytes = { api: megabytes(path.join(parent, 'api')), site: megabytes(path.join(parent, 'site')) }
      // One more version, built incrementally on the outputs of the last round.
      const since = await resolveCommit(index.repo, MAIN)
      await appendSynthetic(index.dir, packages * 10, packages * 10 + 1)
      const incApi = buildApi(index.dir, path.join(parent, 'api'), false, since)
      const incSite = buildApi(index.dir, path.join(parent, 'site'), true, since)
      rows.push({
        index: `${packages.toLocaleString('en')} packages, ${(packages * 10).toLocaleString('en')} versions`,
        'files (API / with site)': `${runs.api[0]!.written} / ${runs.site[0]!.written}`,
        'MB written (API / with site)': `${bytes.api.toFixed(0)} / ${bytes.site.toFixed(0)}`,
        'full, API only, s': api.wall.toFixed(1),
        'full, with site, s': site.wall.toFixed(1),
        'site adds (wall)': pct(site.wall, api.wall),
        'site adds (CPU)': pct(site.cpu, api.cpu),
        // What each file of the site costs the build, all in: rendering, writing, hashing and listing it.
        'CPU per site file, µs': (((site.cpu - api.cpu) / (runs.site[0]!.written - runs.api[0]!.written)) * 1e6).toFixed(0),
        // The fastest build of each kind: what the machine's load added to a run, it added least to these.
        'site adds, fastest runs (wall / CPU)': `${pct(fastest(runs.site, 'wall'), fastest(runs.api, 'wall'))} / ${pct(fastest(runs.site, 'cpu'), fastest(runs.api, 'cpu'))}`,
        // The median of the rounds' own shares: each pair ran back to back, so a slower minute of the machine weighs on both
        // builds of a pair, where the medians above may take the API's from a fast round and the site's from a slow one.
        'site adds, median of rounds (wall / CPU)': `${median(runs.api.map((a, i) => share(runs.site[i]!.wall, a.wall))).toFixed(1)}% / ${median(runs.api.map((a, i) => share(runs.site[i]!.cpu, a.cpu))).toFixed(1)}%`,
        // Each round's pair, so the spread a loaded machine makes is in sight.
        'site adds by round (wall / CPU)': runs.api.map((a, i) => `${pct(runs.site[i]!.wall, a.wall)} / ${pct(runs.site[i]!.cpu, a.cpu)}`).join(', '),
        'peak RSS, MB (API / site)': `${api.rss.toFixed(0)} / ${site.rss.toFixed(0)}`,
        '+1 version, s (API / site)': `${incApi.wall.toFixed(2)} / ${incSite.wall.toFixed(2)}`,
        'files rewritten (API / site)': `${incApi.written} / ${incSite.written}`,
      })
      const out = path.join(parent, 'site')
      const size = (file: string) => fs.readFileSync(path.join(out, file))
      const home = ['index.html', 'assets/site.css', 'assets/search.js', 'assets/icon.svg'].map(size)
      const search = fs.readdirSync(path.join(out, 'api/v1/search-index')).map((f) => size(`api/v1/search-index/${f}`))
      const kib = (bufs: Buffer[], zip: boolean) => bufs.reduce((n, b) => n + (zip ? gzipSync(b).length : b.length), 0) / 1024
      const kb = (bufs: Buffer[], zip: boolean) => kib(bufs, zip).toFixed(1)
      const wallShare = share(site.wall, api.wall)
      const cpuShare = share(site.cpu, api.cpu)
      const meets = (ok: boolean) => (ok ? 'met' : 'NOT met')
      verdicts.push(
        `${packages.toLocaleString('en')} packages: the site adds ${wallShare.toFixed(1)}% to the full build time (wall, ${api.wall.toFixed(1)} s -> ${site.wall.toFixed(1)} s) and ${cpuShare.toFixed(1)}% to its CPU time (${api.cpu.toFixed(1)} s -> ${site.cpu.toFixed(1)} s); target under ${SHARE_TARGET}%: ${meets(wallShare < SHARE_TARGET)} (wall), ${meets(cpuShare < SHARE_TARGET)} (CPU)`,
        `${packages.toLocaleString('en')} packages: the home page is ${kb(home, false)} KB before search data loads (${kb(home, true)} KB gzip); target under ${HOME_TARGET_KB} KB: ${meets(kib(home, false) < HOME_TARGET_KB)}`,
      )
      homes.push({
        index: `${packages.toLocaleString('en')} packages`,
        'index.html, KB': kb([home[0]!], false),
        'home before search data (HTML+CSS+JS+icon), KB': kb(home, false),
        'same, gzip, KB': kb(home, true),
        'search data on first use, KB': kb(search, false),
        'search data, gzip, KB': kb(search, true),
        'a package page, KB': kb([size('packages/ns0:pkg0.html')], false),
      })
    } finally {
      await fs.promises.rm(parent, { recursive: true, force: true })
    }
  }
  console.log(`load average (1, 5, 15 min) at the start: ${loadBefore}, at the end: ${load()}; rounds: ${ROUNDS}; ${scratchNote(os.tmpdir())}${memoryNote()}`)
  table(rows)
  table(homes)
  for (const verdict of verdicts) console.log(verdict)
}

// `tsx bench/site.ts` runs it alone; bench/index.ts imports it.
if (import.meta.url === `file://${process.argv[1]}`) await run()
