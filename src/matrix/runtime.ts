/**
 * Runtimes that execute test binaries: the host for native, wasmtime when it
 * is on PATH, else Node's `node:wasi` for p1 modules and jco for p2
 * components. Each run is its own process with the step's time limit; wasm
 * guests see the crate directory as `.` and an empty environment, as
 * `wasmtime run --dir` gives them.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runStep, type StepOutput } from './process.js'
import type { RuntimeRef } from './types.js'

const RUNNERS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runners')

/** Path of a runner script shipped with wharf (`node-wasi.mjs`, `node-main.mjs`, `jco-hook.mjs`, `validate.mjs`). */
export function runnerScript(name: string): string {
  return path.join(RUNNERS, name)
}

/** What a wasm runner reports about the run besides its output. */
export interface WasmStats {
  exec_ms: number | null
  memory_pages: number | null
  gc_enabled: boolean
  trap: string | null
}

export interface ExecResult extends StepOutput {
  stats: WasmStats | null
}

export interface Exec {
  runtime: RuntimeRef
  /** Starts `file` once with libtest `args`. */
  run(file: string, args: string[], options: { timeoutMs: number; measureRss?: boolean }): Promise<ExecResult>
  /** True when the engine ran with the GC proposal enabled. */
  gcEnabled: boolean
}

let nodeFlags: { flags: string[]; gc: boolean } | undefined
/** Node's flags for wasm runs: the GC proposal switched on where this Node needs a flag for it (V8 before 11.9). */
export function nodeWasmFlags(): { flags: string[]; gc: boolean } {
  if (!nodeFlags) {
    const probe = 'process.exit(WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,3,1,95,0]))?0:3)'
    const withFlag = spawnSync(process.execPath, ['--no-warnings', '--experimental-wasm-gc', '-e', probe])
    if (withFlag.status === 0) nodeFlags = { flags: ['--no-warnings', '--experimental-wasm-gc'], gc: true }
    else {
      const plain = spawnSync(process.execPath, ['--no-warnings', '-e', probe])
      nodeFlags = { flags: ['--no-warnings'], gc: plain.status === 0 }
    }
  }
  return nodeFlags
}

/** wasmtime on PATH, with its version, or null. */
export function findWasmtime(env: NodeJS.ProcessEnv = process.env): { path: string; version: string; major: number } | null {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir) continue
    const file = path.join(dir, 'wasmtime')
    if (!fs.existsSync(file)) continue
    const out = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 })
    if (out.status !== 0) continue
    const version = out.stdout.trim()
    return { path: file, version, major: Number(/(\d+)\.\d+/.exec(version)?.[1] ?? 0) }
  }
  return null
}

/** jco's CLI entry point and version, from the dependency wharf ships with. */
export function jcoInfo(): { bin: string; version: string } {
  const require = createRequire(import.meta.url)
  const api = require.resolve('@bytecodealliance/jco')
  const dir = path.dirname(path.dirname(api))
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> }
  return { bin: path.join(dir, pkg.bin.jco ?? 'dist/jco.js'), version: pkg.version }
}

async function withStats(statsDir: string, go: (statsFile: string) => Promise<StepOutput>): Promise<ExecResult> {
  const statsFile = path.join(statsDir, `stats-${process.pid}-${Math.random().toString(36).slice(2)}.json`)
  const output = await go(statsFile)
  let stats: WasmStats | null = null
  try {
    stats = JSON.parse(await fs.promises.readFile(statsFile, 'utf8')) as WasmStats
    await fs.promises.rm(statsFile, { force: true })
  } catch {
    // The runner died before writing (killed on timeout): no stats.
  }
  return { ...output, stats }
}

/** The host runs native test binaries directly, as `cargo test` does: in the package directory, with cargo's variables set. */
export function nativeExec(cwd: string, env: NodeJS.ProcessEnv, hostTriple: string): Exec {
  return {
    runtime: { name: 'native', version: hostTriple, command: '' },
    gcEnabled: false,
    async run(file, args, options) {
      const output = await runStep(file, args, { cwd, env, timeoutMs: options.timeoutMs, measureRss: options.measureRss })
      return { ...output, stats: null }
    },
  }
}

