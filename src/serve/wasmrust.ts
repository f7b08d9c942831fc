/**
 * WasmRust test jobs (`POST /tests/{id}`): `wharf test` on a package's
 * newest artifact, one at a time, in a process of its own inside the
 * sandbox (matrix/sandbox.ts), which never sees the data dir. A job and its
 * report are kept as JSON under the data dir's state/tests/.
 */
import fs from 'node:fs'
import path from 'node:path'
import { primaryArtifact } from '../api/index.js'
import { WharfError } from '../core/errors.js'
import type { VersionRecord } from '../core/types.js'
import { runMatrixIsolated, type TargetName } from '../matrix/index.js'
import { artifactPath, writeFileAtomic } from '../store/index.js'
import type { Registry } from './registry.js'

/** How long one test run may take. */
const TEST_TIMEOUT_MS = 30 * 60_000

export interface TestJob {
  id: string
  package: string
  version: string
  status: 'queued' | 'running' | 'passed' | 'failed' | 'error'
  queued_at: string
  /** The targets asked for; absent for all. */
  targets?: TargetName[]
  finished_at?: string
  exit_code?: number
  report?: unknown
  error?: string
}

export interface TestJobs {
  /** Queues a run on the record's primary artifact (on `targets`, default all); resolves with the queued job. NO_SANDBOX when runs are off. */
  start(id: string, record: VersionRecord, targets?: readonly TargetName[]): Promise<TestJob>
  /** The job as it stands, or NOT_FOUND. */
  read(id: string): Promise<TestJob>
}

/** The refusal when no sandbox could be made at start, naming what to install or how to opt out. */
function noSandbox(reason: string): WharfError {
  return new WharfError('NO_SANDBOX', `test runs are off: uploaded crates run only inside a sandbox, and none can be made here (${reason})`, {
    hint: 'install bubblewrap (apt-get install bubblewrap) with user namespaces enabled and restart the registry, or set REGISTRY_UNSANDBOXED_TESTS=i-understand-this-runs-untrusted-code to run them with the server\'s rights',
  })
}

export function createTestJobs(registry: Registry): TestJobs {
  const jobFile = (id: string) => path.join(registry.layout.tests, `${encodeURIComponent(id)}.json`)
  let testQueue: Promise<void> = Promise.resolve()

  /** `wharf test` on the stored artifact (a .crate is unpacked by the run itself), in the sandbox the server settled on at start. */
  const runTest = (job: TestJob, artifact: string, crate: boolean, targets: readonly TargetName[] | undefined) => {
    const sandbox = registry.sandbox
    const run = async (): Promise<TestJob> => {
      await writeFileAtomic(jobFile(job.id), JSON.stringify({ ...job, status: 'running' }))
      const result = await runMatrixIsolated(artifact, {
        timeoutMs: TEST_TIMEOUT_MS,
        crate,
        ...(targets ? { targets } : {}),
        // The data dir holds the registry key, tokens and every artifact: a run never sees it.
        ...(sandbox.kind === 'bwrap' ? { sandbox: { bwrap: sandbox.bwrap, hide: [registry.layout.root] } } : {}),
      })
      return {
        ...job,
        status: result.code === 0 ? 'passed' : result.code === 1 ? 'failed' : 'error',
        finished_at: new Date().toISOString(),
        exit_code: result.code,
        ...(result.report !== undefined ? { report: result.report } : {}),
        ...(result.code > 1 || result.timedOut ? { error: result.stderr.trim().split('\n').pop() ?? 'wharf test could not run' } : {}),
      }
    }
    // A run that cannot even start is the job's error, never the server's: the queue goes on.
    testQueue = testQueue.then(async () => {
      const done = await run().catch((e: unknown): TestJob => ({ ...job, status: 'error', finished_at: new Date().toISOString(), error: e instanceof Error ? e.message : String(e) }))
      await writeFileAtomic(jobFile(job.id), JSON.stringify(done)).catch((e: unknown) => process.stderr.write(`test run ${job.id}: its result could not be written: ${e instanceof Error ? e.message : String(e)}\n`))
    })
  }

  return {
    async start(id, record, targets) {
      const sandbox = registry.sandbox
      if (sandbox.kind === 'unavailable') throw noSandbox(sandbox.reason)
      const job: TestJob = { id, package: record.name, version: record.version, status: 'queued', queued_at: new Date().toISOString(), ...(targets ? { targets: [...targets] } : {}) }
      await writeFileAtomic(jobFile(id), JSON.stringify(job))
      const artifact = primaryArtifact(record)
      runTest(job, artifactPath(registry.repo.dir, artifact.sha256), artifact.name.endsWith('.crate'), targets)
      return job
    },
    async read(id) {
      try {
        return JSON.parse(await fs.promises.readFile(jobFile(id), 'utf8')) as TestJob
      } catch {
        throw new WharfError('NOT_FOUND', `no test run for "${id}"`, { hint: `start one with POST /tests/${id}` })
      }
    },
  }
}
