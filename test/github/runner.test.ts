/**
 * The workflow runner on a sample repository (test/github/fixtures/sample-repo):
 * needs, matrix, if, outputs, permissions, a `uses: ./` node action, the stand-ins,
 * triggers (push, pull_request paths, workflow_run, schedule, workflow_dispatch),
 * and what it refuses.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { parseCommands, parseFileCommands } from './runner/commands.js'
import { evaluate } from './runner/expressions.js'
import { globToRegExp, matchesFilter } from './runner/globs.js'
import { createRunner, type Runner, type WorkflowRunResult } from './runner/runner.js'
import { expandMatrix } from './runner/workflow.js'
import { clone, git, pushBranch, rest, tempDir, useEmulator } from './helpers.js'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')
const ctx = useEmulator()
let runner: Runner
let alice: string
let pagesDir: string

async function seedRepo(): Promise<string> {
  const dir = path.join(await tempDir(), 'sample')
  await fs.promises.cp(path.join(FIXTURES, 'sample-repo'), dir, { recursive: true })
  await git(dir, 'init', '-q', '--initial-branch=main')
  await git(dir, 'add', '-A')
  await git(dir, 'commit', '-qm', 'Sample repository')
  return dir
}

function job(run: WorkflowRunResult, id: string) {
  const found = run.jobs.filter((j) => j.id === id)
  if (found.length === 0) throw new Error(`no job ${id} in ${run.workflow}: ${run.jobs.map((j) => j.id).join(', ')}`)
  return found
}

beforeAll(async () => {
  ctx.emu.createUser('alice')
  ctx.emu.createUser('mallory')
  await ctx.emu.createRepo('alice/sample', { from: await seedRepo() })
  alice = ctx.emu.mintToken({ user: 'alice' })
  pagesDir = path.join(await tempDir(), 'pages')
  runner = createRunner({ emulator: ctx.emu, repo: 'alice/sample', secrets: { DEPLOY_KEY: 'super-secret-deploy-key' }, pagesDir, pagesUrl: 'http://pages.invalid/sample/' })
})

describe('a push to main', () => {
  let runs: WorkflowRunResult[]
  beforeAll(async () => {
    const work = await clone(ctx.emu, 'alice/sample', alice)
    await pushBranch(work, 'main', { 'src/lib.rs': 'pub fn answer() -> u32 { 43 }\n' })
    runs = await runner.drain()
  }, 240_000)

  it('runs the workflows whose on: matches, and the workflow_run one its completion triggers', () => {
    expect(runs.map((r) => `${r.workflow}:${r.event}`)).toEqual(['.github/workflows/sample.yml:push', '.github/workflows/follow.yml:workflow_run'])
    const [sample] = runs
    // try-push fails (read-only token), so the run fails; everything else ran as planned.
    expect(sample!.conclusion).toBe('failure')
  })

  it('passes outputs through needs and expands the matrix with exclude and include', () => {
    const [sample] = runs
    const [plan] = job(sample!, 'plan')
    expect(plan!.outputs).toEqual({ targets: '["native","wasm32-wasip1"]', greeting: 'hi' })
    const legs = job(sample!, 'build')
    expect(legs.map((l) => l.matrix)).toEqual([
      { target: 'native', profile: 'debug', extra: 'extended' },
      { target: 'native', profile: 'release', extra: 'extended' },
      { target: 'wasm32-wasip1', profile: 'release' },
    ])
    expect(legs.every((l) => l.conclusion === 'success')).toBe(true)
    const wasmtime = legs.map((l) => l.steps[1]!.outcome)
    expect(wasmtime).toEqual(['skipped', 'skipped', 'success'])
    expect(legs[2]!.steps[1]!.log).toMatch(/stand-in for bytecodealliance\/actions\/wasmtime\/setup/)
  })

  it("runs the repo's own node action as the runner does: INPUT_* with hyphens, GITHUB_OUTPUT, the summary and annotations", () => {
    const [native] = job(runs[0]!, 'build')
    const act = native!.steps.find((s) => s.id === 'act')!
    expect(act.outputs).toEqual({ echoed: 'hi index/native', details: `event=push\nsha=${act.outputs.details!.split('sha=')[1]}` })
    expect(act.outputs.details).toMatch(/^event=push\nsha=[0-9a-f]{40}$/)
    expect(act.log).toMatch(/token present: true/)
    expect(act.log).toMatch(/masked: \*\*\*/)
    expect(native!.summary).toBe('### sample action\n- hi from index/native on alice/sample\n')
    expect(native!.annotations).toEqual([{ level: 'warning', file: 'index/native/registry.json', line: 1, title: 'sample', message: 'checked index/native\nfor an event' }])
  })

  it('uploads artifacts per leg and downloads them all in a later job', () => {
    const [collect] = job(runs[0]!, 'collect')
    expect(collect!.outputs.files).toBe('native-debug.txt native-release.txt wasm32-wasip1-release.txt ')
  })

  it('gives each job a token with exactly its permissions: a read-only job cannot push, a contents: write job can', async () => {
    const [tryPush] = job(runs[0]!, 'try-push')
    expect(tryPush!.conclusion).toBe('failure')
    expect(tryPush!.steps[1]!.log).toMatch(/403|denied/)
    expect(tryPush!.permissions).toEqual({ contents: 'read' })
    const [canPush] = job(runs[0]!, 'can-push')
    expect(canPush!.conclusion).toBe('success')
    const bare = ctx.emu.requireRepo('alice/sample').dir
    expect((await git(bare, 'branch', '--list')).split('\n').map((s) => s.trim())).toEqual(expect.arrayContaining(['from-write-job']))
    expect(await git(bare, 'branch', '--list', 'from-read-only')).toBe('')
  })

  it('runs if: failure() after a failed need and skips the job that needed it to succeed', () => {
    expect(job(runs[0]!, 'after-failure')[0]!.conclusion).toBe('success')
    expect(job(runs[0]!, 'never')[0]!.conclusion).toBe('skipped')
  })

  it('passes a secret only where the workflow names it, masked in the log', () => {
    const [secrets] = job(runs[0]!, 'secrets')
    expect(secrets!.steps[0]!.log).toBe('key: ***')
    expect(secrets!.log).not.toMatch(/super-secret-deploy-key/)
  })

  it('downloads another run’s artifact by run-id with the job token in the workflow_run workflow', () => {
    const follow = runs[1]!
    expect(follow.conclusion).toBe('success')
    const [fetchJob] = job(follow, 'fetch')
    expect(fetchJob!.steps[1]!.log).toBe('native debug from-workflow hi index/native extended')
    expect(fetchJob!.steps[2]!.log).toBe('conclusion=failure')
    expect(job(follow, 'nightly')[0]!.conclusion).toBe('skipped')
  })

  it("does not start runs for the write job's own push (GITHUB_TOKEN events start nothing)", async () => {
    expect(await runner.drain()).toEqual([])
  })
})

