/**
 * What the matrix tests check the matrix against: plain cargo run the way a
 * person would (same toolchain, a fresh copy and target directory, the wasm
 * runner set as cargo's target runner), and jco's own CLI.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { componentEmbed, componentNew } from '@bytecodealliance/jco'
import { nodeWasmFlags, runnerScript } from '../../src/matrix/runtime.js'
import { discoverToolchains, planTarget, type ToolchainCandidate } from '../../src/matrix/toolchain.js'
import type { TargetName } from '../../src/matrix/types.js'
import { stripCustomSections } from '../../src/matrix/wasm-scan.js'

export const FIXTURES = path.resolve('test/fixtures/crates')
export const fixture = (name: string) => path.join(FIXTURES, name)

export async function tempDir(prefix: string): Promise<string> {
  return fs.promises.mkdtemp(path.join(os.tmpdir(), prefix))
}

export interface PlainRun {
  code: number | null
  stdout: string
  stderr: string
  /** Every `test result:` line libtest printed, summed. */
  totals: { passed: number; failed: number; ignored: number; summaries: number }
  /** Test executables cargo reported (with --message-format=json). */
  executables: string[]
}

const copies = new Map<string, string>()

/** A private copy of the fixture per toolchain, so no Cargo.lock or target dir lands in the source tree. */
function copyOf(name: string, source: string, root: string): string {
  const key = `${name}|${source}|${root}`
  let dir = copies.get(key)
  if (!dir) {
    dir = path.join(root, `${name}-${source}`)
    fs.cpSync(fixture(name), dir, { recursive: true, filter: (src) => !/\/(target|Cargo\.lock)$/.test(src) })
    copies.set(key, dir)
  }
  return dir
}

/** `cargo <args>` for `target`, with the toolchain the matrix would pick, in `root`. */
export function plainCargo(name: string, target: TargetName, args: string[], root: string): PlainRun {
  const plan = planTarget(target === 'wasm32-wasip2' ? 'wasm32-wasip1' : target, discoverToolchains(fixture(name)))
  if (!plan) throw new Error(`no toolchain for ${target}`)
  const cwd = copyOf(name, plan.toolchain.source, root)
  const triple = plan.triple
  const env: NodeJS.ProcessEnv = { ...plan.toolchain.env, CARGO_TARGET_DIR: path.join(root, `target-${plan.toolchain.source}`) }
  if (triple) {
    const runner = triple === 'wasm32-unknown-unknown' ? 'node-main.mjs' : 'node-wasi.mjs'
    env[`CARGO_TARGET_${triple.toUpperCase().replace(/-/g, '_')}_RUNNER`] = [process.execPath, ...nodeWasmFlags().flags, runnerScript(runner)].join(' ')
  }
  const [subcommand, ...rest] = args
  const argv = [subcommand!, ...(triple ? ['--target', triple] : []), ...rest]
  const out = spawnSync(plan.toolchain.cargo, argv, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 })
  const totals = { passed: 0, failed: 0, ignored: 0, summaries: 0 }
  for (const m of out.stdout.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/gm)) {
    totals.passed += Number(m[1])
    totals.failed += Number(m[2])
    totals.ignored += Number(m[3])
    totals.summaries++
  }
  const executables: string[] = []
  for (const line of out.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line) as { reason?: string; executable?: string | null; profile?: { test?: boolean } }
    if (msg.reason === 'compiler-artifact' && msg.executable && msg.profile?.test) executables.push(msg.executable)
  }
  return { code: out.status, stdout: out.stdout, stderr: out.stderr, totals, executables }
}

/** jco's own CLI: adapt a p1 module with `jco new --wasi-command`, then `jco run` it. */
export function jcoCli(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const bin = path.resolve('node_modules/@bytecodealliance/jco/src/jco.js')
  const out = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000, env: { ...process.env, JCO_RUN_ARGS: '--no-warnings' } })
  return { code: out.status, stdout: out.stdout, stderr: out.stderr }
}

/**
 * A real toolchain without wasm targets, as a rustup toolchain with no
 * `rustup target add`: Debian's compiler over a sysroot that holds only the
 * host's standard library.
 */
export function hostOnlyToolchain(root: string): ToolchainCandidate {
  const bin = path.join(root, 'host-only', 'bin')
  const sysroot = path.join(root, 'host-only', 'sysroot')
  fs.mkdirSync(root, { recursive: true })
  const debian = discoverToolchains(root, [{ source: 'debian', binDir: '/usr/bin' }])[0]
  if (!debian) throw new Error('Debian toolchain missing: run scripts/system-deps.mjs')
  fs.mkdirSync(bin, { recursive: true })
  fs.mkdirSync(path.join(sysroot, 'lib', 'rustlib'), { recursive: true })
  fs.symlinkSync(path.join(debian.sysroot, 'lib', 'rustlib', debian.host), path.join(sysroot, 'lib', 'rustlib', debian.host))
  fs.writeFileSync(path.join(bin, 'rustc'), `#!/bin/sh\nexec /usr/bin/rustc --sysroot ${sysroot} "$@"\n`, { mode: 0o755 })
  fs.symlinkSync('/usr/bin/cargo', path.join(bin, 'cargo'))
  fs.symlinkSync('/usr/bin/rustdoc', path.join(bin, 'rustdoc'))
  return { source: 'rustup', binDir: bin }
}

/**
 * The component fixture: its crate built for wasm32-unknown-unknown by plain
 * cargo, the WIT world embedded, and `jco new` (wit-component) making the component.
 */
export async function buildComponent(root: string): Promise<string> {
  const built = plainCargo('component', 'wasm32-unknown-unknown', ['build', '--release', '--message-format=json'], root)
  if (built.code !== 0) throw new Error(`component fixture did not build:\n${built.stderr}`)
  const core = built.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { reason?: string; filenames?: string[] })
    .flatMap((m) => (m.reason === 'compiler-artifact' ? (m.filenames ?? []) : []))
    .find((f) => f.endsWith('.wasm'))!
  const embedded = await componentEmbed({
    binary: stripCustomSections(await fs.promises.readFile(core)),
    witSource: await fs.promises.readFile(path.join(fixture('component'), 'wit', 'world.wit'), 'utf8'),
    world: 'calc',
  })
  const file = path.join(root, 'calc.component.wasm')
  await fs.promises.writeFile(file, await componentNew(embedded, []))
  return file
}
