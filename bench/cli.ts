/**
 * Start-up cost of the `wharf` command line as a user pays it: whole
 * processes of `wharf --version`, `wharf --help` and a one-file `wharf check`
 * on a small index, next to `node -e 0` in the same run. CPU time (user +
 * sys of the child, from bash's `time`, to the millisecond) and wall time,
 * medians of RUNS runs each, and each one's ratio to `node -e 0`. For
 * scale, the same commands run from the sources through tsx (how wharf
 * started before the bundle, and how it starts without one).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from '../scripts/build.mjs'
import { table } from './_util.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 21)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const WHARF = path.join(ROOT, 'bin', 'wharf.js')
const COMPONENT = Buffer.from('0061736d0d000100', 'hex')

interface Sample {
  cpuMs: number
  wallMs: number
}

/** One run of `argv` under bash's `time`, which reports the child's rusage to the millisecond. */
function measure(argv: string[], cwd: string, expectCode = 0): Sample {
  const script = `TIMEFORMAT='%3R %3U %3S'; { time "$@" >/dev/null 2>/tmp/wharf-bench-cli-$$.err ; code=$? ; } 2>&1; echo "$code"; rm -f /tmp/wharf-bench-cli-$$.err`
  const out = execFileSync('bash', ['-c', script, 'bash', ...argv], { cwd, encoding: 'utf8' }).trim().split(/\s+/)
  const [real, user, sys, code] = out.map(Number) as [number, number, number, number]
  if (code !== expectCode) throw new Error(`${argv.join(' ')} exited ${code}, not ${expectCode}`)
  return { cpuMs: (user + sys) * 1000, wallMs: real * 1000 }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** An index with namespace acme claimed and merged, and a proposal branch adding one record: a one-file submission. */
function smallIndex(): { dir: string; branch: string } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-bench-cli-'))
  const dir = path.join(work, 'index')
  const wharf = (...args: string[]) => execFileSync(process.execPath, [WHARF, ...args], { cwd: work, encoding: 'utf8' })
  wharf('init', dir)
  wharf('keygen', '--out', path.join(work, 'alice.key'))
  wharf('namespace', 'add', 'acme', '--owner', 'alice', '--key', path.join(work, 'alice.key.pub'), '--index', dir)
  wharf('merge', '--branch', 'namespace/acme', '--index', dir, '--author', 'alice')
  for (let i = 0; i < 5; i++) {
    const artifact = path.join(work, `calc-${i}.wasm`)
    fs.writeFileSync(artifact, Buffer.concat([COMPONENT, Buffer.from([0, 2, 1, i])]))
    const version = `1.0.${i}`
    const proposal = JSON.parse(wharf('publish', artifact, '--name', 'acme:calc', '--version', version, '--key', path.join(work, 'alice.key'), '--author', 'alice', '--index', dir, '--json')) as { branch: string }
    // The last one stays a proposal: the submission `check` looks at.
    if (i === 4) return { dir, branch: proposal.branch }
    wharf('merge', '--branch', proposal.branch, '--index', dir, '--author', 'alice')
  }
  throw new Error('unreachable')
}

export async function run(): Promise<void> {
  // What a user runs after `npm ci`: the bundle, freshly built from these sources.
  await build()
  const { dir, branch } = smallIndex()
  // The bin as it was before the bundle: tsx compiles the sources at every start.
  const fromSource = path.join(path.dirname(dir), 'from-source.mjs')
  fs.writeFileSync(
    fromSource,
    `import { register } from ${JSON.stringify(path.join(ROOT, 'node_modules/tsx/dist/esm/api/index.mjs'))}\nregister()\nconst { main } = await import(${JSON.stringify(path.join(ROOT, 'src/cli/main.ts'))})\nprocess.exitCode = await main(process.argv.slice(2))\n`,
  )
  const check = ['check', '--index', dir, '--base', 'main', '--head', branch, '--author', 'alice']
  const cases: { name: string; argv: string[] }[] = [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { name: 'wharf --version', argv: [process.execPath, WHARF, '--version'] },
    { name: 'wharf --help', argv: [process.execPath, WHARF, '--help'] },
    { name: 'wharf check --help', argv: [process.execPath, WHARF, 'check', '--help'] },
    { name: 'wharf check (one file)', argv: [process.execPath, WHARF, ...check] },
    { name: 'wharf --help, sources via tsx', argv: [process.execPath, fromSource, '--help'] },
    { name: 'wharf check (one file), sources via tsx', argv: [process.execPath, fromSource, ...check] },
  ]
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]))
  for (const c of cases) measure(c.argv, dir)
  // Interleaved, so a burst of load on a shared machine falls on every case alike.
  for (let i = 0; i < RUNS; i++) for (const c of cases) samples.get(c.name)!.push(measure(c.argv, dir))
  const base = samples.get('node -e 0')!
  const baseCpu = median(base.map((s) => s.cpuMs))
  const baseWall = median(base.map((s) => s.wallMs))
  table(
    cases.map((c) => {
      const s = samples.get(c.name)!
      const cpu = median(s.map((x) => x.cpuMs))
      const wall = median(s.map((x) => x.wallMs))
      return {
        command: c.name,
        'cpu ms (median)': cpu.toFixed(0),
        'wall ms (median)': wall.toFixed(0),
        'cpu / node -e 0': (cpu / baseCpu).toFixed(2),
        'wall / node -e 0': (wall / baseWall).toFixed(2),
      }
    }),
  )
  console.log(`${RUNS} runs each, interleaved; targets: --help and --version within 2x of node -e 0's CPU, one-file check under 500 ms wall`)
  fs.rmSync(path.dirname(dir), { recursive: true, force: true })
}
