/**
 * A workflow file as the runner sees it: parsed and checked by GitHub's own
 * @actions/workflow-parser, converted to its model (jobs, steps, `if`, needs,
 * events), with the raw tokens at hand for what the model leaves out
 * (`permissions`, `with`, `defaults`, `continue-on-error`, `timeout-minutes`,
 * `working-directory`, `shell`).
 */
import { NoOperationTraceWriter, convertWorkflowTemplate, isMapping, isSequence, isString, parseWorkflow, type WorkflowTemplate } from '@actions/workflow-parser'
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token'
import type { Job, Step } from '@actions/workflow-parser/model/workflow-template'
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/mapping-token'

export interface ParsedWorkflow {
  path: string
  name: string
  template: WorkflowTemplate
  root: MappingToken
  jobs: ParsedJob[]
}

export interface ParsedJob {
  id: string
  job: Job
  raw: MappingToken
  steps: Array<{ step: Step; raw: MappingToken }>
}

export function mapGet(mapping: TemplateToken | undefined, key: string): TemplateToken | undefined {
  if (!mapping || !isMapping(mapping)) return undefined
  for (const pair of mapping) if (isString(pair.key) && pair.key.value === key) return pair.value
  return undefined
}

/** Parses a workflow file; any error GitHub's parser reports is thrown with the file's name. */
export async function parseWorkflowFile(path: string, content: string): Promise<ParsedWorkflow> {
  const parsed = parseWorkflow({ name: path, content }, new NoOperationTraceWriter())
  const errors = parsed.context.errors.getErrors()
  if (errors.length > 0 || !parsed.value) throw new Error(`${path}: ${errors.map((e) => e.message).join('; ') || 'not a workflow'}`)
  const template = await convertWorkflowTemplate(parsed.context, parsed.value)
  if (template.errors?.length) throw new Error(`${path}: ${template.errors.map((e) => e.Message).join('; ')}`)
  const root = parsed.value as MappingToken
  const nameToken = mapGet(root, 'name')
  const rawJobs = mapGet(root, 'jobs')
  const jobs: ParsedJob[] = []
  for (const workflowJob of template.jobs) {
    const id = workflowJob.id.value
    if (workflowJob.type !== 'job') throw new Error(`${path}: job ${id} calls a reusable workflow, which this runner does not run`)
    const raw = mapGet(rawJobs, id) as MappingToken
    const rawSteps = mapGet(raw, 'steps')
    const steps: ParsedJob['steps'] = []
    workflowJob.steps.forEach((step, i) => {
      steps.push({ step, raw: (rawSteps && isSequence(rawSteps) ? rawSteps.get(i) : undefined) as MappingToken })
    })
    jobs.push({ id, job: workflowJob, raw, steps })
  }
  return { path, name: nameToken && isString(nameToken) ? nameToken.value : path, template, root, jobs }
}

/** Jobs in an order where every job comes after the jobs it needs. */
export function jobOrder(jobs: ParsedJob[]): ParsedJob[] {
  const byId = new Map(jobs.map((j) => [j.id, j]))
  const done = new Set<string>()
  const order: ParsedJob[] = []
  const visit = (job: ParsedJob, path: string[]) => {
    if (done.has(job.id)) return
    if (path.includes(job.id)) throw new Error(`jobs need each other in a cycle: ${[...path, job.id].join(' -> ')}`)
    for (const need of job.job.needs ?? []) {
      const dep = byId.get(need.value)
      if (!dep) throw new Error(`job ${job.id} needs ${need.value}, which does not exist`)
      visit(dep, [...path, job.id])
    }
    done.add(job.id)
    order.push(job)
  }
  for (const job of jobs) visit(job, [])
  return order
}

/** A matrix expanded as GitHub expands it: the product of its keys, minus `exclude`, plus `include`. */
export function expandMatrix(matrix: Record<string, unknown> | undefined): Array<Record<string, unknown>> {
  if (!matrix || Object.keys(matrix).length === 0) return [{}]
  const { include, exclude, ...axes } = matrix as { include?: Array<Record<string, unknown>>; exclude?: Array<Record<string, unknown>> }
  let combos: Array<Record<string, unknown>> = [{}]
  for (const [key, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new Error(`matrix.${key} must be a list`)
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })))
  }
  if (Object.keys(axes).length === 0) combos = []
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  for (const ex of exclude ?? []) combos = combos.filter((c) => !Object.entries(ex).every(([k, v]) => same(c[k], v)))
  const originals = combos.map((c) => ({ ...c }))
  for (const inc of include ?? []) {
    let added = false
    combos.forEach((combo, i) => {
      const original = originals[i]!
      // An include extends a combination only where it overwrites none of the matrix's own values.
      if (Object.entries(inc).every(([k, v]) => !(k in original) || same(original[k], v))) {
        Object.assign(combo, inc)
        added = true
      }
    })
    if (!added) {
      // A combination an include creates counts its values as its own, so a later include cannot overwrite them.
      combos.push({ ...inc })
      originals.push({ ...inc })
    }
  }
  return combos
}