describe('a pull request from a fork', () => {
  it('gets a read-only token and no secrets, whatever the workflow asks, and path filters pick the workflows', async () => {
    const mallory = ctx.emu.mintToken({ user: 'mallory' })
    expect((await rest(ctx.emu, mallory, 'POST', '/repos/alice/sample/forks', {})).status).toBe(202)
    const work = await clone(ctx.emu, 'mallory/sample', mallory)
    await pushBranch(work, 'docs-only', { 'README.md': 'docs\n' })
    await pushBranch(work, 'code', { 'src/lib.rs': 'pub fn answer() -> u32 { 0 }\n' })
    ctx.emu.takeDeliveries()
    expect((await rest(ctx.emu, mallory, 'POST', '/repos/alice/sample/pulls', { title: 'Docs', head: 'mallory:docs-only', base: 'main' })).status).toBe(201)
    expect(await runner.drain()).toEqual([])

    expect((await rest(ctx.emu, mallory, 'POST', '/repos/alice/sample/pulls', { title: 'Code', head: 'mallory:code', base: 'main' })).status).toBe(201)
    const [pr] = await runner.drain()
    expect(pr).toMatchObject({ workflow: '.github/workflows/pr.yml', event: 'pull_request', conclusion: 'failure' })
    const [secrets] = job(pr!, 'secrets')
    expect(secrets!.steps[0]).toMatchObject({ outcome: 'failure', conclusion: 'success' })
    expect(secrets!.steps[1]!.log).toBe('outcome=failure conclusion=success')
    const [write] = job(pr!, 'asks-for-write')
    expect(write!.permissions).toEqual({ contents: 'read' })
    expect(write!.steps[1]!.log).toMatch(/denied/)
    const run = ctx.emu.requireRepo('alice/sample').runs.find((r) => r.id === pr!.runId)!
    expect(run.pullRequests).toEqual([])
    expect(run.headSha).toBe(ctx.emu.pull('alice/sample', 2).headSha)
  }, 240_000)
})

