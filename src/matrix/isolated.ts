/**
 * The matrix in a process of its own, for inputs nobody vouched for (what
 * is uploaded to `wharf serve`): a build that hangs, crashes or eats memory
 * takes only that process down, and the time limit ends it. With a sandbox
 * (sandbox.ts) the process runs under bubblewrap and sees only what the
 * crate may see; without one, only the operator's explicit opt-out runs it.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { hostPaths, minimalEnv, sandboxCommand, scrubPaths, type SandboxOptions } from './sandbox.js'
import type { Report, TargetName } from './types.js'

/** child.ts built beside this code in the bundle (scripts/build.mjs), else the source, run through tsx. */
const BUNDLED_CHILD = fileURLToPath(new URL('./child.js', import.meta.url))
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))
/** What is kept of a child's output: a report is far smaller; the rest of a flood is dropped. */
const MAX_OUTPUT = 16 * 1024 * 1024

export interface IsolatedRun {
  /** The child's exit code: 0 pass, 1 a target failed, 2 cannot run, 3 internal failure (1 when it was killed). */
  code: number
  /** The report, when the child printed one, with host paths replaced by neutral names. */
  report: Report | undefined
  stderr: string
  /** True when the time limit ended it. */
  timedOut: boolean
}

export interface IsolatedOptions {
  timeoutMs: number
  /** The input is a `.crate` to unpack first (whatever its file is called). */
  crate?: boolean
  /** Targets to run (default all). */
  targets?: readonly TargetName[]
  /** Run under bubblewrap; absent only when the operator opted out of the sandbox. */
  sandbox?: SandboxOptions
}

/**
 * Runs `wharf test` on `input` (a crate directory, a `.crate` file or an
 * artifact) in a child process (child.ts: the bundle's, else the source through
 * the same TypeScript loader as the CLI), with a minimal environment. A `.crate` is unpacked by the
 * child itself, inside the sandbox.
 */
export function runMatrixIsolated(input: string, options: IsolatedOptions): Promise<IsolatedRun> {
  const bundled = fs.existsSync(BUNDLED_CHILD)
  const loader = bundled ? undefined : createRequire(import.meta.url).resolve('tsx')
  const script = bundled ? BUNDLED_CHILD : CHILD
  const args = [...(options.crate ? ['--crate'] : []), ...(options.targets ? ['--targets', options.targets.join(',')] : [])]
  const command = options.sandbox
    ? sandboxCommand(options.sandbox, { script, ...(loader ? { loader } : {}), input, args })
    : { file: process.execPath, args: [...(loader ? ['--import', loader] : []), script, input, ...args] }
  const scrub = hostPaths(options.sandbox?.hide ?? [])
  return new Promise((resolve) => {
    // Its own process group, so the time limit takes down everything the run started.
    const child = spawn(command.file, command.args, { env: options.sandbox ? {} : minimalEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    const collect = () => {
      const chunks: Buffer[] = []
      let size = 0
      return {
        add: (c: Buffer) => {
          if (size + c.length <= MAX_OUTPUT) chunks.push(c)
          size += c.length
        },
        text: () => Buffer.concat(chunks).toString('utf8'),
      }
    }
    const out = collect()
    const err = collect()
    child.stdout.on('data', out.add)
    child.stderr.on('data', err.add)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }, options.timeoutMs)
    const done = (code: number, stderr: string) => {
      clearTimeout(timer)
      let report: Report | undefined
      try {
        report = scrubPaths(JSON.parse(out.text()) as Report, scrub)
      } catch {
        report = undefined
      }
      resolve({ code, report, stderr: scrubPaths(stderr, scrub), timedOut })
    }
    child.on('error', (e) => done(2, `${command.file} cannot run: ${e.message}`))
    child.on('close', (code) => done(timedOut || code === null ? 1 : code, timedOut ? `the run took longer than ${Math.round(options.timeoutMs / 1000)} s and was stopped` : err.text()))
  })
}
