/**
 * The matrix in a process of its own, for inputs nobody vouched for (what
 * is uploaded to `wharf serve`): a build that hangs, crashes or eats memory
 * takes only that process down, and the time limit ends it with everything
 * it started (its own process group, known to the stop registry).
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { runStep } from './process.js'
import type { Report } from './types.js'

export interface IsolatedRun {
  /** The child's exit code: 0 pass, 1 a target failed, 2 cannot run, 3 internal failure (1 when it was killed). */
  code: number
  /** The report, when the child printed one. */
  report: Report | undefined
  stderr: string
}

/** How to start child.ts: built beside this code in the bundle (scripts/build.mjs), else from the sources through tsx. */
function childArgs(): string[] {
  const bundled = fileURLToPath(new URL('./child.js', import.meta.url))
  if (fs.existsSync(bundled)) return [bundled]
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  return ['--import', loader, fileURLToPath(new URL('./child.ts', import.meta.url))]
}

/** Runs `wharf test` on `input` in a child process (child.ts). */
export async function runMatrixIsolated(input: string, options: { timeoutMs: number }): Promise<IsolatedRun> {
  const out = await runStep(process.execPath, [...childArgs(), input], { cwd: process.cwd(), env: process.env, timeoutMs: options.timeoutMs })
  let report: Report | undefined
  try {
    report = JSON.parse(out.stdout) as Report
  } catch {
    report = undefined
  }
  return { code: out.code ?? 1, report, stderr: out.timedOut ? `${out.stderr}\nwharf test did not finish in ${options.timeoutMs / 60_000} minutes` : out.stderr }
}
