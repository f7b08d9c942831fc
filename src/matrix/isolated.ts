/**
 * The matrix in a process of its own, for inputs nobody vouched for (what
 * is uploaded to `wharf serve`): a build that hangs, crashes or eats memory
 * takes only that process down, and the time limit ends it.
 */
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Report } from './types.js'

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))

export interface IsolatedRun {
  /** The child's exit code: 0 pass, 1 a target failed, 2 cannot run, 3 internal failure (1 when it was killed). */
  code: number
  /** The report, when the child printed one. */
  report: Report | undefined
  stderr: string
}

/** Runs `wharf test` on `input` in a child process (child.ts, through the same TypeScript loader as the CLI). */
export function runMatrixIsolated(input: string, options: { timeoutMs: number }): Promise<IsolatedRun> {
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', loader, CHILD, input], { maxBuffer: 16 * 1024 * 1024, timeout: options.timeoutMs }, (error, stdout, stderr) => {
      let report: Report | undefined
      try {
        report = JSON.parse(stdout) as Report
      } catch {
        report = undefined
      }
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, report, stderr })
    })
  })
}
