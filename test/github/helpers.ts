/**
 * Shared set-up for the GitHub tests: an emulator per test file whose
 * mismatches with GitHub's descriptions and calls to unimplemented paths fail
 * the test that caused them, and async git in work trees (the emulator serves
 * git from this same process, so nothing here may block the event loop).
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { createGitHub, type GitHub } from '../../src/github/index.js'
import { startEmulator, type Emulator, type EmulatorOptions } from './emulator/emulator.js'
import { gitEnv } from './emulator/git.js'

/** An emulator for the test file; after each test, nothing it answered may differ from GitHub's descriptions. */
export function useEmulator(options: EmulatorOptions = {}): { readonly emu: Emulator } {
  const holder = {} as { emu: Emulator }
  beforeAll(async () => {
    holder.emu = await startEmulator(options)
  })
  afterEach(() => {
    const { mismatches, unimplemented } = holder.emu
    const found = { mismatches: mismatches.splice(0), unimplemented: unimplemented.splice(0) }
    expect(found).toEqual({ mismatches: [], unimplemented: [] })
  })
  afterAll(async () => {
    await holder.emu?.close()
  })
  return holder
}

/** A client of `src/github` on the emulator, unpaced (the emulator has no abuse detection to respect). */
export function client(emu: Emulator, token: string): GitHub {
  return createGitHub({ token, baseUrl: emu.urls.api, userAgent: 'wharf-test', pace: false })
}

export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 })
    })
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

const AUTHOR = { GIT_AUTHOR_NAME: 'Alice', GIT_AUTHOR_EMAIL: 'alice@example.com', GIT_COMMITTER_NAME: 'Alice', GIT_COMMITTER_EMAIL: 'alice@example.com' }

/** git in `dir`, failing with its stderr. */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const result = await run('git', args, { cwd: dir, env: { ...gitEnv(), ...AUTHOR } })
  if (result.code !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

/** git in `dir`, resolving its outcome whatever it is. */
export function tryGit(dir: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run('git', args, { cwd: dir, env: { ...gitEnv(), ...AUTHOR } })
}

export async function tempDir(prefix = 'wharf-gh-'): Promise<string> {
  return fs.promises.mkdtemp(path.join(os.tmpdir(), prefix))
}

/** An authenticated clone URL, as actions/checkout builds one. */
export function authedUrl(emu: Emulator, repo: string, token: string): string {
  return emu.cloneUrl(repo).replace('http://', `http://x-access-token:${token}@`)
}

/** Clones `repo` with `token` into a new temp dir. */
export async function clone(emu: Emulator, repo: string, token: string): Promise<string> {
  const dir = path.join(await tempDir(), 'work')
  await git(path.dirname(dir), 'clone', '--quiet', authedUrl(emu, repo, token), dir)
  return dir
}

/** Writes files, commits them on `branch` (created from HEAD when new) and pushes it. */
export async function pushBranch(dir: string, branch: string, files: Record<string, string>, message = `Change ${branch}`): Promise<string> {
  const exists = (await tryGit(dir, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`)).code === 0
  await git(dir, 'checkout', '--quiet', ...(exists ? [branch] : ['-b', branch]))
  for (const [file, content] of Object.entries(files)) {
    await fs.promises.mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    await fs.promises.writeFile(path.join(dir, file), content)
  }
  await git(dir, 'add', '-A')
  await git(dir, 'commit', '--quiet', '-m', message)
  await git(dir, 'push', '--quiet', 'origin', branch)
  return (await git(dir, 'rev-parse', 'HEAD')).trim()
}

/** A REST call with a token straight to the emulator (for what src/github does not do, such as reviewing). */
export async function rest(emu: Emulator, token: string, method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${emu.urls.api}${apiPath}`, {
    method,
    headers: { authorization: `token ${token}`, accept: 'application/vnd.github+json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}
