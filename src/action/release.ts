/**
 * `command: release`: on a push to the index repo's main branch, each version
 * the push added ships as assets of a release of the index repo (see
 * publish/release.ts). The push is the event's `before..after`, from
 * `refs/wharf/released` instead when that is older (the pushes of runs
 * GitHub cancelled while pending; see publish/release-cursor.ts), unless the
 * inputs name a range; the checkout must hold the commits (fetch-depth: 0).
 * Then each version's combined matrix report, read from the validate run of
 * the pull request that added it (untrusted data, checked as merge checks it),
 * is committed under index/reports/ as the token's (the registry bot's) own
 * commit; release.yml ignores pushes that touch only index/reports/, so that
 * commit starts nothing. A re-run on the same push uploads nothing and
 * commits nothing.
 */
import * as core from '@actions/core'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { openRepo } from '../git/index.js'
import { createGitHub } from '../github/index.js'
import { commitReports, markReleased, RELEASED_REF, releaseStart, releaseVersions } from '../publish/index.js'
import { validatedReports } from '../review/index.js'
import type { RunnerContext } from './context.js'
import { INPUT, type Inputs } from './inputs.js'
import { OUTPUT } from './output.js'
import { cell } from './summary.js'

export async function release(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  const pushBefore = inputs.before ?? ctx.push?.before
  const after = inputs.after ?? ctx.push?.after ?? (ctx.sha || undefined)
  if (!pushBefore || !after) {
    throw new WharfError('USAGE', `release needs the push's commits: the ${ctx.eventName} event carries none`, {
      hint: `run release on push to main, or pass the ${INPUT.before} and ${INPUT.after} inputs`,
    })
  }
  const github = createGitHub({ token: inputs.token, baseUrl: ctx.apiUrl, pace: inputs.paceWrites, userAgent: 'wharf-action' })
  const repo = openRepo(path.resolve(ctx.workspace, inputs.index))
  // A range the inputs name is released as it is; a push's starts where the last complete run ended, when that is older.
  const start = inputs.before === undefined ? await releaseStart(github, ctx.repo, repo, pushBefore) : undefined
  const before = start?.before ?? pushBefore
  if (before !== pushBefore) core.info(`${RELEASED_REF} is at ${before.slice(0, 12)}, before this push: the versions of the runs since that did not finish ship too`)
  const result = await core.group(`Releasing the versions ${before.slice(0, 12)}..${after.slice(0, 12)} added`, () =>
    releaseVersions({ github, index: ctx.repo, repo, before, after, progress: (m) => core.info(m) }),
  )
  const released = result.versions.filter((v) => !v.error).map((v) => `${v.name}@${v.version}`)
  const shipped = new Set(released)
  const found = await core.group('Reading the validated matrix reports', () =>
    validatedReports({ github, index: ctx.repo, repo, before: ZERO.test(before) ? undefined : before, after, workflowPath: `.github/workflows/${inputs.validateWorkflow}` }),
  )
  // A version that did not ship gets no report yet: its re-run ships it and commits its report.
  const files = found.reports.filter((r) => shipped.has(r.package))
  // A branch protection that refuses the bot's commit leaves the reports out, said in a warning: the versions shipped,
  // and the build and deploy that follow this job still run.
  let refused: WharfError | undefined
  const committed = await core.group(`Committing ${files.length} report(s) under index/reports/`, async () => {
    try {
      return await commitReports({ github, index: ctx.repo, repo, remote: 'origin', token: inputs.token, files, message: reportsMessage(files.map((f) => f.package)) })
    } catch (e) {
      if (!(e instanceof WharfError) || e.code !== 'FORBIDDEN') throw e
      refused = e
      return { commit: undefined, head: after, added: [], present: [] }
    }
  })
  if (refused) core.warning(`${refused.message}. Fix: ${refused.hint}`)
  core.setOutput(OUTPUT.released, JSON.stringify(released))
  core.setOutput(OUTPUT.uploaded, String(result.uploaded))
  core.setOutput(OUTPUT.reports, JSON.stringify(committed.added))
  core.setOutput(OUTPUT.head, committed.head)
  const lines = ['### wharf release', '', '| version | release | assets | report |', '| --- | --- | --- | --- |']
  for (const v of result.versions) {
    const ref = `${v.name}@${v.version}`
    const what = v.error ? `not released: ${v.error.message}${v.error.hint ? ` (${v.error.hint})` : ''}` : v.assets.map((a) => `${a.name} ${a.status}`).join(', ')
    const file = files.find((f) => f.package === ref)
    const why = found.skipped.find((s) => s.package === ref)?.reason
    const state = refused ? 'not committed' : committed.added.includes(file?.path ?? '') ? 'committed' : 'present'
    const report = file ? `${state} (#${file.pullRequest}, run ${file.runId})` : why ? `none: ${why}` : 'none'
    lines.push(`| <code>${cell(ref)}</code> | ${cell(v.tag)}${v.release?.created ? ' (new)' : ''} | ${cell(what)} | ${cell(report)} |`)
  }
  const commitLine = refused ? `Reports not committed: ${refused.message}.` : committed.commit ? `Reports committed as ${committed.commit.slice(0, 12)}.` : 'No report to commit.'
  lines.push('', result.versions.length === 0 ? 'The push added no version.' : `${result.uploaded} asset(s) uploaded, ${result.requests} GitHub requests. ${commitLine}`, '')
  for (const s of found.skipped) core.info(`${s.package}: no report: ${s.reason}`)
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(lines.join('\n')).write()
  const failed = result.versions.filter((v) => v.error)
  if (start && failed.length === 0) {
    const moved = await markReleased(github, ctx.repo, repo, start, after)
    core.info(moved === 'kept' ? `${RELEASED_REF} is already at or past ${after.slice(0, 12)}` : `${RELEASED_REF} ${moved === 'made' ? 'made' : 'moved'} at ${after.slice(0, 12)}`)
  }
  if (failed.length > 0) {
    core.setFailed(`release could not ship ${failed.length} version(s): ${failed.map((v) => `${v.name}@${v.version}: ${v.error!.message}${v.error!.hint ? `. Fix: ${v.error!.hint}` : ''}`).join('; ')}`)
  }
}

const ZERO = /^0{40}$/

function reportsMessage(packages: string[]): string {
  return packages.length === 1 ? `Compatibility report of ${packages[0]}` : `Compatibility reports of ${packages.length} versions\n\n${packages.join('\n')}`
}
