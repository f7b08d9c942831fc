/**
 * `command: merge`: the trusted half of the gate, run on the default branch
 * (after validate, and on a schedule). For each pull request it judges the
 * test merge again with the registry's own code, reads the validate run's
 * reports as untrusted data, comments, labels, and merges (squash, at the
 * head it judged) when policy allows. Nothing the pull request's run
 * produced is trusted except as data that passed the report schema.
 */
import * as core from '@actions/core'
import path from 'node:path'
import { readRegistry } from '../check/index.js'
import { WharfError } from '../core/errors.js'
import { withSubmitterTrailer } from '../core/submitter.js'
import { isOwner, type RegistryFile } from '../core/types.js'
import { MAIN, openRepo, type Repo } from '../git/index.js'
import { createGitHub, GitHubErrorCode, type GitHub, type PullRequest, type WorkflowRun } from '../github/index.js'
import { blockingGates, combineReports, evaluateGates, planLegs, readRunReports, type GateResult } from '../review/index.js'
import type { RunnerContext } from './context.js'
import type { Inputs } from './inputs.js'
import { judgePullRequest, type Judgement } from './judge.js'
import { OUTPUT } from './output.js'
import { cell, gatesMarkdown, judgementMarkdown } from './summary.js'

/** What merge decided for one pull request. */
export type Verdict = 'merged' | 'rejected' | 'blocked' | 'waiting' | 'pending' | 'needs-maintainer' | 'gates-unmet'

export interface Decision {
  number: number
  verdict: Verdict
  /** Why, in one sentence per reason. */
  reasons: string[]
}

/** The status label each verdict leaves on the pull request (one at a time). */
export const STATUS_LABELS: Record<Exclude<Verdict, 'pending'>, string> = {
  merged: 'wharf: merged',
  rejected: 'wharf: rejected',
  blocked: 'wharf: blocked by maintainer',
  waiting: 'wharf: waiting period',
  'needs-maintainer': 'wharf: needs maintainer',
  'gates-unmet': 'wharf: quality gates unmet',
}

export const DEFAULT_BLOCKING_LABELS = ['wharf: blocked']
const COMMENT_MARKER = 'merge'

interface Env {
  inputs: Inputs
  ctx: RunnerContext
  github: GitHub
  repo: Repo
  /** Whose comments merge edits: the token's user (a personal access token), else undefined (a bot's token). */
  commenter: () => Promise<string | undefined>
}

export async function merge(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  const github = createGitHub({ token: inputs.token, baseUrl: ctx.apiUrl, pace: inputs.paceWrites, userAgent: 'wharf-action' })
  let commenter: Promise<string | undefined> | undefined
  const env: Env = {
    inputs,
    ctx,
    github,
    repo: openRepo(path.resolve(ctx.workspace, inputs.index)),
    commenter: () => (commenter ??= github.users.authenticated().then((account) => account?.login)),
  }
  const pulls = await pullsToJudge(env)
  const decisions: Decision[] = []
  const failures: string[] = []
  for (const pr of pulls) {
    // One pull request's failure (a merge refused because another run merged it first, GitHub unavailable) does not stop the others.
    try {
      decisions.push(await core.group(`Pull request #${pr.number} by ${pr.author.login}`, () => decide(env, pr)))
    } catch (e) {
      const cause = e instanceof Unreported ? e.cause : e
      const why = cause instanceof WharfError ? `${cause.message}${cause.hint ? ` (${cause.hint})` : ''}` : (cause as Error).message
      if (e instanceof Unreported) {
        // Merged is merged: the outputs say so, and the run fails for the comment or label it could not write.
        failures.push(`#${pr.number}: merged, but reporting it failed: ${why}`)
        decisions.push({ ...e.decision, reasons: [...e.decision.reasons, `reporting it on the pull request failed: ${why}`] })
      } else {
        failures.push(`#${pr.number}: ${why}`)
        decisions.push({ number: pr.number, verdict: 'pending', reasons: [`judging it failed: ${why}`] })
      }
    }
  }
  core.setOutput(OUTPUT.decision, JSON.stringify(decisions))
  core.setOutput(OUTPUT.merged, JSON.stringify(decisions.filter((d) => d.verdict === 'merged').map((d) => d.number)))
  core.setOutput(OUTPUT.accepted, String(decisions.length > 0 && decisions.every((d) => d.verdict === 'merged')))
  const lines = ['### wharf merge', '', '| pull request | decision | why |', '| --- | --- | --- |', ...decisions.map((d) => `| #${d.number} | ${d.verdict} | ${cell(d.reasons.join(' ')) || ''} |`), '']
  if (decisions.length === 0) lines.push('No open pull request to judge.')
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(lines.join('\n')).write()
  if (failures.length > 0) core.setFailed(`merge could not judge ${failures.length} pull request(s): ${failures.join('; ')}`)
}

