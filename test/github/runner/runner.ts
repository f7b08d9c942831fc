/**
 * A workflow runner for tests: runs a repository's workflow files, job by job,
 * as GitHub's runner would. Workflows are read from the emulator's repo at the
 * event's commit; each job gets a fresh workspace and a fresh token from the
 * emulator with exactly its `permissions:`; `run:` steps run under bash in a
 * real checkout; node actions (`uses: ./`, or this repo's action by `owner/repo@sha`)
 * run as `node <runs.main>` with the runner's environment; a few third-party
 * actions are stand-ins (stand-ins.ts). What it does not support, it refuses loudly.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { NoOperationTraceWriter, isMapping, isString } from '@actions/workflow-parser'
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token'
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index'
import type { Emulator } from '../emulator/emulator.js'
import { git as gitIn } from '../emulator/git.js'
import { PERMISSION_SCOPES, type Delivery, type Permissions, type Run } from '../emulator/state.js'
import { checkWebhook, schedulePayload, workflowDispatchPayload, webhookUser } from '../emulator/webhooks.js'
import { parseCommands, parseFileCommands, type Annotation } from './commands.js'
import { asString, condition, resolveStringMap, resolveToken, type Contexts, type Status } from './expressions.js'
import { STAND_INS, StandInError } from './stand-ins.js'
import { triggers, type EventInfo } from './triggers.js'
import { expandMatrix, jobOrder, mapGet, parseWorkflowFile, type ParsedJob, type ParsedWorkflow } from './workflow.js'

export interface RunnerOptions {
  emulator: Emulator
  /** The repository whose workflows run, `owner/name`. */
  repo: string
  /** Local directories for `uses: owner/repo@<sha>` (this repo's own action at a pinned commit). */
  actions?: Record<string, string>
  vars?: Record<string, string>
  secrets?: Record<string, string>
  /** A job's permissions when neither it nor its workflow sets `permissions:` (GitHub's restricted default). */
  defaultPermissions?: Permissions
  /** Where deploy-pages publishes, and the URL it is served at. */
  pagesDir?: string
  pagesUrl?: string
  /** Where actions/cache/restore and save keep their entries (a real directory, kept across runs). */
  cacheDir?: string
  /** Variables every step's process starts with, beside the runner's own (default: PATH, HOME, LANG). */
  baseEnv?: NodeJS.ProcessEnv
  /** Kill a step after this long when it names no timeout-minutes (default 10 minutes). */
  stepTimeoutMs?: number
}

export interface StepResult {
  id: string
  name: string
  outcome: 'success' | 'failure' | 'skipped'
  conclusion: 'success' | 'failure' | 'skipped'
  outputs: Record<string, string>
  log: string
  /** The step's wall time, from its start to its outputs read (0 when skipped). */
  durationMs: number
  /** What the step ran: `run`, the action as written in `uses:`, or nothing (skipped). */
  uses: string | undefined
}

export type JobConclusion = 'success' | 'failure' | 'skipped' | 'cancelled'

export interface JobResult {
  /** The job's id in the workflow. */
  id: string
  /** The job's display name, with its matrix values. */
  name: string
  matrix: Record<string, unknown> | undefined
  conclusion: JobConclusion
  steps: StepResult[]
  outputs: Record<string, string>
  annotations: Annotation[]
  summary: string
  log: string
  permissions: Permissions
  /** The job's continue-on-error: its failure does not fail the run. */
  continueOnError: boolean
}

export interface WorkflowRunResult {
  runId: number
  workflow: string
  name: string
  event: string
  conclusion: 'success' | 'failure' | 'cancelled'
  jobs: JobResult[]
}

const DEFAULT_PERMISSIONS: Permissions = { contents: 'read', packages: 'read', metadata: 'read' }
const WORKFLOW_SCOPES = PERMISSION_SCOPES.filter((s) => s !== 'members')

export class Runner {
  private readonly options: RunnerOptions
  private readonly emu: Emulator

  constructor(options: RunnerOptions) {
    this.options = options
    this.emu = options.emulator
  }

  /** The workflow files of the repo at `sha`. */
  async workflowsAt(sha: string): Promise<ParsedWorkflow[]> {
    const dir = this.emu.requireRepo(this.options.repo).dir
    const listing = await gitIn(dir, ['ls-tree', '--name-only', `${sha}:.github/workflows`]).catch(() => '')
    const files = listing.split('\n').filter((f) => /\.ya?ml$/.test(f))
    const parsed: ParsedWorkflow[] = []
    for (const file of files) {
      const filePath = `.github/workflows/${file}`
      parsed.push(await parseWorkflowFile(filePath, await gitIn(dir, ['show', `${sha}:${filePath}`])))
    }
    return parsed
  }

