/**
 * libtest's plain output, read back into counts. Under panic=abort (every
 * wasm target) the first panicking test traps and takes the runtime down
 * before libtest prints its summary; `runAllTests` then restarts the binary
 * past the tests already done, so wasm counts come out as native ones do.
 */

export type Outcome = 'ok' | 'failed' | 'ignored'

export interface ParsedRun {
  /** Tests with a result line, in order. */
  results: { name: string; outcome: Outcome }[]
  /** `test foo ... ` with no result after it: the test that was running when the process died. */
  unfinished: string | null
  /** libtest's `test result:` line, when it got that far. */
  summary: { line: string; ok: boolean; passed: number; failed: number; ignored: number } | null
  /** From `running N tests`. */
  planned: number | null
}

const RESULT = /^test (.+?) \.\.\. (ok|FAILED|ignored)(?:, .*)?$/
/**
 * The longest line read as one of libtest's own (a result, a block's head):
 * theirs are short, and the patterns above cost time with a line's length
 * and the separators in it, which a crate's output chooses.
 */
const MAX_LINE = 16 * 1024
const STARTED = /^test (.+?) \.\.\. ?(.*)$/
const SUMMARY = /^test result: (ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored/
const RUNNING = /^running (\d+) tests?$/

/** Reads libtest's stdout (the default "pretty" format). */
export function parseLibtest(stdout: string): ParsedRun {
  const results: ParsedRun['results'] = []
  let unfinished: string | null = null
  let summary: ParsedRun['summary'] = null
  let planned: number | null = null
  for (const raw of stdout.split('\n')) {
    if (raw.length > MAX_LINE) continue
    const line = raw.replace(/\r$/, '')
    const running = RUNNING.exec(line)
    if (running) {
      planned = Number(running[1])
      continue
    }
    const sum = SUMMARY.exec(line)
    if (sum) {
      summary = { line, ok: sum[1] === 'ok', passed: Number(sum[2]), failed: Number(sum[3]), ignored: Number(sum[4]) }
      continue
    }
    const result = RESULT.exec(line)
    if (result) {
      results.push({ name: result[1]!, outcome: result[2] === 'ok' ? 'ok' : result[2] === 'FAILED' ? 'failed' : 'ignored' })
      unfinished = null
      continue
    }
    // A test that printed to stdout under --nocapture, or died, leaves its line open.
    const started = STARTED.exec(line)
    if (started && !started[2]!.startsWith('bench:')) unfinished = started[1]!
  }
  return { results, unfinished, summary, planned }
}

/**
 * The first panic message in a test's output: `panicked at 'msg', file:line`
 * (older) or `panicked at file:line:\nmsg` (1.73+). Each `panicked at` is
 * read within a window after it, and only the first few are tried: the
 * output is the crate's, and could hold the words a million times over.
 */
export function firstPanic(output: string): { message: string; location: string | null } | null {
  let tried = 0
  for (let at = output.indexOf(PANICKED); at >= 0 && tried < MAX_PANICS_TRIED; at = output.indexOf(PANICKED, at + 1), tried++) {
    const window = output.slice(at, at + PANIC_WINDOW)
    const old = OLD_PANIC.exec(window)
    if (old) return { message: old[1]!, location: old[2]! }
    const modern = MODERN_PANIC.exec(window)
    if (modern) return { message: modern[2]!, location: modern[1]! }
  }
  return null
}
const PANICKED = 'panicked at '
const PANIC_WINDOW = 8 * 1024
const MAX_PANICS_TRIED = 100
const OLD_PANIC = /^panicked at '([\s\S]*?)', ([^\s]+:\d+:\d+)/
const MODERN_PANIC = /^panicked at ([^\s]+:\d+:\d+):\n(.*)/

export interface BinaryRun {
  stdout: string
  stderr: string
  code: number | null
  timedOut: boolean
  wallMs: number
}

export interface AllTests {
  passed: number
  failed: number
  ignored: number
  failures: string[]
  aborted: string[]
  /** The last summary line libtest printed, if any run got to print one. */
  summary: string | null
  runs: number
  exitCode: number | null
  wallMs: number
  timedOut: boolean
  /** The panic of each failed test, where its output showed one (libtest's failure blocks, or the rerun of a test that trapped). */
  panics: { test: string; message: string; location: string | null }[]
  /** Output of the first run, for people reading a failure. */
  firstOutput: string
  /** Set when the binary died before any test started (missing import, bad harness), so counts are meaningless. */
  crashed: string | null
  /** Set when restarts stopped before every test had a result (the skip list outgrew a command line): why. */
  stopped: string | null
}

/**
 * The most bytes of `--skip NAME` a restart passes: Linux takes 2 MiB of
 * arguments and environment together, and a binary whose tests trap one by
 * one would pass every name done so far.
 */
const SKIP_BYTES = 1024 * 1024

/**
 * Runs one test binary until every test has a result: once normally; after a
 * trap, the dead test alone with --nocapture (to see its panic), then the rest
 * past every test already done. `exec(args)` starts the binary once.
 */
export async function runAllTests(exec: (args: string[]) => Promise<BinaryRun>, extraArgs: string[] = []): Promise<AllTests> {
  const all: AllTests = {
    passed: 0,
    failed: 0,
    ignored: 0,
    failures: [],
    aborted: [],
    summary: null,
    runs: 0,
    exitCode: null,
    wallMs: 0,
    timedOut: false,
    panics: [],
    firstOutput: '',
    crashed: null,
    stopped: null,
  }
  const done: string[] = []
  let skipBytes = 0
  const finish = (name: string) => {
    done.push(name)
    skipBytes += Buffer.byteLength(name) + '--skip'.length + 2
  }
  // Every restart finishes at least one more test, so this bounds the loop; the cap guards against a harness that lies.
  for (let round = 0; round < 10_000; round++) {
    if (skipBytes > SKIP_BYTES) {
      all.stopped = `stopped after ${all.runs} runs: the ${done.length} tests done, each skipped by name, would not fit on the command line of another restart`
      return all
    }
    const skips = done.flatMap((name) => ['--skip', name])
    const run = await exec([...extraArgs, ...(done.length > 0 ? ['--exact', ...skips] : [])])
    all.runs++
    all.wallMs += run.wallMs
    if (round === 0) {
      // The first run's status is what plain `cargo test` would have seen.
      all.exitCode = run.code
      all.firstOutput = `${run.stdout}${run.stderr}`
    }
    const parsed = parseLibtest(run.stdout)
    for (const r of parsed.results) {
      finish(r.name)
      if (r.outcome === 'ok') all.passed++
      else if (r.outcome === 'ignored') all.ignored++
      else {
        all.failed++
        all.failures.push(r.name)
      }
    }
    for (const [test, output] of failureBlocks(run.stdout)) {
      const panic = firstPanic(output)
      if (panic) all.panics.push({ test, ...panic })
    }
    if (run.timedOut) {
      all.timedOut = true
      if (parsed.unfinished) {
        all.failed++
        all.failures.push(parsed.unfinished)
      }
      return all
    }
    if (parsed.summary) {
      // After a restart the line sums up only the tests that were left, so it is kept only when one run did everything.
      if (round === 0) all.summary = parsed.summary.line
      return all
    }
    if (!parsed.unfinished) {
      // Died outside any test: nothing more to learn by restarting.
      if (round === 0) all.crashed = lastLines(run.stderr || run.stdout)
      return all
    }
    const dead = parsed.unfinished
    all.failed++
    all.failures.push(dead)
    all.aborted.push(dead)
    finish(dead)
    const alone = await exec([...extraArgs, dead, '--exact', '--nocapture'])
    all.runs++
    all.wallMs += alone.wallMs
    const panic = firstPanic(alone.stdout + alone.stderr)
    all.panics.push({ test: dead, message: panic?.message ?? lastLines(alone.stderr), location: panic?.location ?? null })
    // The dead test was the last one this run had left: no restart needed.
    if (parsed.planned !== null && parsed.results.length + 1 >= parsed.planned) return all
  }
  return all
}

/**
 * libtest's `---- name stdout ----` blocks: what each failed test printed,
 * its panic included, up to the next block or the `failures:` list. One
 * pass over the lines.
 */
export function failureBlocks(stdout: string): [string, string][] {
  const heads: { name: string; at: number; start: number }[] = []
  // Where each `failures:` line begins, less one: the newline before it, as the end of a block.
  const lists: number[] = []
  const lines = stdout.split('\n')
  let at = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.length <= MAX_LINE && line.length > BLOCK_HEAD.length + BLOCK_TAIL.length && line.startsWith(BLOCK_HEAD) && line.endsWith(BLOCK_TAIL)) {
      heads.push({ name: line.slice(BLOCK_HEAD.length, -BLOCK_TAIL.length), at, start: at + line.length })
    } else if (line === 'failures:' && at > 0 && i < lines.length - 1) lists.push(at - 1)
    at += line.length + 1
  }
  const blocks: [string, string][] = []
  let list = 0
  for (let i = 0; i < heads.length; i++) {
    const { name, start } = heads[i]!
    const next = heads[i + 1]?.at ?? stdout.length
    while (list < lists.length && lists[list]! < start) list++
    blocks.push([name, stdout.slice(start, Math.min(next, lists[list] ?? next))])
  }
  return blocks
}
const BLOCK_HEAD = '---- '
const BLOCK_TAIL = ' stdout ----'

function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join('\n')
}