/** The pull requests this run judges: the one named, the workflow run's (found by head sha: a fork's run lists none), or every open one. */
async function pullsToJudge({ inputs, ctx, github }: Env): Promise<PullRequest[]> {
  if (inputs.pullRequest !== undefined) return [await github.pulls.get(ctx.repo, inputs.pullRequest)]
  const open = await github.pulls.listOpen(ctx.repo)
  const run = ctx.workflowRun
  if (run) return open.filter((pr) => pr.head.sha === run.headSha && (!run.headRepo || pr.head.repo === run.headRepo))
  return open
}

/** The newest validate run of the pull request's head, from the event when it is that run. */
async function validateRun({ inputs, ctx, github }: Env, pr: PullRequest): Promise<WorkflowRun | undefined> {
  const wanted = inputs.runId ?? (ctx.workflowRun?.headSha === pr.head.sha ? ctx.workflowRun.id : undefined)
  if (wanted !== undefined) return github.runs.get(ctx.repo, wanted)
  const runs = await github.runs.listForSha(ctx.repo, pr.head.sha, { event: 'pull_request', workflowPath: `.github/workflows/${inputs.validateWorkflow}` })
  return runs[0]
}

async function decide(env: Env, listed: PullRequest): Promise<Decision> {
  const { inputs, ctx, github, repo } = env
  const pr = await github.pulls.get(ctx.repo, listed.number)
  const decision = (verdict: Verdict, ...reasons: string[]): Decision => ({ number: pr.number, verdict, reasons })
  if (pr.state !== 'open' || pr.draft) return decision('pending', pr.draft ? 'a draft is not merged' : 'it is closed')

  const run = await validateRun(env, pr)
  if (!run || run.status !== 'completed') return decision('pending', `validate has not finished for ${pr.head.sha.slice(0, 12)}`)
  if (run.headSha !== pr.head.sha) return decision('pending', `validate run ${run.id} is of another head`)

  const now = github.serverTime() ?? new Date()
  const judgement = await judgePullRequest({
    repo,
    remote: 'origin',
    token: inputs.token,
    number: pr.number,
    headSha: pr.head.sha,
    author: { login: pr.author.login, id: pr.author.id },
    submittedAt: new Date(pr.createdAt),
    now,
    teams: createGitHub({ token: inputs.teamToken ?? inputs.token, baseUrl: ctx.apiUrl, pace: false }),
  })
  const registry = await readRegistry(repo, judgement.base)
  const reasons: string[] = []
  let verdict: Verdict | undefined

  if (pr.base.ref !== MAIN) {
    verdict = 'needs-maintainer'
    reasons.push(`it targets ${pr.base.ref}, not ${MAIN}: only pull requests to ${MAIN} are merged automatically`)
  }
  const { files, truncated } = await github.pulls.listFiles(ctx.repo, pr.number)
  const outside = files.filter((f) => !f.filename.startsWith('index/') || (f.previousFilename !== undefined && !f.previousFilename.startsWith('index/')))
  if (outside.length > 0 || truncated) {
    verdict = 'needs-maintainer'
    reasons.push(truncated ? 'it changes more files than GitHub lists, and is never merged automatically' : `it changes ${outside.map((f) => f.filename).slice(0, 5).join(', ')} outside index/, which is never merged automatically: a maintainer reviews and merges it by hand`)
  }
  if (!judgement.accepted) {
    verdict ??= 'rejected'
    reasons.push(`the registry's rules reject it (${[...new Set(judgement.findings.map((f) => f.rule))].join(', ')})`)
  } else if (run.conclusion !== 'success') {
    verdict ??= 'rejected'
    reasons.push(`validate run ${run.id} concluded ${run.conclusion ?? 'without a conclusion'}`)
  }

  const blocking = registry.policy.pull_requests?.blocking_labels ?? DEFAULT_BLOCKING_LABELS
  const blockedBy = pr.labels.filter((l) => blocking.some((b) => b.toLowerCase() === l.toLowerCase()))
  if (blockedBy.length > 0) {
    verdict ??= 'blocked'
    reasons.push(`the label ${blockedBy.join(', ')} stops automatic merging`)
  }
  const refusals = (await github.pulls.latestReviews(ctx.repo, pr.number)).filter((r) => r.state === 'CHANGES_REQUESTED' && r.reviewer && isOwner(registry.maintainers, { login: r.reviewer.login, id: r.reviewer.id }))
  if (refusals.length > 0) {
    verdict ??= 'blocked'
    reasons.push(`${refusals.map((r) => r.reviewer!.login).join(', ')} requested changes`)
  }

  let gates: GateResult[] = []
  if (judgement.accepted && run.conclusion === 'success') {
    const read = await readReports(env, run, judgement, registry, pr.labels)
    if (read.problems.length > 0) {
      verdict ??= 'rejected'
      reasons.push(...read.problems)
    }
    gates = read.gates
    const unmet = blockingGates(gates)
    if (unmet.length > 0) {
      verdict ??= 'gates-unmet'
      reasons.push(`quality gates unmet: ${unmet.map((g) => `${g.gate} (${g.measured}; waive with the label "${g.waiverLabel}")`).join('; ')}`)
    }
  }
  if (judgement.waiting.length > 0) {
    verdict ??= 'waiting'
    reasons.push(...judgement.waiting.map((w) => w.message))
  }

  if (!verdict) {
    // GitHub's merge call pins the head it merges, not the base it merges onto, and GitHub recomputes a test merge some
    // time after its base moves: a pull request judged against an older main (before another one changed a namespace's
    // keys or owners) is judged again, not merged onto the new one.
    const tip = (await github.git.getRef(ctx.repo, `heads/${pr.base.ref}`))?.sha
    const merged = tip === judgement.base ? await mergeAt(env, pr, judgement) : undefined
    if (merged) {
      verdict = 'merged'
      reasons.push(`squash-merged as ${merged.slice(0, 12)}`)
    } else {
      verdict = 'pending'
      reasons.push(
        tip === judgement.base
          ? 'its head moved after it was judged; the next run judges the new head'
          : `${pr.base.ref} moved to ${tip?.slice(0, 12) ?? 'nothing'} after it was judged against ${judgement.base.slice(0, 12)}; the next run judges it against the new ${pr.base.ref}`,
      )
    }
  }
  const made = decision(verdict, ...reasons)
  try {
    await report(env, pr, judgement, gates, made)
  } catch (e) {
    throw verdict === 'merged' ? new Unreported(made, e) : e
  }
  return made
}