/** node:wasi for wasm32-wasip1 modules. */
export function nodeWasiExec(preopen: string, statsDir: string, env: NodeJS.ProcessEnv): Exec {
  const { flags, gc } = nodeWasmFlags()
  const script = runnerScript('node-wasi.mjs')
  return {
    runtime: { name: 'node-wasi', version: process.version, command: `node ${flags.join(' ')} ${script}` },
    gcEnabled: gc,
    run(file, args, options) {
      return withStats(statsDir, (statsFile) =>
        runStep(process.execPath, [...flags, script, file, ...args], {
          cwd: preopen,
          env: { ...env, WHARF_WASM_PREOPEN: preopen, WHARF_WASM_STATS: statsFile },
          timeoutMs: options.timeoutMs,
        }),
      )
    },
  }
}

/** A wasm32-unknown-unknown test binary that needs no host: its `main` export, called once. */
export function nodeMainExec(cwd: string, statsDir: string, env: NodeJS.ProcessEnv): Exec {
  const { flags, gc } = nodeWasmFlags()
  const script = runnerScript('node-main.mjs')
  return {
    runtime: { name: 'node', version: process.version, command: `node ${flags.join(' ')} ${script}` },
    gcEnabled: gc,
    run(file, _args, options) {
      return withStats(statsDir, (statsFile) =>
        runStep(process.execPath, [...flags, script, file], { cwd, env: { ...env, WHARF_WASM_STATS: statsFile }, timeoutMs: options.timeoutMs }),
      )
    },
  }
}

/** wasmtime for p1 modules and p2 components alike. GC is on by default from wasmtime 47. */
export function wasmtimeExec(wasmtime: { path: string; version: string; major: number }, preopen: string, env: NodeJS.ProcessEnv): Exec {
  return {
    runtime: { name: 'wasmtime', version: wasmtime.version, command: `${wasmtime.path} run --dir ${preopen}::.` },
    gcEnabled: wasmtime.major >= 47,
    async run(file, args, options) {
      const output = await runStep(wasmtime.path, ['run', '--dir', `${preopen}::.`, file, ...args], { cwd: preopen, env, timeoutMs: options.timeoutMs })
      return { ...output, stats: null }
    },
  }
}

/** `jco run` for p2 components, with a hook that gives the guest the same world as the others and reports its memory. */
export function jcoExec(preopen: string, workDir: string, env: NodeJS.ProcessEnv): Exec {
  const { flags, gc } = nodeWasmFlags()
  const jco = jcoInfo()
  return {
    runtime: { name: 'jco', version: jco.version, command: `node ${jco.bin} run` },
    gcEnabled: gc,
    run(file, args, options) {
      return withStats(workDir, async (statsFile) => {
        // The hook must sit in jco's output directory to resolve the same preview2 shim the component links against.
        const outDir = await fs.promises.mkdtemp(path.join(workDir, 'jco-'))
        const hook = path.join(outDir, 'wharf-hook.mjs')
        await fs.promises.copyFile(runnerScript('jco-hook.mjs'), hook)
        try {
          // jco's own options end at `--`; what follows goes to the guest.
          return await runStep(process.execPath, [jco.bin, 'run', '--jco-dir', outDir, '--jco-import', hook, file, '--', ...args], {
            cwd: preopen,
            env: { ...env, JCO_RUN_ARGS: flags.join(' '), WHARF_WASM_PREOPEN: preopen, WHARF_WASM_STATS: statsFile },
            timeoutMs: options.timeoutMs,
          })
        } finally {
          await fs.promises.rm(outDir, { recursive: true, force: true })
        }
      })
    },
  }
}

/** Validates core modules in a Node engine with the GC proposal on: the first rung of the GC-readiness ladder. */
export async function validateWithGc(files: string[], timeoutMs: number): Promise<{ gcEnabled: boolean; results: { file: string; valid: boolean; error: string | null }[] }> {
  const { flags } = nodeWasmFlags()
  const out = await runStep(process.execPath, [...flags, runnerScript('validate.mjs'), ...files], { cwd: process.cwd(), env: process.env, timeoutMs })
  if (out.code !== 0) return { gcEnabled: false, results: files.map((file) => ({ file, valid: false, error: out.stderr.trim() || 'the validator did not run' })) }
  const parsed = JSON.parse(out.stdout) as { gc_enabled: boolean; results: { file: string; valid: boolean; error: string | null }[] }
  return { gcEnabled: parsed.gc_enabled, results: parsed.results }
}