  /**
   * Runs every workflow a delivered event starts. As on GitHub, events caused by
   * a workflow's GITHUB_TOKEN start no runs (except workflow_dispatch).
   */
  async dispatch(delivery: Pick<Delivery, 'name' | 'payload' | 'causedBy'>): Promise<WorkflowRunResult[]> {
    if (delivery.causedBy.kind === 'installation' && delivery.name !== 'workflow_dispatch') return []
    const event = await this.eventInfo(delivery.name, delivery.payload)
    const results: WorkflowRunResult[] = []
    for (const workflow of await this.workflowsAt(event.sha)) {
      if (!triggers(workflow.template.events, event)) continue
      results.push(await this.execute(workflow, event))
    }
    return results
  }

  /** Dispatches the emulator's pending deliveries, and those the runs cause, until none is left (at most `maxRuns` runs). */
  async drain(maxRuns = 20): Promise<WorkflowRunResult[]> {
    const results: WorkflowRunResult[] = []
    for (;;) {
      const pending = this.emu.takeDeliveries().filter((d) => d.repo.toLowerCase() === this.options.repo.toLowerCase())
      if (pending.length === 0) return results
      for (const delivery of pending) {
        results.push(...(await this.dispatch(delivery)))
        if (results.length > maxRuns) throw new Error(`more than ${maxRuns} workflow runs: a loop of workflows triggering each other?`)
      }
    }
  }

  /** Runs the workflows whose `schedule` includes `cron` (or all scheduled ones), as the scheduler would now. */
  async schedule(cron?: string): Promise<WorkflowRunResult[]> {
    const repo = this.emu.requireRepo(this.options.repo)
    const sha = (await gitIn(repo.dir, ['rev-parse', `refs/heads/${repo.defaultBranch}`])).trim()
    const results: WorkflowRunResult[] = []
    for (const workflow of await this.workflowsAt(sha)) {
      const crons = workflow.template.events.schedule ?? []
      const match = crons.find((c) => cron === undefined || c.cron === cron)
      if (!match) continue
      const payload = schedulePayload(this.emu.urls, repo, match.cron, workflow.path)
      // No webhook describes `schedule`; its repository is GitHub's webhook repository object.
      this.emu.mismatches.push(...checkWebhook('repository', payload.repository).map((p) => `event schedule: ${p}`))
      results.push(await this.execute(workflow, await this.eventInfo('schedule', payload)))
    }
    return results
  }

  /** Runs one workflow by `workflow_dispatch`, with its inputs, on a branch. */
  async workflowDispatch(workflowPath: string, inputs: Record<string, unknown> = {}, options: { ref?: string; actor?: string } = {}): Promise<WorkflowRunResult> {
    const repo = this.emu.requireRepo(this.options.repo)
    const ref = options.ref ?? `refs/heads/${repo.defaultBranch}`
    const sender = this.emu.requireAccount(options.actor ?? repo.owner.login)
    const payload = workflowDispatchPayload(this.emu.urls, repo, ref, workflowPath, inputs, sender)
    this.emu.mismatches.push(...checkWebhook('workflow_dispatch$event', payload).map((p) => `event ${p}`))
    const event = await this.eventInfo('workflow_dispatch', payload)
    const workflow = (await this.workflowsAt(event.sha)).find((w) => w.path === workflowPath)
    if (!workflow) throw new Error(`no workflow ${workflowPath} at ${ref}`)
    if (!workflow.template.events.workflow_dispatch) throw new Error(`${workflowPath} has no workflow_dispatch trigger`)
    return this.execute(workflow, event)
  }

  /** Runs one workflow file from disk (not from the repo) for an event, whatever its `on:` says. */
  async runFile(file: string, delivery: { name: string; payload: Record<string, unknown> }): Promise<WorkflowRunResult> {
    const workflow = await parseWorkflowFile(`.github/workflows/${path.basename(file)}`, await fs.promises.readFile(file, 'utf8'))
    return this.execute(workflow, await this.eventInfo(delivery.name, delivery.payload))
  }

  // ------------------------------------------------------------------ events

