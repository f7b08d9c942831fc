/** Runs one step of the matrix as a child process: captured output, wall time, a hard time limit. */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { addCleanup, isStopping, signalGroup, spawnChild } from './children.js'

export interface StepOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  /** Kill the whole process group after this many milliseconds. */
  timeoutMs: number
  /** Record the peak resident set size (GNU time), for native test binaries. */
  measureRss?: boolean
  /** How much of each stream to keep (default MAX_CAPTURE): more for a step whose output is read whole, as JSON. */
  captureBytes?: number
}

export interface StepOutput {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Whether the middle of stdout was dropped (it printed more than the capture keeps). */
  stdoutCut: boolean
  wallMs: number
  timedOut: boolean
  /** Peak RSS in KiB, when asked for and GNU time is there to tell. */
  peakRssKb: number | null
}

// A runaway test can print without end; what matters is at the start (errors) and at the end (the summary, and the
// artifact lines cargo writes last): a step keeps that much of each, and drops the middle.
const MAX_CAPTURE = 8 * 1024 * 1024

/** What a step whose output is read whole as JSON (`cargo metadata`) may print: a large workspace's graph is tens of MiB. */
export const JSON_CAPTURE = 64 * 1024 * 1024

/** How long a step's output may stay open after its process exited (a detached child holding it). */
const PIPE_GRACE_MS = 2_000

/** The GNU time binary, which alone among the usual tools reports the peak RSS of a child that has exited. */
const GNU_TIME = '/usr/bin/time'
let gnuTime: boolean | undefined
function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    const probe = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' })
    gnuTime = probe.status === 0 && /^\d+\s*$/.test(probe.stderr)
  }
  return gnuTime
}

/**
 * What a step printed on one stream, at most MAX_CAPTURE bytes of it: the
 * first half as it came, then the last half (whole chunks, the oldest cut),
 * and between them how many bytes were dropped.
 */
class OutputCapture {
  private readonly head: Buffer[] = []
  private headSize = 0
  private tail: Buffer[] = []
  private tailSize = 0
  dropped = 0

  constructor(private readonly max = MAX_CAPTURE) {}

  add(chunk: Buffer): void {
    const half = this.max / 2
    if (this.tail.length === 0 && this.headSize < half) {
      const taken = chunk.subarray(0, half - this.headSize)
      this.head.push(taken)
      this.headSize += taken.length
      chunk = chunk.subarray(taken.length)
      if (chunk.length === 0) return
    }
    this.tail.push(chunk)
    this.tailSize += chunk.length
    while (this.tailSize > half) {
      const over = this.tailSize - half
      const first = this.tail[0]!
      if (first.length <= over) {
        this.tail.shift()
        this.tailSize -= first.length
        this.dropped += first.length
      } else {
        this.tail[0] = first.subarray(over)
        this.tailSize -= over
        this.dropped += over
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8')
    const tail = Buffer.concat(this.tail).toString('utf8')
    // The tail starts at a line: a cut line would read as a line of its own.
    if (this.dropped === 0) return head + tail
    const start = tail.indexOf('\n') + 1
    return `${head}\n[wharf: ${this.dropped + Buffer.byteLength(tail.slice(0, start))} bytes of output dropped]\n${tail.slice(start)}`
  }
}

/**
 * Runs `command args`, never throwing for a non-zero exit; only a missing
 * executable throws. The child leads its own process group (children.ts), so
 * a timeout or a Ctrl-C takes down everything the step started (rustc, build
 * scripts, runners). Once wharf is stopping, the step's promise never settles:
 * the stop, not the caller, finishes the run.
 */
export function runStep(command: string, args: string[], options: StepOptions): Promise<StepOutput> {
  if (isStopping()) return new Promise(() => {})
  let rssDir: string | undefined
  let file = command
  let argv = args
  if (options.measureRss && hasGnuTime()) {
    rssDir = fs.mkdtempSync('/tmp/wharf-rss-')
    file = GNU_TIME
    argv = ['-q', '-f', '%M', '-o', `${rssDir}/rss`, command, ...args]
  }
  const removeRssDir = () => {
    if (rssDir) fs.rmSync(rssDir, { recursive: true, force: true })
  }
  const forget = rssDir ? addCleanup(removeRssDir) : () => {}
  return new Promise((resolve, reject) => {
    const start = performance.now()
    let child
    try {
      child = spawnChild(file, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (e) {
      removeRssDir()
      forget()
      return reject(e)
    }
    const out = new OutputCapture(options.captureBytes)
    const err = new OutputCapture(options.captureBytes)
    child.stdout!.on('data', (c: Buffer) => out.add(c))
    child.stderr!.on('data', (c: Buffer) => err.add(c))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
    }, options.timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      removeRssDir()
      forget()
      reject(e)
    })
    // The step ends when its process does. What it left behind in its group goes with it; a process that left the group
    // (setsid) and kept the step's output open is not waited for past a grace period: its pipes are closed on it.
    let exited: { code: number | null; signal: NodeJS.Signals | null; wallMs: number } | undefined
    let grace: NodeJS.Timeout | undefined
    child.on('exit', (code, signal) => {
      exited = { code, signal, wallMs: performance.now() - start }
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
      grace = setTimeout(() => {
        child.stdout!.destroy()
        child.stderr!.destroy()
      }, PIPE_GRACE_MS)
    })
    child.on('close', (closeCode, closeSignal) => {
      clearTimeout(timer)
      clearTimeout(grace)
      if (isStopping()) return
      const { code, signal, wallMs } = exited ?? { code: closeCode, signal: closeSignal, wallMs: performance.now() - start }
      let peakRssKb: number | null = null
      if (rssDir) {
        // -q keeps GNU time's own notes out, so the file holds the figure alone.
        const rss = Number(readQuietly(`${rssDir}/rss`).trim().split('\n').at(-1))
        removeRssDir()
        if (Number.isFinite(rss) && rss > 0) peakRssKb = rss
      }
      forget()
      resolve({ code: timedOut ? null : code, signal, stdout: out.text(), stderr: err.text(), stdoutCut: out.dropped > 0, wallMs, timedOut, peakRssKb })
    })
  })
}

function readQuietly(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

/** The command line as a person would type it, for the report. */
export function commandLine(command: string, args: string[], env: Record<string, string> = {}): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)
  const prefix = Object.entries(env).map(([k, v]) => `${k}=${quote(v)} `)
  return `${prefix.join('')}${[command, ...args].map(quote).join(' ')}`
}