/** A decision taken (a merge made) whose comment or label could not be written: the decision stands. */
class Unreported extends Error {
  constructor(
    readonly decision: Decision,
    override readonly cause: unknown,
  ) {
    super('the decision was taken, but not reported on the pull request')
  }
}

/** Every leg's report from the validate run's artifacts, re-validated, combined per version and held to the gates. */
async function readReports({ ctx, github, repo }: Env, run: WorkflowRun, judgement: Judgement, registry: RegistryFile, labels: readonly string[]): Promise<{ problems: string[]; gates: GateResult[] }> {
  const legs = await planLegs(repo, judgement.merge, judgement.changes, registry.policy)
  const { byPackage, problems } = await readRunReports(github, ctx.repo, run.id, legs)
  const gates: GateResult[] = []
  const policy = registry.policy.quality_gates
  if (policy && problems.length === 0) {
    for (const reports of byPackage.values()) gates.push(...evaluateGates(combineReports(reports), policy, labels))
  }
  return { problems, gates }
}

/** Squash-merges at the judged head with the submitter's trailer; undefined when the head moved meanwhile. */
async function mergeAt({ inputs, ctx }: Env, pr: PullRequest, judgement: Judgement): Promise<string | undefined> {
  const merger = createGitHub({ token: inputs.mergeToken ?? inputs.token, baseUrl: ctx.apiUrl, pace: inputs.paceWrites, userAgent: 'wharf-action' })
  const title = `${pr.title} (#${pr.number})`
  const message = withSubmitterTrailer(`Adds ${judgement.packages.join(', ') || `${judgement.changes.length} index file(s)`}, checked by wharf.`, judgement.author, judgement.teams)
  try {
    return (await merger.pulls.merge(ctx.repo, pr.number, { expectedHeadSha: pr.head.sha, method: 'squash', title, message })).sha
  } catch (e) {
    if (e instanceof WharfError && e.code === GitHubErrorCode.HeadChanged) return undefined
    throw e
  }
}

/** The one comment merge keeps on the pull request, and its one status label. */
async function report({ ctx, github, commenter }: Env, pr: PullRequest, judgement: Judgement, gates: GateResult[], decision: Decision): Promise<void> {
  const headline: Record<Verdict, string> = {
    merged: '✅ Merged.',
    rejected: '❌ Not merged: the submission is rejected.',
    blocked: '⛔ Not merged: a maintainer stopped it.',
    waiting: '⏳ Accepted; it merges when its waiting period has passed (a scheduled run merges it).',
    pending: '⏳ Waiting for validate.',
    'needs-maintainer': '👀 Not merged automatically: a maintainer reviews it.',
    'gates-unmet': '❌ Not merged: quality gates unmet.',
  }
  const body = [`## wharf: ${headline[decision.verdict]}`, '', ...decision.reasons.map((r) => `- ${cell(r)}`), '', judgementMarkdown(judgement), gatesMarkdown(gates)].join('\n')
  const author = await commenter()
  await github.issues.upsertComment(ctx.repo, pr.number, { marker: COMMENT_MARKER, body, ...(author ? { author } : {}) })
  if (decision.verdict === 'pending') return
  const wanted = STATUS_LABELS[decision.verdict]
  for (const label of pr.labels) {
    if (Object.values(STATUS_LABELS).includes(label) && label !== wanted) await github.issues.removeLabel(ctx.repo, pr.number, label)
  }
  if (!pr.labels.includes(wanted)) await github.issues.addLabels(ctx.repo, pr.number, [wanted])
}
