/** What `runMatrix` takes, and its defaults. */
import type { ToolchainCandidate } from './toolchain.js'
import type { TargetName } from './types.js'
import type { SignatureLevel } from './verdicts.js'

export interface MatrixOptions {
  /** A crate directory (with Cargo.toml) or a .wasm artifact. */
  input: string
  /** Targets to run, in any order; all four by default. */
  targets?: TargetName[]
  /** Where the throwaway working directory is made (default: the OS temp dir). */
  workDir?: string
  /** Cargo's target directory; by default a fresh one inside the working directory. Share one to reuse builds across runs. */
  targetDir?: string
  /** Keep the working directory instead of removing it. */
  keep?: boolean
  /** Time limit of one build step (cargo build, cargo test --no-run). */
  buildTimeoutMs?: number
  /** Time limit of one start of a test binary. */
  testTimeoutMs?: number
  /** Runs per side for the wasm/native speed ratio (median). */
  runs?: number
  /** Pass --offline to cargo. */
  offline?: boolean
  /** Toolchains to look for, in order of preference (default: rustup's, then Debian's). */
  toolchains?: ToolchainCandidate[]
  /** Use wasmtime when it is on PATH (default true). */
  wasmtime?: boolean
  /** The record's signature level, for the score; wharf test itself signs nothing. */
  signature?: SignatureLevel
  /** An exported function to probe for the GC ladder's third rung, overriding `[package.metadata.wharf] boundary`. */
  boundary?: string
  env?: NodeJS.ProcessEnv
  onProgress?: (message: string) => void
}

export const DEFAULTS = { buildTimeoutMs: 10 * 60_000, testTimeoutMs: 2 * 60_000, runs: 5 }
