/** Runs the real `wharf` binary, as a user would. */
import { execFile } from 'node:child_process'
import path from 'node:path'

export const WHARF = path.resolve('bin/wharf.js')

export interface Run {
  code: number
  stdout: string
  stderr: string
}

export function wharf(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WHARF, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
  })
}
