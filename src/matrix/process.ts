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
}

export interface StepOutput {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  wallMs: number
  timedOut: boolean
  /** Peak RSS in KiB, when asked for and GNU time is there to tell. */
  peakRssKb: number | null
}

// A runaway test can print without end; what matters is at the start (errors) and the end (summary).
const MAX_CAPTURE = 8 * 1024 * 1024

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

class Capture {
  private chunks: Buffer[] = []
  private size = 0
  private dropped = 0
  add(chunk: Buffer): void {
    if (this.size + chunk.length <= MAX_CAPTURE) {
      this.chunks.push(chunk)
      this.size += chunk.length
    } else this.dropped += chunk.length
  }
  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8')
    return this.dropped > 0 ? `${text}\n[wharf: ${this.dropped} more bytes of output dropped]\n` : text
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
    const out = new Capture()
    const err = new Capture()
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
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (isStopping()) return
      const wallMs = performance.now() - start
      let peakRssKb: number | null = null
      if (rssDir) {
        // -q keeps GNU time's own notes out, so the file holds the figure alone.
        const rss = Number(readQuietly(`${rssDir}/rss`).trim().split('\n').at(-1))
        removeRssDir()
        if (Number.isFinite(rss) && rss > 0) peakRssKb = rss
      }
      forget()
      resolve({ code: timedOut ? null : code, signal, stdout: out.text(), stderr: err.text(), wallMs, timedOut, peakRssKb })
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
