/**
 * What every workflow wharf ships must hold, read from the file as GitHub's
 * parser reads it: no pull_request_target that checks out the pull request's
 * code; no job that runs pull-request code and holds a write permission or a
 * secret; every third-party action pinned by a 40-hex commit; `permissions:`
 * on every job.
 */
import { parse } from 'yaml'
import { parseWorkflowFile } from '../github/runner/workflow.js'

export interface LintProblem {
  job?: string
  problem: string
}

type Json = Record<string, unknown>
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})

/** The events a workflow's `on:` names. */
function events(on: unknown): string[] {
  if (typeof on === 'string') return [on]
  if (Array.isArray(on)) return on.map(String)
  return Object.keys(obj(on))
}

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$/
const PR_REF = /github\.event\.pull_request|github\.head_ref|refs\/pull\//

/** Write access in a job's `permissions:` (a mapping, or read-all/write-all). */
function writes(permissions: unknown): string[] {
  if (permissions === 'write-all') return ['write-all']
  return Object.entries(obj(permissions))
    .filter(([, v]) => v === 'write')
    .map(([k]) => `${k}: write`)
}

export async function lintWorkflow(file: string, content: string): Promise<LintProblem[]> {
  await parseWorkflowFile(file, content) // GitHub's parser must accept it first
  const workflow = obj(parse(content))
  const on = events(workflow.on)
  const problems: LintProblem[] = []
  const untrustedEvent = on.includes('pull_request') || on.includes('pull_request_target')
  for (const [id, value] of Object.entries(obj(workflow.jobs))) {
    const job = obj(value)
    if (!('permissions' in job)) problems.push({ job: id, problem: 'sets no permissions: (every job names the least it needs)' })
    const steps = Array.isArray(job.steps) ? job.steps.map(obj) : []
    let checksOutPr = false
    let runsCode = false
    for (const step of steps) {
      const uses = typeof step.uses === 'string' ? step.uses : undefined
      if (uses && !uses.startsWith('./') && !PINNED.test(uses)) problems.push({ job: id, problem: `uses ${uses}, not pinned by a full commit sha` })
      if (uses?.startsWith('actions/checkout@')) {
        const ref = String(obj(step.with).ref ?? '')
        // On pull_request a checkout without ref is the pull request's test merge; on pull_request_target it is the base.
        if ((on.includes('pull_request') && !ref) || PR_REF.test(ref)) checksOutPr = true
        if (on.includes('pull_request_target') && PR_REF.test(ref)) problems.push({ job: id, problem: 'checks out the pull request on pull_request_target, which runs with the base repository’s token and secrets' })
      } else if (uses?.startsWith('./') || typeof step.run === 'string') runsCode = true
    }
    if (untrustedEvent && checksOutPr && runsCode) {
      const granted = writes(job.permissions ?? workflow.permissions)
      if (granted.length > 0) problems.push({ job: id, problem: `runs pull-request code and holds ${granted.join(', ')}` })
      if (/\$\{\{[^}]*secrets\./.test(JSON.stringify(job))) problems.push({ job: id, problem: 'runs pull-request code and reads a secret' })
    }
  }
  return problems
}
