/**
 * `command: test`: one matrix leg of a version the pull request adds, as a
 * validate job runs it. The job runs the submitter's code (it builds and
 * tests their crate), so it holds no secret and no write permission; its
 * report is uploaded as an artifact that merge reads as untrusted data.
 */
import * as core from '@actions/core'
import fs from 'node:fs'
import path from 'node:path'
import { fetchLimited, readRegistry } from '../check/index.js'
import { withoutCredentials } from '../core/credentials.js'
import { WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { recordPath } from '../core/layout.js'
import type { VersionRecord } from '../core/types.js'
import { openRepo, readJsonAt, resolveCommit } from '../git/index.js'
import { parseTargets, renderMarkdown, runMatrix } from '../matrix/index.js'
import { unpackCrate } from '../publish/index.js'
import { legReportPath, legTargets, parsePackageRef } from '../review/index.js'
import type { RunnerContext } from './context.js'
import { INPUT, type Inputs } from './inputs.js'
import { OUTPUT } from './output.js'

/** Where legs write their reports, under the workspace; the workflow uploads this directory. */
export const REPORTS_DIR = 'wharf-reports'

export async function test(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  if (!inputs.package || !inputs.target) {
    throw new WharfError('USAGE', `test runs one leg: it needs the ${INPUT.package} and ${INPUT.target} inputs`, { hint: "pass them from check's legs output (matrix.leg.package, matrix.leg.target)" })
  }
  const { id, version } = parsePackageRef(inputs.package)
  const [target] = parseTargets(inputs.target)
  const repo = openRepo(path.resolve(ctx.workspace, inputs.index))
  const head = await resolveCommit(repo, 'HEAD')
  const record = await readJsonAt<VersionRecord>(repo, head, recordPath(id, version))
  if (!record) throw new WharfError('NOT_FOUND', `the checkout has no record of ${inputs.package}`, { hint: 'run test in a checkout of the pull request that adds the version' })
  const registry = await readRegistry(repo, head)
  if (!target || !legTargets(record, registry.policy).includes(target)) {
    throw new WharfError('USAGE', `${inputs.package} is not tested on ${inputs.target}`, { hint: `its legs are ${legTargets(record, registry.policy).join(', ')}` })
  }
  const artifact = record.artifacts[0]!
  const temp = await fs.promises.mkdtemp(path.join(process.env.RUNNER_TEMP || ctx.workspace, 'wharf-test-'))
  const bytes = await core.group(`Fetching ${artifact.name} (${artifact.size} bytes)`, () =>
    fetchLimited(undefined, artifact.url, { maxBytes: artifact.size, timeoutMs: 120_000, allowHttpLoopback: registry.policy.urls.allow_http_loopback }),
  )
  if (sha256Hex(bytes) !== artifact.sha256) {
    throw new WharfError('INVALID_ARTIFACT', `${artifact.url} does not have the sha256 the record declares`, { hint: 'the artifact changed since it was published; publish a new version' })
  }
  let input = path.join(temp, path.basename(artifact.name) || 'artifact')
  await fs.promises.writeFile(input, bytes)
  // The checks the registry applies to an uploaded .crate: one top directory, no links, devices or paths outside it.
  if (record.kind === 'crate') input = await unpackCrate(bytes, await fs.promises.mkdtemp(path.join(temp, 'crate-')))
  // The speed ratio times native and wasm32-wasip1 on one machine: a crate's wasm32-wasip1 leg runs native too, when
  // the version is tested there (merge takes each target's result from its own leg, and the ratio from this one).
  const targets = record.kind === 'crate' && target === 'wasm32-wasip1' && legTargets(record, registry.policy).includes('native') ? [target, 'native' as const] : [target]
  // The crate's build scripts and tests run here: they get the job's environment without its tokens.
  const report = await core.group(`Testing ${inputs.package} on ${targets.join(' and ')}`, () => runMatrix({ input, targets, workDir: temp, signature: 'signed', env: withoutCredentials(process.env) }))
  const file = path.join(ctx.workspace, REPORTS_DIR, legReportPath({ id, version, target }))
  await fs.promises.mkdir(path.dirname(file), { recursive: true })
  await fs.promises.writeFile(file, `${JSON.stringify(report, null, 2)}\n`)
  core.setOutput(OUTPUT.report, file)
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderMarkdown(report)).write()
}