  private async eventInfo(name: string, payload: Record<string, any>): Promise<RunEvent> {
    const repo = this.emu.requireRepo(this.options.repo)
    const dir = repo.dir
    const tip = async (branch: string) => (await gitIn(dir, ['rev-parse', `refs/heads/${branch}`])).trim()
    let sha: string
    let ref: string
    let headSha: string
    let headBranch: string | null
    let changedFiles: string[] | undefined
    let pullNumber: number | undefined
    let fromFork = false
    if (name === 'push') {
      sha = payload.after
      ref = payload.ref
      headSha = sha
      headBranch = String(ref).replace(/^refs\/(heads|tags)\//, '')
      changedFiles = (payload.commits ?? []).flatMap((c: any) => [...c.added, ...c.removed, ...c.modified])
    } else if (name === 'pull_request' || name === 'pull_request_target') {
      const pr = payload.pull_request
      pullNumber = pr.number
      headSha = pr.head.sha
      headBranch = pr.head.ref
      fromFork = pr.head.repo?.full_name?.toLowerCase() !== this.options.repo.toLowerCase()
      if (name === 'pull_request') {
        const merge = (await gitIn(dir, ['rev-parse', '--verify', '--quiet', `refs/pull/${pr.number}/merge`]).catch(() => '')).trim()
        sha = merge || pr.head.sha
        ref = `refs/pull/${pr.number}/merge`
      } else {
        sha = await tip(pr.base.ref)
        ref = `refs/heads/${pr.base.ref}`
      }
      const base = await tip(pr.base.ref)
      const mergeBase = (await gitIn(dir, ['merge-base', base, pr.head.sha]).catch(() => base)).trim()
      changedFiles = (await gitIn(dir, ['diff', '--name-only', mergeBase, pr.head.sha])).split('\n').filter(Boolean)
    } else if (name === 'workflow_dispatch') {
      ref = payload.ref
      sha = (await gitIn(dir, ['rev-parse', ref])).trim()
      headSha = sha
      headBranch = ref.replace(/^refs\/heads\//, '')
    } else {
      ref = `refs/heads/${repo.defaultBranch}`
      sha = await tip(repo.defaultBranch)
      headSha = sha
      headBranch = repo.defaultBranch
    }
    const sender = payload.sender ?? webhookUser(this.emu.urls, repo.owner)
    return { name, payload, sha, ref, headSha, headBranch, changedFiles, pullNumber, fromFork, actor: sender.login, actorId: sender.id }
  }

  // ------------------------------------------------------------------ runs

  private async execute(workflow: ParsedWorkflow, event: RunEvent): Promise<WorkflowRunResult> {
    const emu = this.emu
    const run = emu.startRun({
      repo: this.options.repo,
      workflowPath: workflow.path,
      workflowName: workflow.name,
      event: event.name,
      headSha: event.headSha,
      headBranch: event.headBranch,
      actor: event.actor,
      // GitHub lists no pull requests on runs of pull requests from forks.
      pullRequests: event.pullNumber !== undefined && !event.fromFork ? [event.pullNumber] : [],
      headRepo: event.fromFork ? String(event.payload.pull_request.head.repo.full_name) : this.options.repo,
    })
    const jobs: JobResult[] = []
    const needs: Record<string, { result: JobConclusion; outputs: Record<string, string> }> = {}
    const workflowEnvToken = mapGet(workflow.root, 'env')
    let failed = false
    for (const job of jobOrder(workflow.jobs)) {
      const results = await this.runJob(workflow, job, event, run, needs, workflowEnvToken)
      jobs.push(...results)
      const conclusions = results.map((r) => r.conclusion)
      const result: JobConclusion = conclusions.includes('failure') ? 'failure' : conclusions.every((c) => c === 'skipped') ? 'skipped' : conclusions.includes('cancelled') ? 'cancelled' : 'success'
      // A failed leg whose job has continue-on-error (which may depend on the matrix) does not fail the run.
      if (results.some((r) => r.conclusion === 'failure' && !r.continueOnError)) failed = true
      needs[job.id] = { result, outputs: Object.assign({}, ...results.map((r) => r.outputs)) }
    }
    const conclusion = failed ? 'failure' : 'success'
    await emu.completeRun(run, conclusion)
    return { runId: run.id, workflow: workflow.path, name: workflow.name, event: event.name, conclusion, jobs }
  }

  private githubContext(workflow: ParsedWorkflow, event: RunEvent, run: Run, jobId: string, token: string, workspace: string, eventPath: string): Record<string, unknown> {
    const repo = this.emu.requireRepo(this.options.repo)
    const refName = event.ref.replace(/^refs\/(heads|tags)\//, '').replace(/^refs\/pull\/(\d+)\/merge$/, '$1/merge')
    const pr = event.payload.pull_request
    return {
      action: '',
      action_path: '',
      actor: event.actor,
      actor_id: String(event.actorId),
      api_url: this.emu.urls.api,
      base_ref: pr ? pr.base.ref : '',
      event: event.payload,
      event_name: event.name,
      event_path: eventPath,
      graphql_url: `${this.emu.urls.api.replace(/\/v3$/, '')}/graphql`,
      head_ref: pr ? pr.head.ref : '',
      job: jobId,
      ref: event.ref,
      ref_name: refName,
      ref_protected: false,
      ref_type: event.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      repository: this.options.repo,
      repository_id: String(repo.id),
      repository_owner: repo.owner.login,
      repository_owner_id: String(repo.owner.id),
      repositoryUrl: `${this.emu.urls.html.replace(/^http/, 'git')}/${this.options.repo}.git`,
      retention_days: '90',
      run_attempt: String(run.runAttempt),
      run_id: String(run.id),
      run_number: String(run.runNumber),
      server_url: this.emu.urls.html,
      sha: event.sha,
      token,
      triggering_actor: event.actor,
      workflow: workflow.name,
      workflow_ref: `${this.options.repo}/${workflow.path}@${event.ref}`,
      workflow_sha: event.sha,
      workspace,
    }
  }

  private permissionsFor(workflow: ParsedWorkflow, job: ParsedJob, event: RunEvent): Permissions {
    const token = mapGet(job.raw, 'permissions') ?? mapGet(workflow.root, 'permissions')
    let permissions: Permissions
    if (!token) permissions = { ...(this.options.defaultPermissions ?? DEFAULT_PERMISSIONS) }
    else if (isString(token) && (token.value === 'read-all' || token.value === 'write-all')) {
      const level = token.value === 'read-all' ? 'read' : 'write'
      permissions = Object.fromEntries(WORKFLOW_SCOPES.map((s) => [s, s === 'id-token' && level === 'read' ? 'none' : level]))
    } else if (isMapping(token)) {
      permissions = {}
      for (const pair of token) {
        const scope = isString(pair.key) ? pair.key.value : ''
        const level = isString(pair.value) ? pair.value.value : ''
        if (!(WORKFLOW_SCOPES as readonly string[]).includes(scope) || !['read', 'write', 'none'].includes(level)) throw new Error(`${workflow.path}: job ${job.id}: unknown permission ${scope}: ${level}`)
        permissions[scope as keyof Permissions] = level as 'read' | 'write' | 'none'
      }
    } else throw new Error(`${workflow.path}: job ${job.id}: permissions must be read-all, write-all or a mapping`)
    // A pull request from a fork gets a read-only token, whatever the workflow asks.
    if (event.fromFork && event.name === 'pull_request') {
      for (const scope of Object.keys(permissions) as Array<keyof Permissions>) if (permissions[scope] === 'write') permissions[scope] = 'read'
      delete permissions['id-token']
    }
    return permissions
  }

  private async runJob(
    workflow: ParsedWorkflow,
    job: ParsedJob,
    event: RunEvent,
    run: Run,
    needs: Record<string, { result: JobConclusion; outputs: Record<string, string> }>,
    workflowEnvToken: TemplateToken | undefined,
  ): Promise<JobResult[]> {
    const needsContext = Object.fromEntries((job.job.needs ?? []).map((n) => [n.value, needs[n.value]]))
    const neededFailed = Object.values(needsContext).some((n) => n && (n.result === 'failure' || n.result === 'cancelled'))
    const neededIncomplete = Object.values(needsContext).some((n) => !n || n.result !== 'success')
    const base = { github: { event: event.payload, event_name: event.name, ref: event.ref, sha: event.sha, repository: this.options.repo, actor: event.actor }, needs: needsContext, vars: this.options.vars ?? {}, inputs: this.inputs(workflow, event) }
    const status: Status = { failed: neededFailed, cancelled: false, incomplete: neededIncomplete }
    const unsupported = ['container', 'services'].filter((k) => mapGet(job.raw, k) !== undefined)
    if (unsupported.length > 0) throw new Error(`${workflow.path}: job ${job.id} uses ${unsupported.join(' and ')}, which this runner does not run`)
    const skipped = (name: string): JobResult => ({ id: job.id, name, matrix: undefined, conclusion: 'skipped', steps: [], outputs: {}, annotations: [], summary: '', log: '', permissions: {}, continueOnError: false })
    // A job whose needed job did not succeed is skipped unless its `if:` says otherwise (the converter adds success()).
    if (!condition(job.job.if.expression, base, status)) return [skipped(job.id)]
    const strategy = (resolveToken(job.job.strategy, base) ?? {}) as { matrix?: Record<string, unknown>; 'fail-fast'?: boolean }
    const legs = expandMatrix(strategy.matrix)
    const failFast = strategy['fail-fast'] !== false
    const results: JobResult[] = []
    for (const [index, matrix] of legs.entries()) {
      if (failFast && results.some((r) => r.conclusion === 'failure')) {
        results.push({ ...skipped(job.id), conclusion: 'cancelled', matrix })
        continue
      }
      const strategyContext = { 'fail-fast': failFast, 'job-index': index, 'job-total': legs.length, 'max-parallel': legs.length }
      results.push(await this.runLeg(workflow, job, event, run, { ...base, matrix, strategy: strategyContext }, workflowEnvToken, legs.length > 1 || Object.keys(matrix).length > 0 ? matrix : undefined))
    }
    return results
  }

  private inputs(workflow: ParsedWorkflow, event: RunEvent): Record<string, unknown> {
    // Only a workflow_dispatch run has inputs; on any other event the context is empty.
    if (event.name !== 'workflow_dispatch') return {}
    const declared = workflow.template.events.workflow_dispatch?.inputs ?? {}
    const given = event.payload.inputs ?? {}
    const inputs: Record<string, unknown> = {}
    for (const [name, config] of Object.entries(declared)) {
      const value = given[name] ?? config.default
      inputs[name] = config.type === 'boolean' ? value === true || value === 'true' : value
    }
    return inputs
  }

  private async runLeg(
    workflow: ParsedWorkflow,
    job: ParsedJob,
    event: RunEvent,
    run: Run,
    base: Contexts,
    workflowEnvToken: TemplateToken | undefined,
    matrix: Record<string, unknown> | undefined,
  ): Promise<JobResult> {
    const permissions = this.permissionsFor(workflow, job, event)
    const token = this.emu.mintToken({ permissions, repositories: [this.options.repo] })
    const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-runner-'))
    const workspace = path.join(root, 'workspace')
    const runnerTemp = path.join(root, 'temp')
    await fs.promises.mkdir(workspace, { recursive: true })
    await fs.promises.mkdir(runnerTemp, { recursive: true })
    const eventPath = path.join(root, 'event.json')
    await fs.promises.writeFile(eventPath, JSON.stringify(event.payload, null, 2))

    const secrets: Record<string, string> = { GITHUB_TOKEN: token, ...(event.fromFork && event.name === 'pull_request' ? {} : (this.options.secrets ?? {})) }
    const masks = new Set<string>([token, ...Object.values(secrets).filter((s) => s.length >= 4)])
    const github = this.githubContext(workflow, event, run, job.id, token, workspace, eventPath)
    const runnerContext = { os: 'Linux', arch: 'X64', name: 'wharf-test-runner', temp: runnerTemp, tool_cache: path.join(root, 'tool-cache'), environment: 'github-hosted', debug: '' }
    const contexts: Contexts = { ...base, github, secrets, runner: runnerContext, job: { status: 'success', container: {}, services: {} }, steps: {}, env: {} }
    const workflowEnv = resolveStringMap(workflowEnvToken, contexts)
    contexts.env = workflowEnv
    const jobEnv = { ...workflowEnv, ...resolveStringMap(job.job.env, contexts) }
    contexts.env = jobEnv
    const displayName = String(resolveToken(job.job.name, contexts) ?? job.id) + (matrix && !job.job.name ? ` (${Object.values(matrix).map(asString).join(', ')})` : '')
    const defaults = { ...(resolveToken(mapGet(mapGet(workflow.root, 'defaults'), 'run'), contexts) as object), ...(resolveToken(mapGet(mapGet(job.raw, 'defaults'), 'run'), contexts) as object) } as { shell?: string; 'working-directory'?: string }
    const timeout = resolveToken(mapGet(job.raw, 'timeout-minutes'), contexts)

    const continueOnError = resolveToken(mapGet(job.raw, 'continue-on-error'), contexts) === true
    const result: JobResult = { id: job.id, name: displayName, matrix, conclusion: 'success', steps: [], outputs: {}, annotations: [], summary: '', log: '', permissions, continueOnError }
    const stepsContext: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }> = {}
    const addedPath: string[] = []
    const state: Status = { failed: false, cancelled: false }
    const mask = (text: string) => [...masks].reduce((t, m) => t.split(m).join('***'), text)
    const jobDeadline = typeof timeout === 'number' ? Date.now() + timeout * 60_000 : undefined

    for (const [index, { step, raw }] of job.steps.entries()) {
      const id = step.id
      contexts.steps = stepsContext
      contexts.job = { status: state.failed ? 'failure' : 'success', container: {}, services: {} }
      const name = String(resolveToken(step.name, contexts) ?? ('run' in step ? `Run ${asString(resolveToken(step.run, contexts)).split('\n')[0]}` : 'uses' in step ? step.uses.value : id))
      const stepResult: StepResult = { id, name, outcome: 'skipped', conclusion: 'skipped', outputs: {}, log: '', durationMs: 0, uses: 'uses' in step ? step.uses.value : undefined }
      const ifExpr = 'if' in step && step.if ? step.if.expression : 'success()'
      if (!condition(ifExpr, contexts, state, workspace)) {
        result.steps.push(stepResult)
        stepsContext[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' }
        continue
      }
      const files = { GITHUB_OUTPUT: path.join(runnerTemp, `output_${index}`), GITHUB_ENV: path.join(runnerTemp, `env_${index}`), GITHUB_PATH: path.join(runnerTemp, `path_${index}`), GITHUB_STEP_SUMMARY: path.join(runnerTemp, `summary_${index}`), GITHUB_STATE: path.join(runnerTemp, `state_${index}`) }
      for (const file of Object.values(files)) await fs.promises.writeFile(file, '')
      const stepEnv = { ...jobEnv, ...resolveStringMap('env' in step ? step.env : undefined, { ...contexts, env: jobEnv }, state, workspace) }
      const processEnv: NodeJS.ProcessEnv = {
        ...(this.options.baseEnv ?? { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' }),
        ...this.runnerEnv(github, runnerContext, id, files),
        ...stepEnv,
      }
      if (addedPath.length > 0) processEnv.PATH = [...addedPath, processEnv.PATH].join(path.delimiter)
      const stepTimeoutMinutes = resolveToken(mapGet(raw, 'timeout-minutes'), contexts)
      const timeoutMs = Math.min(typeof stepTimeoutMinutes === 'number' ? stepTimeoutMinutes * 60_000 : (this.options.stepTimeoutMs ?? 600_000), jobDeadline ? jobDeadline - Date.now() : Infinity)

      const started = performance.now()
      let ok = true
      let stdout = ''
      let stderr = ''
      try {
        if ('run' in step) {
          const script = asString(resolveToken(step.run, { ...contexts, env: stepEnv }, state, workspace))
          const shell = asString(resolveToken(mapGet(raw, 'shell'), contexts)) || defaults.shell || 'bash'
          const cwd = path.resolve(workspace, asString(resolveToken(mapGet(raw, 'working-directory'), contexts)) || defaults['working-directory'] || '.')
          const out = await this.runScript(script, shell, cwd, processEnv, runnerTemp, timeoutMs)
          ;({ stdout, stderr } = out)
          ok = out.code === 0
          if (!ok) stderr += `\nError: Process completed with exit code ${out.code}.`
        } else if ('uses' in step) {
          const withInputs = resolveStringMap(mapGet(raw, 'with'), { ...contexts, env: stepEnv }, state, workspace)
          const out = await this.runAction(step.uses.value, withInputs, { contexts: { ...contexts, env: stepEnv }, workspace, runnerTemp, processEnv, timeoutMs, token, permissions, run, github })
          ;({ stdout, stderr } = out)
          ok = out.ok
          Object.assign(stepResult.outputs, out.outputs)
        } else {
          throw new Error('this step kind is not supported by the runner')
        }
      } catch (e) {
        ok = false
        stderr += `\nError: ${e instanceof StandInError || e instanceof Error ? e.message : String(e)}`
      }
      const commands = parseCommands(stdout)
      commands.masks.forEach((m) => masks.add(m))
      try {
        Object.assign(stepResult.outputs, parseFileCommands(await fs.promises.readFile(files.GITHUB_OUTPUT, 'utf8'), 'GITHUB_OUTPUT'))
        Object.assign(jobEnv, parseFileCommands(await fs.promises.readFile(files.GITHUB_ENV, 'utf8'), 'GITHUB_ENV'))
        addedPath.unshift(...(await fs.promises.readFile(files.GITHUB_PATH, 'utf8')).split('\n').filter(Boolean).reverse())
        result.summary += await fs.promises.readFile(files.GITHUB_STEP_SUMMARY, 'utf8')
      } catch (e) {
        ok = false
        stderr += `\nError: ${(e as Error).message}`
      }
      stepResult.durationMs = performance.now() - started
      result.annotations.push(...commands.annotations)
      stepResult.log = mask([...commands.log, stderr].join('\n').trim())
      const continueOnError = resolveToken(mapGet(raw, 'continue-on-error'), contexts) === true
      stepResult.outcome = ok ? 'success' : 'failure'
      stepResult.conclusion = ok || continueOnError ? 'success' : 'failure'
      if (stepResult.conclusion === 'failure') state.failed = true
      stepsContext[id] = { outputs: stepResult.outputs, outcome: stepResult.outcome, conclusion: stepResult.conclusion }
      result.steps.push(stepResult)
      result.log += `## ${name}\n${stepResult.log}\n`
    }
    contexts.steps = stepsContext
    result.outputs = resolveStringMap(job.job.outputs, contexts, state, workspace)
    result.conclusion = state.failed ? 'failure' : 'success'
    result.summary = mask(result.summary)
    this.emu.revokeToken(token)
    await fs.promises.rm(root, { recursive: true, force: true }).catch(() => {})
    return result
  }

  private runnerEnv(github: Record<string, unknown>, runner: Record<string, unknown>, stepId: string, files: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { CI: 'true', GITHUB_ACTIONS: 'true', RUNNER_OS: 'Linux', RUNNER_ARCH: 'X64', RUNNER_NAME: String(runner.name), RUNNER_TEMP: String(runner.temp), RUNNER_TOOL_CACHE: String(runner.tool_cache), RUNNER_ENVIRONMENT: 'github-hosted', ...files }
    const names = ['action', 'actor', 'actor_id', 'api_url', 'base_ref', 'event_name', 'event_path', 'graphql_url', 'head_ref', 'job', 'ref', 'ref_name', 'ref_protected', 'ref_type', 'repository', 'repository_id', 'repository_owner', 'repository_owner_id', 'retention_days', 'run_attempt', 'run_id', 'run_number', 'server_url', 'sha', 'triggering_actor', 'workflow', 'workflow_ref', 'workflow_sha', 'workspace']
    for (const name of names) env[`GITHUB_${name.toUpperCase()}`] = asString(github[name])
    env.GITHUB_ACTION = stepId
    return env
  }

  private runScript(script: string, shell: string, cwd: string, env: NodeJS.ProcessEnv, temp: string, timeoutMs: number): Promise<{ stdout: string; stderr: string; code: number }> {
    const file = path.join(temp, `${randomUUID()}.sh`)
    fs.writeFileSync(file, script)
    const templates: Record<string, string[]> = { bash: ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '{0}'], sh: ['sh', '-e', '{0}'] }
    const command = templates[shell] ?? (shell.includes('{0}') ? shell.split(/\s+/) : undefined)
    if (!command) throw new Error(`shell ${shell} is not supported by this runner (bash, sh, or a command with {0})`)
    return spawnCollect(command[0]!, command.slice(1).map((a) => a.replace('{0}', file)), cwd, env, timeoutMs)
  }

  private async runAction(
    uses: string,
    inputs: Record<string, string>,
    ctx: { contexts: Contexts; workspace: string; runnerTemp: string; processEnv: NodeJS.ProcessEnv; timeoutMs: number; token: string; permissions: Permissions; run: Run; github: Record<string, unknown> },
  ): Promise<{ ok: boolean; stdout: string; stderr: string; outputs: Record<string, string> }> {
    if (uses.startsWith('docker://')) throw new Error(`${uses}: docker actions are not run by this runner`)
    let actionDir: string
    if (uses.startsWith('./')) {
      actionDir = path.resolve(ctx.workspace, uses)
    } else {
      const at = uses.lastIndexOf('@')
      const name = at > 0 ? uses.slice(0, at) : uses
      const ref = at > 0 ? uses.slice(at + 1) : ''
      // Issue 10's rule, enforced here as GitHub's allowed-actions policy would: a third-party action is pinned by its full commit sha.
      if (!/^[0-9a-f]{40}$/.test(ref)) throw new Error(`${uses} is not pinned to a full 40-hex commit sha; pin third-party actions by sha`)
      const [owner, repo, ...rest] = name.split('/')
      const local = this.options.actions?.[`${owner}/${repo}`]
      if (local) actionDir = path.join(local, ...rest)
      else {
        const standIn = STAND_INS.get(name)
        if (!standIn) throw new Error(`${name} has no stand-in in this runner (known: ${[...STAND_INS.keys()].join(', ')})`)
        const lines: string[] = []
        const outputs = await standIn({
          inputs,
          workspace: ctx.workspace,
          runnerTemp: ctx.runnerTemp,
          token: ctx.token,
          permissions: ctx.permissions,
          github: { repository: this.options.repo, ref: String(ctx.github.ref), sha: String(ctx.github.sha), serverUrl: this.emu.urls.html },
          emulator: this.emu,
          run: ctx.run,
          pagesDir: this.options.pagesDir,
          pagesUrl: this.options.pagesUrl,
          cacheDir: this.options.cacheDir,
          log: (line) => lines.push(line),
        })
        return { ok: true, stdout: `[stand-in for ${name}]\n${lines.join('\n')}`, stderr: '', outputs }
      }
    }
    return this.runNodeAction(actionDir, inputs, ctx)
  }

  private async runNodeAction(
    actionDir: string,
    inputs: Record<string, string>,
    ctx: { contexts: Contexts; workspace: string; processEnv: NodeJS.ProcessEnv; timeoutMs: number },
  ): Promise<{ ok: boolean; stdout: string; stderr: string; outputs: Record<string, string> }> {
    const file = ['action.yml', 'action.yaml'].map((f) => path.join(actionDir, f)).find((f) => fs.existsSync(f))
    if (!file) throw new Error(`no action.yml in ${actionDir}`)
    const parsed = parseAction({ name: file, content: await fs.promises.readFile(file, 'utf8') }, new NoOperationTraceWriter())
    const errors = parsed.context.errors.getErrors()
    if (errors.length > 0 || !parsed.value) throw new Error(`${file}: ${errors.map((e) => e.message).join('; ')}`)
    const action = convertActionTemplate(parsed.context, parsed.value)
    const runs = action.runs
    if (runs.using !== 'node20' && runs.using !== 'node24') throw new Error(`${file}: runs.using ${runs.using} is not run by this runner (node20, node24)`)
    if (runs.pre || runs.post) throw new Error(`${file}: pre and post scripts are not run by this runner`)
    const env: NodeJS.ProcessEnv = { ...ctx.processEnv, GITHUB_ACTION_PATH: actionDir }
    const declared = new Set<string>()
    for (const input of action.inputs ?? []) {
      declared.add(input.id)
      const value = inputs[input.id] ?? asString(resolveToken(input.default, ctx.contexts))
      env[`INPUT_${input.id.replace(/ /g, '_').toUpperCase()}`] = value
    }
    let warnings = ''
    for (const [name, value] of Object.entries(inputs)) {
      if (!declared.has(name)) {
        warnings += `::warning::Unexpected input '${name}', valid inputs are [${[...declared].map((d) => `'${d}'`).join(', ')}]\n`
        env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
      }
    }
    const out = await spawnCollect(process.execPath, [path.join(actionDir, runs.main)], ctx.workspace, env, ctx.timeoutMs)
    return { ok: out.code === 0, stdout: warnings + out.stdout, stderr: out.stderr, outputs: {} }
  }
}

interface RunEvent extends EventInfo {
  sha: string
  ref: string
  headSha: string
  headBranch: string | null
  pullNumber: number | undefined
  fromFork: boolean
  actor: string
  actorId: number
}

function spawnCollect(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      stderr += `\nError: the step ran longer than its timeout (${Math.round(timeoutMs / 1000)}s) and was cancelled.`
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }, Math.max(0, timeoutMs))
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({ stdout, stderr: `${stderr}\n${e.message}`, code: 127 })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ stdout, stderr, code: code ?? (signal ? 137 : 1) })
    })
  })
}

/** A runner for one repository's workflows on the emulator. */
export function createRunner(options: RunnerOptions): Runner {
  return new Runner(options)
}

