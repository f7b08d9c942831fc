/**
 * Which Rust toolchain builds which target. rustup's wins where its sysroot
 * has the target's standard library; Debian's (rustc 1.63, `wasm32-wasi`,
 * `wasm32-unknown-unknown`) fills the gaps; a target neither has is
 * unavailable, which is a fact about this machine, never a failure of the crate.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TargetName, ToolchainRef } from './types.js'

export interface Toolchain {
  source: 'rustup' | 'debian'
  cargo: string
  rustc: string
  rustdoc: string
  /** `rustc --version`, e.g. `rustc 1.63.0`. */
  rustcVersion: string
  cargoVersion: string
  /** [major, minor] of rustc. */
  version: [number, number]
  host: string
  sysroot: string
  /** The environment cargo runs in: this toolchain's binaries first, nothing of the other's. */
  env: NodeJS.ProcessEnv
}

/** Where a target is built: the toolchain and the triple it knows the target by. */
export interface TargetPlan {
  toolchain: Toolchain
  /** `null` for native (no --target, as plain `cargo test` does). */
  triple: string | null
}

/** Triples a target goes by, newest name first. */
const TRIPLES: Record<Exclude<TargetName, 'native'>, string[]> = {
  'wasm32-unknown-unknown': ['wasm32-unknown-unknown'],
  // Renamed in Rust 1.78; older toolchains (Debian's 1.63) only know wasm32-wasi.
  'wasm32-wasip1': ['wasm32-wasip1', 'wasm32-wasi'],
  'wasm32-wasip2': ['wasm32-wasip2'],
}

export interface ToolchainCandidate {
  source: 'rustup' | 'debian'
  binDir: string
}

/** The usual places: rustup's proxies under $CARGO_HOME/bin, then Debian's /usr/bin. */
export function defaultCandidates(env: NodeJS.ProcessEnv = process.env): ToolchainCandidate[] {
  const cargoHome = env.CARGO_HOME ?? path.join(env.HOME ?? os.homedir(), '.cargo')
  return [
    { source: 'rustup', binDir: path.join(cargoHome, 'bin') },
    { source: 'debian', binDir: '/usr/bin' },
  ]
}

const cache = new Map<string, Toolchain | null>()

/** Probes one candidate from `cwd` (where a rust-toolchain file may pin a rustup toolchain); null when it is not there or broken. */
export function probeToolchain(candidate: ToolchainCandidate, cwd: string, baseEnv: NodeJS.ProcessEnv = process.env): Toolchain | null {
  const key = `${candidate.source}\0${candidate.binDir}\0${cwd}`
  if (cache.has(key)) return cache.get(key)!
  const found = probe(candidate, cwd, baseEnv)
  cache.set(key, found)
  return found
}

function probe(candidate: ToolchainCandidate, cwd: string, baseEnv: NodeJS.ProcessEnv): Toolchain | null {
  const cargo = path.join(candidate.binDir, 'cargo')
  const rustc = path.join(candidate.binDir, 'rustc')
  if (!fs.existsSync(cargo) || !fs.existsSync(rustc)) return null
  const env = toolchainEnv(candidate, rustc, baseEnv)
  const ask = (file: string, args: string[]) => {
    const r = spawnSync(file, args, { cwd, env, encoding: 'utf8', timeout: 60_000 })
    return r.status === 0 ? r.stdout.trim() : undefined
  }
  const verbose = ask(rustc, ['-vV'])
  const sysroot = ask(rustc, ['--print', 'sysroot'])
  const cargoVersion = ask(cargo, ['--version'])
  if (!verbose || !sysroot || !cargoVersion) return null
  const host = /^host: (\S+)$/m.exec(verbose)?.[1]
  const release = /^release: (\d+)\.(\d+)/m.exec(verbose)
  if (!host || !release) return null
  return {
    source: candidate.source,
    cargo,
    rustc,
    rustdoc: path.join(candidate.binDir, 'rustdoc'),
    rustcVersion: verbose.split('\n')[0]!,
    cargoVersion,
    version: [Number(release[1]), Number(release[2])],
    host,
    sysroot,
    env,
  }
}

function toolchainEnv(candidate: ToolchainCandidate, rustc: string, baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...baseEnv }
  // Settings of the caller's own builds must not leak into the crate's: the matrix picks target, dir and compiler.
  for (const name of ['CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET', 'CARGO_BUILD_TARGET_DIR', 'RUSTC', 'RUSTDOC', 'RUSTC_WRAPPER', 'RUSTUP_TOOLCHAIN', 'CARGO_BUILD_RUSTC']) {
    delete env[name]
  }
  for (const name of Object.keys(env)) if (/^CARGO_TARGET_.*_RUNNER$/.test(name)) delete env[name]
  const otherBins = defaultCandidates(baseEnv)
    .filter((c) => c.binDir !== candidate.binDir && c.source !== 'debian')
    .map((c) => c.binDir)
  // Debian's cargo would otherwise pick rustup's `rustc` proxy off PATH, and build scripts would too.
  const rest = (baseEnv.PATH ?? '').split(':').filter((p) => p !== '' && p !== candidate.binDir && !otherBins.includes(p))
  env.PATH = [candidate.binDir, ...rest].join(':')
  env.RUSTC = rustc
  env.RUSTDOC = path.join(candidate.binDir, 'rustdoc')
  env.CARGO_TERM_COLOR = 'never'
  env.CARGO_TERM_PROGRESS_WHEN = 'never'
  // A rust-toolchain file naming a toolchain that is not installed must fail, not download one.
  env.RUSTUP_AUTO_INSTALL = '0'
  return env
}

/** True when the toolchain's sysroot holds the standard library for `triple`. */
export function hasTarget(toolchain: Toolchain, triple: string): boolean {
  return fs.existsSync(path.join(toolchain.sysroot, 'lib', 'rustlib', triple, 'lib'))
}

/** The first toolchain, in order, that can build `target`, and the triple it uses for it. */
export function planTarget(target: TargetName, toolchains: Toolchain[]): TargetPlan | null {
  for (const toolchain of toolchains) {
    if (target === 'native') return { toolchain, triple: null }
    for (const triple of TRIPLES[target]) {
      if (hasTarget(toolchain, triple)) return { toolchain, triple }
    }
  }
  return null
}

/** Every toolchain found, rustup's first. */
export function discoverToolchains(cwd: string, candidates: ToolchainCandidate[] = defaultCandidates(), env: NodeJS.ProcessEnv = process.env): Toolchain[] {
  return candidates.map((c) => probeToolchain(c, cwd, env)).filter((t): t is Toolchain => t !== null)
}

export function toolchainRef(plan: TargetPlan, adapter?: string): ToolchainRef {
  const ref: ToolchainRef = { source: plan.toolchain.source, rustc: plan.toolchain.rustcVersion, cargo: plan.toolchain.cargoVersion, triple: plan.triple }
  if (adapter) ref.adapter = adapter
  return ref
}