describe('schedule, workflow_dispatch and Pages', () => {
  it('runs the scheduled job only on a schedule', async () => {
    const [follow] = await runner.schedule('17 3 * * *')
    expect(follow!.event).toBe('schedule')
    expect(job(follow!, 'fetch')[0]!.conclusion).toBe('skipped')
    expect(job(follow!, 'nightly')[0]!.steps[0]!.log).toBe('scheduled by 17 3 * * *')
  })

  it('deploys the Pages artifact into the directory nginx serves, with pages and id-token write', async () => {
    const result = await runner.workflowDispatch('.github/workflows/pages.yml')
    expect(result.conclusion).toBe('success')
    expect(job(result, 'deploy')[0]!.outputs).toEqual({})
    let nginx: Nginx | undefined
    try {
      nginx = await startNginx(pagesDir)
      expect(await (await fetch(`${nginx.url}/index.html`)).text()).toMatch(/deployed by the pages workflow/)
      expect(await (await fetch(`${nginx.url}/where.txt`)).text()).toBe('base=http://pages.invalid/sample\n')
    } finally {
      await nginx?.stop()
    }
  }, 120_000)

  it('passes workflow_dispatch inputs, with their defaults and types', async () => {
    const given = await runner.workflowDispatch('.github/workflows/inputs.yml', { greeting: 'ahoy', loud: 'true' })
    expect(job(given, 'echo')[0]!.steps[0]!.log).toBe('ahoy loud=true ref=main')
    const defaults = await runner.workflowDispatch('.github/workflows/inputs.yml')
    expect(job(defaults, 'echo')[0]!.steps[0]!.log).toBe('hello loud=false ref=main')
  })
})

describe('what the runner refuses', () => {
  it('fails a step that uses an unpinned action or one without a stand-in, saying why', async () => {
    const result = await runner.runFile(path.join(FIXTURES, 'workflows', 'refused.yml'), { name: 'workflow_dispatch', payload: { inputs: {}, ref: 'refs/heads/main' } })
    expect(result.conclusion).toBe('failure')
    expect(job(result, 'unpinned')[0]!.steps[0]!.log).toMatch(/actions\/checkout@v4 is not pinned to a full 40-hex commit sha/)
    expect(job(result, 'unknown')[0]!.steps[0]!.log).toMatch(/someone\/something has no stand-in/)
  })
})

describe('continue-on-error, timeouts, GITHUB_ENV and GITHUB_PATH', () => {
  it('tolerates a failing leg whose continue-on-error comes from the matrix, kills a step at its timeout, and carries env and PATH to later steps', async () => {
    const result = await runner.runFile(path.join(FIXTURES, 'workflows', 'tolerant.yml'), { name: 'workflow_dispatch', payload: { inputs: {}, ref: 'refs/heads/main' } })
    expect(result.conclusion).toBe('success')
    expect(job(result, 'flaky').map((l) => [l.matrix, l.conclusion])).toEqual([
      [{ experimental: false }, 'success'],
      [{ experimental: true }, 'failure'],
    ])
    const [slow] = job(result, 'slow')
    expect(slow!.conclusion).toBe('failure')
    expect(slow!.steps[0]!.log).toMatch(/longer than its timeout/)
    expect(job(result, 'env-and-path')[0]!.steps[1]!.log).toBe('hi tool-ran')
  })
})

describe('the pieces, table-driven', () => {
  it.each([
    ['main', 'main', true],
    ['releases/**', 'releases/v1/x', true],
    ['releases/*', 'releases/v1/x', false],
    ['**.js', 'a/b/c.js', true],
    ['docs/**', 'docs/a.md', true],
    ['v[12].*', 'v2.0', true],
    ['v[12].*', 'v3.0', false],
  ])('glob %s against %s is %s', (pattern, value, expected) => {
    expect(globToRegExp(pattern).test(value)).toBe(expected)
  })

  it('applies ! patterns in order', () => {
    expect(matchesFilter(['releases/**', '!releases/**-alpha'], 'releases/v1-alpha')).toBe(false)
    expect(matchesFilter(['releases/**', '!releases/**-alpha'], 'releases/v1')).toBe(true)
  })

  it.each([
    ["contains(fromJSON('[\"a\",\"b\"]'), 'b')", true],
    ["format('{0}-{1}', 'a', 1)", 'a-1'],
    ["github.event_name == 'push' && 'yes' || 'no'", 'yes'],
    ['toJSON(matrix)', '{\n  "x": 1\n}'],
    ['success() && !failure()', true],
  ])('evaluates %s', (expression, expected) => {
    expect(evaluate(expression, { github: { event_name: 'push' }, matrix: { x: 1 } })).toEqual(expected)
  })

  it('expands a matrix with include only', () => {
    expect(expandMatrix({ include: [{ a: 1 }, { a: 2 }] })).toEqual([{ a: 1 }, { a: 2 }])
  })

  it('reads workflow commands and file commands', () => {
    const parsed = parseCommands('plain\n::error file=a.ts,line=3,col=2::bad%0Athing\n::stop-commands::tok\n::warning::ignored\n::tok::\n::notice title=T%3Ax::n')
    expect(parsed.annotations).toEqual([
      { level: 'error', file: 'a.ts', line: 3, col: 2, message: 'bad\nthing' },
      { level: 'notice', title: 'T:x', message: 'n' },
    ])
    expect(parseFileCommands('a=1\nb<<EOF\nx\ny\nEOF\n', 'GITHUB_OUTPUT')).toEqual({ a: '1', b: 'x\ny' })
    expect(() => parseFileCommands('b<<EOF\nx\n', 'GITHUB_OUTPUT')).toThrow(/never closed/)
  })
})

