/** `command: check`: judge the pull request the event names, as validate's first job does. */
import * as core from '@actions/core'
import path from 'node:path'
import { readRegistry } from '../check/index.js'
import { WharfError } from '../core/errors.js'
import { openRepo } from '../git/index.js'
import { createGitHub } from '../github/index.js'
import { planLegs } from '../review/index.js'
import type { RunnerContext } from './context.js'
import type { Inputs } from './inputs.js'
import { judgePullRequest } from './judge.js'
import { OUTPUT, report } from './output.js'
import { judgementMarkdown } from './summary.js'

export async function check(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  const github = createGitHub({ token: inputs.token, baseUrl: ctx.apiUrl, pace: inputs.paceWrites, userAgent: 'wharf-action' })
  let pr = ctx.pullRequest
  if (inputs.pullRequest !== undefined && pr?.number !== inputs.pullRequest) {
    const fetched = await github.pulls.get(ctx.repo, inputs.pullRequest)
    pr = { number: fetched.number, author: { login: fetched.author.login, id: fetched.author.id }, createdAt: new Date(fetched.createdAt), headSha: fetched.head.sha, baseRef: fetched.base.ref, headRepo: fetched.head.repo ?? undefined }
  }
  if (!pr) {
    throw new WharfError('USAGE', `check judges a pull request, and the ${ctx.eventName} event names none`, { hint: 'run check on pull_request, or set the pull-request input' })
  }
  const repo = openRepo(path.resolve(ctx.workspace, inputs.index))
  const judgement = await core.group(`Checking pull request #${pr.number} by ${pr.author.login}`, () =>
    judgePullRequest({ repo, remote: 'origin', token: inputs.token, number: pr.number, headSha: pr.headSha, author: pr.author, submittedAt: pr.createdAt, now: new Date(), teams: createGitHub({ token: inputs.teamToken ?? inputs.token, baseUrl: ctx.apiUrl, pace: false }), deferTeams: true }),
  )
  const registry = await readRegistry(repo, judgement.base)
  const legs = judgement.accepted ? await planLegs(repo, judgement.merge, judgement.changes, registry.policy) : []
  core.setOutput(OUTPUT.accepted, String(judgement.accepted))
  core.setOutput(OUTPUT.packages, JSON.stringify(judgement.packages))
  core.setOutput(OUTPUT.legs, JSON.stringify(legs))
  await report(judgement.findings, judgementMarkdown(judgement))
  if (!judgement.accepted) {
    const rules = [...new Set(judgement.findings.map((f) => f.rule))].join(', ')
    core.setFailed(`pull request #${pr.number} is rejected: ${judgement.findings.length} finding(s) (${rules}); the step summary says how to fix each`)
  }
}
