/**
 * Table-driven tests of the matrix's readers: the wasm feature scan (on
 * modules wasm-tools assembles from text), libtest's output, cargo's package
 * ids and errors, the hint table, target names, the score and WIT worlds.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse } from '@bytecodealliance/jco'
import { describe, expect, it } from 'vitest'
import { hintFor } from '../../src/matrix/blame.js'
import { cargo, cargoMetadata, firstCargoFailure, firstErrorLine, parsePackageId } from '../../src/matrix/cargo.js'
import { failureBlocks, firstPanic, parseLibtest, runAllTests, type BinaryRun } from '../../src/matrix/libtest.js'
import { classifyImports, parseWorld, sizeMetrics, wasmMetrics } from '../../src/matrix/metrics.js'
import { runStep } from '../../src/matrix/process.js'
import { foreignCargoConfig, runMatrix } from '../../src/matrix/run.js'
import { parseTargets } from '../../src/matrix/targets.js'
import type { Toolchain } from '../../src/matrix/toolchain.js'
import type { TargetReport } from '../../src/matrix/types.js'
import { gcReadiness, qualityScore } from '../../src/matrix/verdicts.js'
import { hasRefTypes, scanModule, stripCustomSections } from '../../src/matrix/wasm-scan.js'
import { ADD_MODULE } from '../helpers/wasm.js'
import { FIXTURES } from './helpers.js'

describe('wasm feature scan (research notes §5.5)', () => {
  it.each([
    ['MVP, with prefix bytes only inside immediates and data', '(module (memory 1) (func (result i32) (i32.const 252)) (func (result i64) (i64.const 0xfdfefb)) (data (i32.const 0) "\\fc\\fd\\fe\\fb"))', []],
    ['bulk memory', '(module (memory 1) (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))', ['bulk-memory']],
    ['SIMD constant', '(module (func (result v128) (v128.const i32x4 1 2 3 4)))', ['simd']],
    ['SIMD lane access after a load', '(module (memory 1) (func (result i32) (i32x4.extract_lane 2 (v128.load (i32.const 0)))))', ['simd']],
    ['threads', '(module (memory 1 1 shared) (func (result i32) (i32.atomic.load (i32.const 0))))', ['threads']],
    ['multi-value', '(module (func (result i32 i32) (i32.const 1) (i32.const 2)))', ['multi-value']],
    ['reference types', '(module (import "host" "f" (func (param externref))))', ['reference-types']],
    ['GC types and instructions', '(module (type $s (struct (field i32))) (func (result i32) (struct.get $s 0 (struct.new $s (i32.const 7)))))', ['gc']],
    ['exceptions', '(module (tag $e (param i32)) (func (throw $e (i32.const 1))))', ['exceptions']],
    ['exceptions with exnref', '(module (tag $e) (func (block $h (result exnref) (try_table (catch_all_ref $h) (throw $e)) (unreachable)) (drop)))', ['exceptions']],
    ['sign extension', '(module (func (param i32) (result i32) (i32.extend8_s (local.get 0))))', ['sign-ext']],
    ['tail calls', '(module (func $f (return_call $f)))', ['tail-call']],
    ['saturating conversions', '(module (func (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0))))', ['nontrapping-fptoint']],
    ['memory64', '(module (memory i64 1))', ['memory64']],
    ['multi-memory', '(module (memory 1) (memory $b 1) (func (result i32) (i32.load $b (i32.const 0))))', ['multi-memory']],
  ])('%s', async (_name, wat, features) => {
    const scan = scanModule(await parse(wat))
    expect([...scan.features].sort()).toEqual(features)
    expect(scan.undecoded).toBe(0)
  })

  it('reads imports, exports, signatures and memory limits', async () => {
    const bytes = await parse(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (import "env" "log" (func (param i32)))
      (import "__wbindgen_placeholder__" "__wbindgen_object_drop_ref" (func (param i32)))
      (import "host" "get" (func (result externref)))
      (memory (export "memory") 3 40)
      (func (export "run") (param externref) (result i32) (i32.const 0)))`)
    const scan = scanModule(bytes)
    expect(scan.memory).toEqual({ initial: 3, max: 40, shared: false, memory64: false })
    expect(scan.exports.map((e) => `${e.name}:${e.kind}`)).toEqual(['memory:memory', 'run:func'])
    expect(hasRefTypes(scan.exports.find((e) => e.name === 'run')!.sig)).toBe(true)
    expect(hasRefTypes(scan.imports.find((i) => i.name === 'log')!.sig)).toBe(false)
    expect(classifyImports(scan.imports)).toEqual({
      wasi: ['wasi_snapshot_preview1::fd_write'],
      env: ['env::log'],
      wasm_bindgen: ['__wbindgen_placeholder__::__wbindgen_object_drop_ref'],
      other: ['host::get'],
    })
  })

  it('strips custom sections and the result still validates', async () => {
    const bytes = await parse('(module (@custom "notes" "0123456789012345678901234567890123456789") (func (export "f") (result i32) (i32.const 1)))')
    const stripped = stripCustomSections(bytes)
    expect(scanModule(bytes).customSections).toContain('notes')
    expect(scanModule(stripped).customSections).toEqual([])
    expect(stripped.length).toBeLessThan(bytes.length)
    expect(WebAssembly.validate(stripped as Uint8Array<ArrayBuffer>)).toBe(true)
    const sizes = sizeMetrics(bytes, 'f.wasm', 'artifact')
    expect(sizes.raw).toBe(bytes.length)
    expect(sizes.stripped).toBe(stripped.length)
    expect(sizes.code).toBeGreaterThan(0)
  })

  it('gives a plain module its figures', () => {
    const m = wasmMetrics(ADD_MODULE)
    expect(m.features).toEqual([])
    expect(m.exports).toEqual(['add'])
    expect(m.memory.initial_pages).toBeNull()
  })
})

describe('libtest output', () => {
  const complete = [
    '',
    'running 4 tests',
    'test tests::a ... ok',
    'test tests::b ... FAILED',
    'test tests::c ... ignored, needs a network',
    'test tests::d ... ok',
    '',
    'failures:',
    '',
    '---- tests::b stdout ----',
    "thread 'tests::b' panicked at 'attempt to divide by zero', src/lib.rs:5:10",
    'note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace',
    '',
    '',
    'failures:',
    '    tests::b',
    '',
    'test result: FAILED. 2 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s',
  ].join('\n')

  it('counts results and reads the summary', () => {
    const parsed = parseLibtest(complete)
    expect(parsed.planned).toBe(4)
    expect(parsed.results.map((r) => r.outcome)).toEqual(['ok', 'failed', 'ignored', 'ok'])
    expect(parsed.summary).toMatchObject({ ok: false, passed: 2, failed: 1, ignored: 1 })
    expect(parsed.unfinished).toBeNull()
    expect(failureBlocks(complete).map(([name]) => name)).toEqual(['tests::b'])
  })

  it.each([
    ["thread 'x' panicked at 'boom', src/lib.rs:3:5", { message: 'boom', location: 'src/lib.rs:3:5' }],
    ["thread 'x' (123) panicked at src/lib.rs:3:5:\nboom\nnote: ...", { message: 'boom', location: 'src/lib.rs:3:5' }],
    ['no panic here', null],
  ])('finds the panic in %j', (text, expected) => {
    expect(firstPanic(text)).toEqual(expected)
  })

  it("reads output a crate shaped against the parsers in one pass: each step finishes, where it took hours", () => {
    // Each of these is some 10 MiB that a test can print; the parsers' patterns once scanned to the end from every
    // occurrence, a cost of occurrences times length. The vitest timeout is the bound, some thousand times what it takes.
    const panics = "panicked at '".repeat(800_000)
    expect(firstPanic(panics)).toBeNull()
    expect(firstPanic(`${panics}\nthread 'x' panicked at 'real', src/lib.rs:1:1`)).toBeNull()
    expect(firstPanic(`${'x'.repeat(10_000_000)}thread 'x' panicked at 'late', src/lib.rs:2:3`)).toEqual({ message: 'late', location: 'src/lib.rs:2:3' })
    const heads = '---- a stdout ----\n'.repeat(500_000)
    expect(failureBlocks(heads)).toHaveLength(500_000)
    expect(failureBlocks(`${heads}\nfailures:\n    a\n`).at(-1)).toEqual(['a', '\n'])
    const line = `test x${' ... ok, y'.repeat(1_000_000)}`
    expect(parseLibtest(`running 1 test\n${line}\ntest result: ok. 1 passed; 0 failed; 0 ignored`)).toMatchObject({ results: [], summary: { passed: 1 } })
  }, 60_000)

  it('sees the test that was running when the process died', () => {
    const parsed = parseLibtest('running 3 tests\ntest a ... ok\ntest b ... ')
    expect(parsed.unfinished).toBe('b')
    expect(parsed.summary).toBeNull()
  })

  it('restarts a binary that traps until every test has a result', async () => {
    // A scripted harness that behaves as libtest does under panic=abort: tests b and d trap.
    const tests = ['a', 'b', 'c', 'd', 'e']
    const traps = new Set(['b', 'd'])
    const calls: string[][] = []
    const exec = async (args: string[]): Promise<BinaryRun> => {
      calls.push(args)
      const skip = args.flatMap((a, i) => (args[i - 1] === '--skip' ? [a] : []))
      const only = args.includes('--nocapture') ? args[0] : undefined
      const run = tests.filter((t) => (only ? t === only : !skip.includes(t)))
      let out = `running ${run.length} tests\n`
      for (const t of run) {
        if (traps.has(t)) return { stdout: `${out}test ${t} ... `, stderr: `thread 'main' panicked at '${t} broke', src/lib.rs:1:1\n`, code: 134, timedOut: false, wallMs: 1 }
        out += `test ${t} ... ok\n`
      }
      return { stdout: `${out}\ntest result: ok. ${run.length} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n`, stderr: '', code: 0, timedOut: false, wallMs: 1 }
    }
    const all = await runAllTests(exec)
    expect({ passed: all.passed, failed: all.failed, aborted: all.aborted }).toEqual({ passed: 3, failed: 2, aborted: ['b', 'd'] })
    expect(all.panics.map((p) => [p.test, p.message])).toEqual([
      ['b', 'b broke'],
      ['d', 'd broke'],
    ])
    expect(all.summary).toBeNull()
    expect(all.exitCode).toBe(134)
    // Whole run, b alone, run past a and b, d alone, run past a-d.
    expect(calls.length).toBe(5)
    expect(calls[2]).toEqual(['--exact', '--skip', 'a', '--skip', 'b'])
  })

  it('stops restarting, with the reason, before the names to skip outgrow a command line', async () => {
    // Every test traps, and each name is long: restarting past all of them would ask the kernel for more than it takes.
    const tests = Array.from({ length: 2000 }, (_, i) => `t${String(i).padStart(4, '0')}_${'x'.repeat(2000)}`)
    let longest = 0
    const exec = async (args: string[]): Promise<BinaryRun> => {
      const bytes = args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0)
      longest = Math.max(longest, bytes)
      // What spawn does past Linux's limit on arguments and environment together.
      if (bytes > 2 * 1024 * 1024) throw Object.assign(new Error('spawn E2BIG'), { code: 'E2BIG' })
      const skip = new Set(args.flatMap((a, i) => (args[i - 1] === '--skip' ? [a] : [])))
      const next = args.includes('--nocapture') ? args[0]! : tests.find((t) => !skip.has(t))!
      return { stdout: `running ${tests.length - skip.size} tests\ntest ${next} ... `, stderr: `thread 'main' panicked at 'broke', src/lib.rs:1:1\n`, code: 134, timedOut: false, wallMs: 1 }
    }
    const all = await runAllTests(exec)
    expect(all.stopped).toMatch(/^stopped after \d+ runs: the \d+ tests done, each skipped by name, would not fit on the command line of another restart$/)
    expect(all.failed).toBe(all.aborted.length)
    expect(all.failed).toBeGreaterThan(400)
    expect(longest).toBeLessThan(1.1 * 1024 * 1024)
  })
})

describe('cargo output', () => {
  it.each([
    ['getrandom 0.2.8 (registry+https://github.com/rust-lang/crates.io-index)', { name: 'getrandom', version: '0.2.8' }],
    ['registry+https://github.com/rust-lang/crates.io-index#getrandom@0.2.8', { name: 'getrandom', version: '0.2.8' }],
    ['path+file:///tmp/x/wharf-fixture-dice#0.1.0', { name: 'wharf-fixture-dice', version: '0.1.0' }],
    ['path+file:///tmp/x/dir#my-crate@1.2.3', { name: 'my-crate', version: '1.2.3' }],
    ['nonsense', null],
  ])('package id %s', (id, expected) => {
    expect(parsePackageId(id)).toEqual(expected)
  })

  it.each([
    ['   Compiling x\nerror: could not compile `getrandom` due to previous error', { name: 'getrandom', version: null }],
    ['error: could not compile `ring` (lib) due to 1 previous error', { name: 'ring', version: null }],
    ['error: failed to run custom build command for `openssl-sys v0.9.80`', { name: 'openssl-sys', version: '0.9.80' }],
  ])('first failing crate in %j', (stderr, expected) => {
    expect(firstCargoFailure(stderr)).toMatchObject(expected)
  })

  it("reads only messages shaped as cargo writes them, and the artifact lines at the end of an output too long to keep", async () => {
    // A cargo that prints what a build script or proc macro could put on its stream, then 9 MiB of warnings, then the
    // artifact line a test run needs, as cargo writes it last.
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-fake-cargo-'))
    const artifact = (name: string) => JSON.stringify({ reason: 'compiler-artifact', package_id: 'x 0.1.0 (path+file:///x)', target: { name, kind: ['lib'] }, profile: { test: true }, filenames: [`/t/${name}`], executable: `/t/${name}` })
    const warning = JSON.stringify({ reason: 'compiler-message', package_id: 'x 0.1.0 (path+file:///x)', message: { level: 'warning', message: 'unused', rendered: 'w'.repeat(900) } })
    const lines = ['{"reason":"compiler-artifact"}', '{"reason":"compiler-artifact","target":{"name":1}}', '{"reason":"compiler-message","message":null}', '{"reason":"compiler-message","message":{"level":"error"}}', artifact('first')]
    fs.writeFileSync(path.join(dir, 'head'), `${lines.join('\n')}\n`)
    fs.writeFileSync(path.join(dir, 'warnings'), `${Array.from({ length: 10_000 }, () => warning).join('\n')}\n`)
    fs.writeFileSync(path.join(dir, 'last'), `${artifact('last')}\n`)
    const fake = path.join(dir, 'cargo')
    fs.writeFileSync(fake, `#!/bin/sh\ncat '${dir}/head' '${dir}/warnings' '${dir}/last'\n`, { mode: 0o755 })
    const toolchain = { cargo: fake, env: { PATH: process.env.PATH } } as unknown as Toolchain
    const run = await cargo({ toolchain, triple: null, cwd: dir, targetDir: path.join(dir, 'target'), timeoutMs: 60_000, offline: true }, 'test', ['--no-run'])
    expect(run.ok).toBe(true)
    expect(run.artifacts.map((a) => a.target.name)).toEqual(['first', 'last'])
    expect(run.errors).toEqual([])
    expect(run.output.stdout.length).toBeLessThan(8.5 * 1024 * 1024)
    expect(run.output.stdout).toMatch(/\n\[wharf: \d+ bytes of output dropped\]\n\{"reason"/)
  })

  it('reads cargo metadata over 8 MiB whole, and says so of one that is no JSON or larger than it keeps', async () => {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-fake-metadata-'))
    const root = { id: 'big 0.1.0 (path+file:///x)', name: 'big', version: '0.1.0', manifest_path: `${dir}/Cargo.toml`, targets: [], metadata: { blob: 'm'.repeat(9 * 1024 * 1024) } }
    fs.writeFileSync(path.join(dir, 'big.json'), JSON.stringify({ packages: [root], resolve: { root: root.id, nodes: [{ id: root.id, dependencies: [], features: [] }] }, workspace_members: [root.id], workspace_root: dir }))
    const fake = (name: string, script: string) => {
      fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 })
      return { toolchain: { cargo: path.join(dir, name), env: { PATH: process.env.PATH } } as unknown as Toolchain, triple: null, cwd: dir, targetDir: path.join(dir, 'target'), timeoutMs: 60_000, offline: true }
    }
    // A [package.metadata] table of 9 MiB: the step used to keep 8 MiB of it, and the cut JSON threw out of the matrix.
    const big = await cargoMetadata(fake('cargo-big', `cat '${dir}/big.json'`))
    expect(big.error).toBeNull()
    expect(big.metadata?.root.metadata).toEqual(root.metadata)
    expect(await cargoMetadata(fake('cargo-text', 'echo "not json"'))).toMatchObject({ metadata: null, error: expect.stringContaining('cargo metadata printed no JSON') })
    expect(await cargoMetadata(fake('cargo-huge', 'head -c 70000000 /dev/zero | tr "\\0" " "'))).toMatchObject({ metadata: null, error: expect.stringMatching(/^cargo metadata printed over 64 MiB/) })
  }, 60_000)

  it('takes the first line of a cargo error', () => {
    expect(firstErrorLine('warning: x\nerror: failed to parse manifest at `/x/Cargo.toml`\n\nCaused by: ...')).toBe('failed to parse manifest at `/x/Cargo.toml`')
  })
})

describe('a step', () => {
  it('ends a step when its process exits, though a child that left its group holds the output open', async () => {
    // A test that starts a daemon (setsid) which keeps the step's stdout: libtest would be done, the pipe not.
    const started = Date.now()
    const step = await runStep('sh', ['-c', 'setsid sleep 60 & echo "$!"; echo done'], { cwd: os.tmpdir(), env: { PATH: process.env.PATH }, timeoutMs: 120_000 })
    try {
      expect(step).toMatchObject({ code: 0, timedOut: false })
      expect(step.stdout).toMatch(/^\d+\ndone\n$/)
      expect(Date.now() - started).toBeLessThan(15_000)
    } finally {
      const pid = Number(step.stdout.split('\n')[0])
      if (pid > 0) process.kill(pid, 'SIGKILL')
    }
  }, 30_000)
})

describe('where a crate is built', () => {
  it('refuses a directory above which another user left a cargo configuration, as in a shared /tmp', async () => {
    expect(process.getuid?.(), 'giving a directory to another user takes root, which CI runs as').toBe(0)
    const shared = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-shared-'))
    const planted = path.join(shared, '.cargo')
    fs.mkdirSync(planted)
    fs.writeFileSync(path.join(planted, 'config.toml'), '[build]\nrustc-wrapper = "/nonexistent/their-wrapper"\n')
    for (const file of [planted, path.join(planted, 'config.toml')]) fs.chownSync(file, 65534, 65534)
    const work = path.join(shared, 'mine')
    fs.mkdirSync(work)
    await expect(runMatrix({ input: path.join(FIXTURES, 'calc'), targets: ['native'], workDir: work })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining(`${planted} belongs to another user, and cargo would read it`),
      hint: expect.stringContaining('--work-dir'),
    })
    expect(fs.readdirSync(work)).toEqual([])
    // This user's own (or root's) configuration is cargo's to read, as it always is.
    for (const file of [planted, path.join(planted, 'config.toml')]) fs.chownSync(file, process.getuid!(), process.getgid!())
    expect(foreignCargoConfig(work)).toBeUndefined()
  })
})

describe('a crate directory holding a FIFO', () => {
  it('is refused by the name of that file, not copied until the copy fails', async () => {
    const crate = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-fifo-crate-'))
    fs.mkdirSync(path.join(crate, 'src'))
    fs.writeFileSync(path.join(crate, 'Cargo.toml'), '[package]\nname = "fifo"\nversion = "0.1.0"\nedition = "2021"\n')
    fs.writeFileSync(path.join(crate, 'src/lib.rs'), 'pub fn f() {}\n')
    execFileSync('mkfifo', [path.join(crate, 'src/pipe')])
    await expect(runMatrix({ input: crate, targets: ['native'] })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/^src\/pipe in .* is a FIFO, not a file/) })
  }, 60_000)
})

describe('hint table', () => {
  it.each([
    ['getrandom', 'wasm32-unknown-unknown', 'target is not supported', /`js` feature/],
    ['getrandom', 'wasm32-wasip1', 'use of undeclared crate or module `wasi`', /`wasi` dependency/],
    ['mio', 'wasm32-unknown-unknown', 'error', /sockets/],
    ['tokio', 'wasm32-wasip1', 'error', /sync, macros, io-util, rt and time/],
    ['ring', 'wasm32-unknown-unknown', 'error', /clang/],
    ['openssl-sys', 'wasm32-wasip1', 'error', /native library/],
    ['my-crate', 'wasm32-wasip1', 'failed to spawn thread: Unsupported\n/usr/src/rustc-1.63.0/library/std/src/thread/mod.rs:656:29', /thread::spawn/],
    ['my-crate', 'wasm32-wasip1', 'bind: Error { kind: Unsupported, message: "operation not supported on this platform" }', /std API/],
    ['my-crate', 'wasm32-wasip1', 'No such file or directory\nlibrary/std/src/fs.rs', /pre-opened/],
    ['my-crate', 'native', 'assertion failed', null],
  ] as const)('%s on %s', (crate, target, text, hint) => {
    const found = hintFor(crate, target, text)
    if (hint === null) expect(found).toBeNull()
    else expect(found).toMatch(hint)
  })

  it('names the native library of a crate with `links`', () => {
    expect(hintFor('zstd-safe', 'wasm32-unknown-unknown', 'error', 'zstd')).toMatch(/"zstd"/)
  })
})

describe('targets', () => {
  it('maps old names and keeps matrix order', () => {
    expect(parseTargets('wasm32-wasi,native,native')).toEqual(['native', 'wasm32-wasip1'])
    expect(() => parseTargets('wasm64-unknown-unknown')).toThrow(/unknown target/)
    expect(() => parseTargets(',')).toThrow(/empty/)
  })
})

describe('verdicts', () => {
  it('climbs the GC ladder only while every rung below is met', () => {
    const met = { met: true, evidence: '' }
    const unmet = { met: false, evidence: '' }
    expect(gcReadiness({ g1: met, g2: met, g3: unmet, g4: met }).level).toBe('G2')
    expect(gcReadiness({ g1: { met: null, evidence: '' }, g2: met, g3: met, g4: met }).level).toBe('G0')
    expect(gcReadiness({ g1: met, g2: met, g3: met, g4: met }).level).toBe('G4')
  })

  it('leaves parts that do not apply out of the total', () => {
    const target = (status: 'pass' | 'fail' | 'unavailable', passed: number, failed: number): TargetReport => ({
      target: 'native',
      status,
      toolchain: null,
      runtime: null,
      build: { status: status === 'unavailable' ? 'unavailable' : 'pass' },
      test: status === 'unavailable' ? { status: 'unavailable' } : { status: failed ? 'fail' : 'pass', passed, failed, ignored: 0 },
      blame: [],
      metrics: { wall_ms: { build: 0, test_build: 0, test_run: 0, total: 0 }, size: null, wasm: null, component: null, native: null },
    })
    const score = qualityScore({ targets: [target('pass', 3, 1), target('unavailable', 0, 0)], dependencies: { total: 4, incompatible: ['mio'] }, manifest: null, signature: 'signed' })
    const parts = Object.fromEntries(score.breakdown.map((p) => [p.name, p.value]))
    expect(parts).toEqual({ build_coverage: 1, test_pass_rate: 0.75, dependency_compatibility: 0.75, metadata_completeness: null, signature_level: 0.7, size: null })
    // (30·1 + 25·0.75 + 15·0.75 + 10·0.7) / 80
    expect(score.total).toBe(Math.round((100 * (30 + 18.75 + 11.25 + 7)) / 80))
  })
})

describe('WIT worlds', () => {
  it('lists imports, exports and exported resources', () => {
    const wit = `package wharf:calc@0.1.0;

interface counters {
  resource counter {
    constructor(start: s32);
  }
}

world calc {
  import wasi:cli/stdout@0.2.0;
  export add: func(a: s32, b: s32) -> s32;
  export counters;
  export shapes: interface {
    resource square {
      area: func() -> u32;
    }
  }
}
`
    expect(parseWorld(wit)).toEqual({
      imports: ['wasi:cli/stdout@0.2.0'],
      exports: ['add', 'counters', 'shapes'],
      resources: ['counters/counter', 'shapes/square'],
    })
  })
})
