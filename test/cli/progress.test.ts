/**
 * Progress on a terminal, silence on a pipe: `build-api` and `publish --crate`
 * run under a real pseudo-terminal (util-linux `script`) draw one line on
 * stderr and clear it; piped, or with --json, they print none of it.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Io } from '../../src/cli/command.js'
import { createProgress } from '../../src/cli/progress.js'
import { wharf, WHARF } from '../helpers/cli.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'

const ERASE = '\r\x1b[2K'

/** Runs wharf with stdout and stderr on a pseudo-terminal, as in a person's shell; returns what the terminal showed. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; screen: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  const command = [process.execPath, WHARF, ...args].map(quote).join(' ')
  return new Promise((resolve) => {
    execFile('script', ['-qefc', command, '/dev/null'], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, screen: stdout })
    })
  })
}

let idx: TestIndex
let work: string

beforeAll(async () => {
  idx = await createTestIndex()
  await idx.release({ version: '1.0.0' })
  await idx.release({ name: 'acme:calc/fmt', version: '0.1.0' })
  work = await tempDir('wharf-progress-')
})

describe('build-api progress', () => {
  it('draws phase, count and elapsed time on a terminal, then clears the line', async () => {
    const run = await onTerminal(['build-api', '--index', idx.dir, '--out', path.join(work, 'tty')])
    expect(run.code, run.screen).toBe(0)
    expect(run.screen).toMatch(/\r\x1b\[2Kbuild-api: reading the history of main · \d+\.\ds/)
    expect(run.screen).toMatch(/\r\x1b\[2Kbuild-api: packages 0\/2 · \d+\.\ds/)
    expect(run.screen).toMatch(/\r\x1b\[2Kbuild-api: signing the snapshot · \d+\.\ds/)
    // Cleared before the result, which stands alone on its line.
    expect(run.screen).toMatch(/\r\x1b\[2KBuilt the API of [0-9a-f]{12} full/)
  })

  it('prints none of it on a pipe, or with --json on a terminal', async () => {
    const piped = await wharf(['build-api', '--index', idx.dir, '--out', path.join(work, 'pipe')])
    expect(piped.code).toBe(0)
    expect(piped.stderr).toBe('')
    expect(piped.stdout).not.toContain('\r')
    const json = await onTerminal(['build-api', '--index', idx.dir, '--out', path.join(work, 'json'), '--json'])
    expect(json.code).toBe(0)
    expect(json.screen).not.toContain(ERASE)
    expect(JSON.parse(json.screen.replace(/\r\n/g, '\n'))).toMatchObject({ mode: 'full', packages: 2 })
  })
})

describe('publish --crate progress', () => {
  it('shows cargo package while it runs, on a terminal only', async () => {
    const key = path.join(work, 'alice.key')
    fs.writeFileSync(key, idx.key.privatePem, { mode: 0o600 })
    const crate = path.join(work, 'greet')
    await fs.promises.cp(path.resolve('test/fixtures/api/crates/greet'), crate, { recursive: true })
    const env = { CARGO_TARGET_DIR: path.join(work, 'target'), CARGO_NET_OFFLINE: 'true' }
    const run = await onTerminal(['publish', '--crate', crate, '--name', 'acme:wharf-greet', '--key', key, '--author', 'alice', '--index', idx.dir], env)
    expect(run.code, run.screen).toBe(0)
    expect(run.screen).toMatch(/\r\x1b\[2Kpublish: cargo package \(builds wharf_greet 0\.1\.0 to verify it\) · \d+\.\ds/)
    expect(run.screen).toMatch(/\r\x1b\[2Kpublish: proposing acme:wharf-greet@0\.1\.0/)
    expect(run.screen).toMatch(/\r\x1b\[2KProposed acme:wharf-greet@0\.1\.0 \(crate wharf_greet\)/)
    const piped = await wharf(['publish', '--crate', crate, '--name', 'acme:wharf-greet', '--key', key, '--author', 'alice', '--index', idx.dir], { env })
    expect(piped.code, piped.stderr).toBe(0)
    expect(piped.stderr).toBe('')
  }, 240_000)
})

describe('the progress line', () => {
  function fakeIo(columns: number | undefined): Io & { err: string[] } {
    const err: string[] = []
    return { err, stdout: () => {}, stderr: (t) => err.push(t), env: {}, terminalColumns: columns }
  }

  it('redraws a phase at most every 100 ms, a new phase at once, and never wider than the terminal', () => {
    let clock = 1000
    const io = fakeIo(40)
    const progress = createProgress(io, {}, 'build-api', () => clock)
    progress.report!({ phase: 'packages', done: 0, total: 3 })
    clock += 50
    progress.report!({ phase: 'packages', done: 1, total: 3 })
    clock += 60
    progress.report!({ phase: 'packages', done: 2, total: 3 })
    progress.report!({ phase: 'a phase whose name does not fit in forty columns at all' })
    progress.end()
    expect(io.err).toEqual([
      `${ERASE}build-api: packages 0/3 · 0.0s`,
      `${ERASE}build-api: packages 2/3 · 0.1s`,
      `${ERASE}build-api: a phase whose name does not…`,
      ERASE,
    ])
    for (const line of io.err) expect(line.length - ERASE.length).toBeLessThan(40)
  })

  it('shows a detail after the count', () => {
    const io = fakeIo(80)
    createProgress(io, {}, 'install', () => 0).report!({ phase: 'downloading', done: 2, detail: '1.0 kB of 2.0 kB' })
    expect(io.err).toEqual([`${ERASE}install: downloading 2 1.0 kB of 2.0 kB · 0.0s`])
  })

  it('is off without a terminal and under --json: the step gets no callback', () => {
    expect(createProgress(fakeIo(undefined), {}, 'x').report).toBeUndefined()
    expect(createProgress(fakeIo(80), { json: true }, 'x').report).toBeUndefined()
  })
})
