/**
 * `command: release`: on a push to the index repo's main branch, each version
 * the push added ships as assets of a release of the index repo (see
 * publish/release.ts). The push is the event's `before..after` unless the
 * inputs name one; the checkout must hold both commits (fetch-depth: 0). A
 * re-run on the same push uploads nothing and changes nothing.
 */
import * as core from '@actions/core'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { openRepo } from '../git/index.js'
import { createGitHub } from '../github/index.js'
import { releaseVersions } from '../publish/index.js'
import type { RunnerContext } from './context.js'
import { INPUT, type Inputs } from './inputs.js'
import { OUTPUT } from './output.js'
import { cell } from './summary.js'

export async function release(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  const before = inputs.before ?? ctx.push?.before
  const after = inputs.after ?? ctx.push?.after ?? (ctx.sha || undefined)
  if (!before || !after) {
    throw new WharfError('USAGE', `release needs the push's commits: the ${ctx.eventName} event carries none`, {
      hint: `run release on push to main, or pass the ${INPUT.before} and ${INPUT.after} inputs`,
    })
  }
  const github = createGitHub({ token: inputs.token, baseUrl: ctx.apiUrl, pace: inputs.paceWrites, userAgent: 'wharf-action' })
  const result = await core.group(`Releasing the versions ${before.slice(0, 12)}..${after.slice(0, 12)} added`, () =>
    releaseVersions({ github, index: ctx.repo, repo: openRepo(path.resolve(ctx.workspace, inputs.index)), before, after, progress: (m) => core.info(m) }),
  )
  const released = result.versions.filter((v) => !v.error).map((v) => `${v.name}@${v.version}`)
  core.setOutput(OUTPUT.released, JSON.stringify(released))
  core.setOutput(OUTPUT.uploaded, String(result.uploaded))
  const lines = ['### wharf release', '', '| version | release | assets |', '| --- | --- | --- |']
  for (const v of result.versions) {
    const what = v.error ? `not released: ${v.error.message}${v.error.hint ? ` (${v.error.hint})` : ''}` : v.assets.map((a) => `${a.name} ${a.status}`).join(', ')
    lines.push(`| <code>${cell(`${v.name}@${v.version}`)}</code> | ${cell(v.tag)}${v.release?.created ? ' (new)' : ''} | ${cell(what)} |`)
  }
  lines.push('', result.versions.length === 0 ? 'The push added no version.' : `${result.uploaded} asset(s) uploaded, ${result.requests} GitHub requests.`, '')
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(lines.join('\n')).write()
  const failed = result.versions.filter((v) => v.error)
  if (failed.length > 0) {
    core.setFailed(`release could not ship ${failed.length} version(s): ${failed.map((v) => `${v.name}@${v.version}: ${v.error!.message}${v.error!.hint ? `. Fix: ${v.error!.hint}` : ''}`).join('; ')}`)
  }
}
