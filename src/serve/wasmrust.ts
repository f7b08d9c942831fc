/**
 * WasmRust test jobs (`POST /tests/{id}`): `wharf test` on a package's
 * newest artifact, one at a time, in a process of its own. A job and its
 * report are kept as JSON under the data dir's state/tests/.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { primaryArtifact } from '../api/index.js'
import { WharfError } from '../core/errors.js'
import type { VersionRecord } from '../core/types.js'
import { runMatrixIsolated, type IsolatedRun } from '../matrix/index.js'
import { unpackCrate } from '../publish/index.js'
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
  finished_at?: string
  exit_code?: number
  report?: unknown
  error?: string
}

export interface TestJobs {
  /** Queues a run on the record's primary artifact; resolves with the queued job. */
  start(id: string, record: VersionRecord): Promise<TestJob>
  /** The job as it stands, or NOT_FOUND. */
  read(id: string): Promise<TestJob>
}

export function createTestJobs(registry: Registry): TestJobs {
  const jobFile = (id: string) => path.join(registry.layout.tests, `${encodeURIComponent(id)}.json`)
  let testQueue: Promise<void> = Promise.resolve()

  /** `wharf test` on the artifact; a .crate is unpacked first, since the matrix builds crates from their source. */
  const runTest = (job: TestJob, artifact: string, isCrate: boolean) => {
    testQueue = testQueue.then(async () => {
      await writeFileAtomic(jobFile(job.id), JSON.stringify({ ...job, status: 'running' }))
      let scratch: string | undefined
      let result: IsolatedRun
      if (isCrate) {
        scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-test-crate-'))
        let unpacked: string | Error
        try {
          unpacked = await unpackCrate(await fs.promises.readFile(artifact), scratch)
        } catch (e) {
          unpacked = e as Error
        }
        result = typeof unpacked === 'string' ? await runMatrixIsolated(unpacked, { timeoutMs: TEST_TIMEOUT_MS }) : { code: 2, report: undefined, stderr: unpacked.message }
      } else {
        result = await runMatrixIsolated(artifact, { timeoutMs: TEST_TIMEOUT_MS })
      }
      if (scratch) await fs.promises.rm(scratch, { recursive: true, force: true })
      const done: TestJob = {
        ...job,
        status: result.code === 0 ? 'passed' : result.code === 1 ? 'failed' : 'error',
        finished_at: new Date().toISOString(),
        exit_code: result.code,
        ...(result.report !== undefined ? { report: result.report } : {}),
        ...(result.code > 1 ? { error: result.stderr.trim().split('\n').pop() ?? 'wharf test could not run' } : {}),
      }
      await writeFileAtomic(jobFile(job.id), JSON.stringify(done))
    })
  }

  return {
    async start(id, record) {
      const job: TestJob = { id, package: record.name, version: record.version, status: 'queued', queued_at: new Date().toISOString() }
      await writeFileAtomic(jobFile(id), JSON.stringify(job))
      const artifact = primaryArtifact(record)
      runTest(job, artifactPath(registry.repo.dir, artifact.sha256), artifact.name.endsWith('.crate'))
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
