/**
 * `wharf install` of a package with 20 dependencies (10 direct, each with one
 * of its own) from build-api output behind nginx on loopback: cold (empty
 * cache and directory), warm without a lockfile (shared cache, new project),
 * warm and locked (the artifacts already in place, and in a new project from
 * the cache), with the requests nginx logged for each, by kind. The library
 * call is timed on its own, and the whole `wharf install` process next to
 * `wharf --version`, which is what starting the CLI costs before any work.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { buildApi } from '../src/api/index.js'
import { install } from '../src/client/index.js'
import { createTestIndex } from '../test/helpers/index-repo.js'
import { startNginx } from '../test/fixtures/api/nginx.js'
import { component } from '../test/helpers/wasm.js'
import { table } from './_util.js'

const WHARF = fileURLToPath(new URL('../bin/wharf.js', import.meta.url))
const DIRECT = 10
const RUNS = Number(process.env.WHARF_BENCH_INSTALL_RUNS ?? 5)
const ARTIFACT_BYTES = 64 * 1024
const run_ = promisify(execFile)

/** What a request line asks for. */
function kind(line: string): string {
  const target = line.split(' ')[1] ?? ''
  if (target === '/snapshot.json') return 'snapshot.json'
  if (target.startsWith('/snapshot/')) return 'snapshot parts and leaves'
  if (target === '/config.json') return 'config.json (first use)'
  if (target.startsWith('/index/namespaces/')) return 'namespace files'
  if (target.startsWith('/index/packages/')) return 'records'
  if (target.endsWith('/versions')) return 'version lists'
  if (target.startsWith('/artifacts/')) return 'artifacts'
  return target
}

function countByKind(lines: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const line of lines) counts[kind(line)] = (counts[kind(line)] ?? 0) + 1
  return counts
}

