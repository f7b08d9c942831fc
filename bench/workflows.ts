/**
 * One publish end to end through the workflow files on the emulator, as
 * GitHub would run them: a component repo's publish workflow (the README's
 * template), then the index repo's validate, merge and release, and a re-run
 * of release on the same push. Reports the REST calls each workflow run made
 * (and their sum: the cost of a publish), and per job wharf's own time: the
 * wall time of its `uses: ./` (or pinned wharf) steps, each a whole
 * `node dist/action/index.js` process, beside the job's whole step time and
 * the time the emulator took to answer the run's REST calls (which a step's
 * wall time includes, and GitHub's network would replace). No
 * queueing is counted (the runner starts each job at once), and the matrix
 * leg of a component runs no cargo. Loopback only.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { createIndexFixture, REPO, type IndexFixture } from '../test/action/fixture.js'
import { startEmulator, type Emulator } from '../test/github/emulator/emulator.js'
import type { Delivery } from '../test/github/emulator/state.js'
import { createRunner, type Runner, type WorkflowRunResult } from '../test/github/runner/runner.js'
import { component } from '../test/helpers/wasm.js'
import { table } from './_util.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ACTION = `wharf/wharf@${'c0ffee'.repeat(6)}c0ff`

/** The README's publish template, pointed at this checkout's Action and the bench's index repo. */
function publishWorkflow(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const block = /```yaml\n(on: workflow_dispatch\n[\s\S]*?)```/.exec(readme)?.[1]
  if (!block) throw new Error('README.md has no publish workflow template')
  return block.replace('acme/wharf@<40-hex commit>', ACTION).replace(/index-repo: \S+/, `index-repo: ${REPO}`)
}

const isWharf = (uses: string | undefined) => uses === './' || uses?.startsWith('wharf/wharf@') === true

function restCalls(emu: Emulator, mark: number): { calls: number; writes: number; emulatorMs: number } {
  const made = emu.requests.slice(mark).filter((r) => r.operationId !== undefined)
  return { calls: made.length, writes: made.filter((r) => r.method !== 'GET').length, emulatorMs: made.reduce((n, r) => n + (r.ms ?? 0), 0) }
}

export async function run(): Promise<void> {
  const emu = await startEmulator({ forkDelayMs: 0 })
  const home = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-workflows-'))
  let fx: IndexFixture | undefined
  try {
    const files = Object.fromEntries(['validate.yml', 'merge.yml', 'release.yml'].map((w) => [`.github/workflows/${w}`, fs.readFileSync(path.join(ROOT, '.github/workflows', w), 'utf8')]))
    fx = await createIndexFixture(emu, { files, withAction: true })
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', WHARF_PACE_WRITES: 'false' }
    const index: Runner = createRunner({
      emulator: emu,
      repo: REPO,
      secrets: { WHARF_MERGE_TOKEN: emu.mintToken({ user: 'admin' }), WHARF_REGISTRY_KEY: fx.registryKey },
      pagesDir: path.join(home, 'pages'),
      pagesUrl: 'http://127.0.0.1:9/wharf/',
      cacheDir: path.join(home, 'cache'),
      baseEnv: env,
    })
    await emu.createRepo('acme/calc', {
      files: { '.github/workflows/publish.yml': publishWorkflow(), 'target/wasm32-wasip2/release/calc.wasm': component('bench workflows calc') },
      collaborators: { alice: 'admin' },
    })
    const publisher = createRunner({ emulator: emu, repo: 'acme/calc', actions: { 'wharf/wharf': ROOT }, secrets: { WHARF_KEY: fx.key.privatePem, WHARF_PUBLISH_TOKEN: emu.mintToken({ user: 'alice' }) }, baseEnv: env })

    const runs: { label: string; result: WorkflowRunResult; calls: number; writes: number; emulatorMs: number }[] = []
    const measured = async (label: string, go: () => Promise<WorkflowRunResult[]>) => {
      const mark = emu.requests.length
      const results = await go()
      const made = restCalls(emu, mark)
      for (const [i, result] of results.entries()) runs.push({ label: results.length > 1 ? `${label}: ${result.name}` : label, result, ...(i === 0 ? made : { calls: 0, writes: 0, emulatorMs: 0 }) })
      return results
    }
    await measured('publish (crate or component repo)', async () => [await publisher.workflowDispatch('.github/workflows/publish.yml', {}, { actor: 'alice' })])
    let push: Delivery | undefined
    for (let pending = emu.takeDeliveries(); pending.length > 0; pending = emu.takeDeliveries()) {
      for (const delivery of pending.filter((d) => d.repo === REPO)) {
        const toMain = delivery.name === 'push' && delivery.payload.ref === 'refs/heads/main' && delivery.causedBy.kind !== 'installation'
        if (toMain) push = delivery
        await measured(toMain ? 'release' : delivery.name === 'pull_request' ? 'validate' : 'merge', () => index.dispatch(delivery))
      }
    }
    if (!push) throw new Error('the merge pushed nothing: release never ran')
    await measured('release (re-run, same push)', () => index.dispatch(push!))

    const failed = runs.filter((r) => r.result.conclusion !== 'success')
    if (failed.length > 0) throw new Error(`workflow runs failed: ${failed.map((r) => `${r.label} ${r.result.jobs.map((j) => `${j.name}=${j.conclusion}`).join(' ')}`).join('; ')}`)
    const rows: Record<string, string | number>[] = []
    for (const { label, result, calls, writes, emulatorMs } of runs) {
      for (const [i, job] of result.jobs.entries()) {
        const steps = job.steps.filter((s) => s.outcome !== 'skipped')
        const own = steps.filter((s) => isWharf(s.uses)).reduce((n, s) => n + s.durationMs, 0)
        rows.push({
          workflow: i === 0 ? label : '',
          job: job.name,
          'REST calls (run)': i === 0 ? calls : '',
          'writes (run)': i === 0 ? writes : '',
          'emulator ms (run)': i === 0 ? Math.round(emulatorMs) : '',
          'wharf ms': Math.round(own),
          'job steps ms': Math.round(steps.reduce((n, s) => n + s.durationMs, 0)),
        })
      }
    }
    table(rows)
    const once = runs.filter((r) => !r.label.startsWith('release (re-run'))
    console.log(`REST calls per publish, end to end (publish, validate, merge, release): ${once.reduce((n, r) => n + r.calls, 0)} (${once.reduce((n, r) => n + r.writes, 0)} writes); the re-run of release: ${runs.at(-1)!.calls}.`)
    const start = performance.now()
    await new Promise<void>((resolve) => execFile(process.execPath, [path.join(ROOT, 'dist/action/index.js')], { env: { PATH: process.env.PATH } }, () => resolve()))
    console.log(`wharf ms: the Action's own steps, each a whole node process; loading the bundle alone (a step that fails at once) takes ${Math.round(performance.now() - start)} ms. The rest of a job's step time is the stand-ins for checkout, cache, artifacts and Pages.`)
  } finally {
    await fx?.close()
    await emu.close()
    await fs.promises.rm(home, { recursive: true, force: true })
  }
}