/** A component grown to `size` bytes by a custom section, so downloads move real bytes. */
function padded(bytes: Buffer, size: number): Buffer {
  const name = Buffer.from('pad')
  const body = Buffer.concat([Buffer.from([name.length]), name, Buffer.alloc(Math.max(0, size - bytes.length - 8), 0x2a)])
  const leb: number[] = []
  let n = body.length
  do {
    leb.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0))
    n >>>= 7
  } while (n > 0)
  return Buffer.concat([bytes, Buffer.from([0x00, ...leb]), body])
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export async function run(): Promise<void> {
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-install-'))
  const idx = await createTestIndex()
  // 10 direct dependencies, each with one dependency of its own: 20 in all, 21 packages.
  const pad = (label: string) => padded(component(label), ARTIFACT_BYTES)
  for (let i = 0; i < DIRECT; i++) {
    await idx.release({ name: `acme:leaf-${i}`, version: '1.0.0', bytes: pad(`leaf-${i}`) })
    await idx.release({ name: `acme:mid-${i}`, version: '1.0.0', bytes: pad(`mid-${i}`), dependencies: [{ name: `acme:leaf-${i}`, req: '^1', optional: false }] })
  }
  const deps = Array.from({ length: DIRECT }, (_, i) => ({ name: `acme:mid-${i}`, req: '^1', optional: false }))
  await idx.release({ name: 'acme:app', version: '1.0.0', bytes: pad('app'), dependencies: deps })
  const out = path.join(work, 'public')
  await buildApi({ repo: idx.repo, out })
  const nginx = await startNginx(await fs.promises.realpath(out))
  let dirCount = 0
  const project = () => {
    const cwd = path.join(work, `project-${++dirCount}`)
    fs.mkdirSync(cwd)
    return cwd
  }
  const cacheDir = () => path.join(work, `cache-${++dirCount}`)
  const lib = async (cwd: string, cache: string, requests: string[]) => {
    const before = nginx.requests().length
    const start = performance.now()
    const cpuStart = process.cpuUsage()
    const result = await install({ registry: nginx.url, requests, dir: path.join(cwd, 'wasm_components'), lockfile: path.join(cwd, 'wharf.lock'), cacheDir: cache })
    const ms = performance.now() - start
    const cpu = process.cpuUsage(cpuStart)
    if (result.packages.length !== 2 * DIRECT + 1) throw new Error(`bench: installed ${result.packages.length} packages`)
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, lines: nginx.requests().slice(before) }
  }

  try {
    const rows: Record<string, string | number>[] = []
    const scenario = async (name: string, prepare: () => Promise<{ cwd: string; cache: string; requests: string[] }>) => {
      const times: number[] = []
      const cpu: number[] = []
      let lines: string[] = []
      for (let i = 0; i < RUNS; i++) {
        const { cwd, cache, requests } = await prepare()
        const measured = await lib(cwd, cache, requests)
        times.push(measured.ms)
        cpu.push(measured.cpuMs)
        lines = measured.lines
      }
      const counts = countByKind(lines)
      rows.push({ install: name, 'wall ms': median(times).toFixed(1), 'cpu ms': median(cpu).toFixed(1), requests: lines.length, ...counts })
    }

    await scenario('cold', async () => ({ cwd: project(), cache: cacheDir(), requests: ['acme:app'] }))
    const sharedCache = cacheDir()
    const locked = project()
    await lib(locked, sharedCache, ['acme:app'])
    await scenario('warm cache, new project, no lock', async () => ({ cwd: project(), cache: sharedCache, requests: ['acme:app'] }))
    await scenario('warm, locked, files in place', async () => ({ cwd: locked, cache: sharedCache, requests: [] }))
    await scenario('warm, locked, new project', async () => {
      const cwd = project()
      fs.copyFileSync(path.join(locked, 'wharf.lock'), path.join(cwd, 'wharf.lock'))
      return { cwd, cache: sharedCache, requests: [] }
    })
    console.log(`library call (in-process), median of ${RUNS}; ${2 * DIRECT + 1} packages of ${ARTIFACT_BYTES / 1024} KiB; requests as nginx logged them; load ${os.loadavg()[0]!.toFixed(1)}`)
    table(rows)

    // Whole processes, as a user runs them, under GNU time: wall time, and CPU time, which other load on a shared machine disturbs less.
    interface ProcessRow {
      process: string
      'wall ms': number
      'cpu ms': number
    }
    const processRows: ProcessRow[] = []
    const timeProcess = async (label: string, args: string[], setup: () => { cwd: string; env: NodeJS.ProcessEnv }): Promise<ProcessRow> => {
      const wall: number[] = []
      const cpu: number[] = []
      for (let i = 0; i < RUNS; i++) {
        const { cwd, env } = setup()
        const { stderr } = await run_('/usr/bin/time', ['-f', 'TIME %e %U %S', process.execPath, WHARF, ...args], { cwd, env: { ...process.env, ...env } })
        const [, e, u, s] = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stderr) ?? []
        wall.push(Number(e) * 1000)
        cpu.push((Number(u) + Number(s)) * 1000)
      }
      const row = { process: label, 'wall ms': median(wall), 'cpu ms': median(cpu) }
      processRows.push(row)
      return row
    }
    const startup = await timeProcess('wharf --version (start-up only)', ['--version'], () => ({ cwd: work, env: {} }))
    const cold = await timeProcess('wharf install acme:app (cold)', ['install', 'acme:app', '--registry', nginx.url], () => ({ cwd: project(), env: { XDG_CACHE_HOME: cacheDir() } }))
    const home = { XDG_CACHE_HOME: cacheDir() }
    const cliProject = project()
    await run_(process.execPath, [WHARF, 'install', 'acme:app', '--registry', nginx.url], { cwd: cliProject, env: { ...process.env, ...home } })
    const warm = await timeProcess('wharf install (warm, locked)', ['install', '--registry', nginx.url], () => ({ cwd: cliProject, env: home }))
    table(
      processRows.map((r) => ({
        process: r.process,
        'wall ms': r['wall ms'].toFixed(0),
        'cpu ms': r['cpu ms'].toFixed(0),
        'wall minus start-up': (r['wall ms'] - startup['wall ms']).toFixed(0),
        'cpu minus start-up': (r['cpu ms'] - startup['cpu ms']).toFixed(0),
      })),
    )
    console.log(
      `process / start-up, cpu: cold ${(cold['cpu ms'] / startup['cpu ms']).toFixed(2)}x, warm locked ${(warm['cpu ms'] / startup['cpu ms']).toFixed(2)}x; median of ${RUNS}; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`,
    )
  } finally {
    await nginx.stop()
    await fs.promises.rm(work, { recursive: true, force: true })
  }
}
