/** Which workflows an event starts: `on:` with its types, branches, tags, paths and workflows filters. */
import type { EventsConfig } from '@actions/workflow-parser/model/workflow-template'
import { matchesFilter } from './globs.js'

/** The types GitHub assumes when a trigger names none. */
const DEFAULT_TYPES: Record<string, string[]> = {
  pull_request: ['opened', 'synchronize', 'reopened'],
  pull_request_target: ['opened', 'synchronize', 'reopened'],
}

export interface EventInfo {
  name: string
  payload: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Files the event changed, for `paths` filters (a push's commits, a pull request's diff). */
  changedFiles?: string[]
}

interface Filters {
  types?: string[]
  branches?: string[]
  'branches-ignore'?: string[]
  tags?: string[]
  'tags-ignore'?: string[]
  paths?: string[]
  'paths-ignore'?: string[]
  workflows?: string[]
}

function branchOk(filters: Filters, branch: string | undefined): boolean {
  if (branch === undefined) return !filters.branches
  if (filters.branches && !matchesFilter(filters.branches, branch)) return false
  if (filters['branches-ignore'] && matchesFilter(filters['branches-ignore'], branch)) return false
  return true
}

function pathsOk(filters: Filters, files: string[] | undefined): boolean {
  if (!filters.paths && !filters['paths-ignore']) return true
  // Without the list of changed files GitHub runs the workflow (for example a push of more than 1,000 commits).
  if (!files) return true
  if (filters['paths-ignore'] && files.every((f) => matchesFilter(filters['paths-ignore']!, f))) return false
  if (filters.paths && !files.some((f) => matchesFilter(filters.paths!, f))) return false
  return true
}

/** Whether `on:` starts this workflow for the event. */
export function triggers(events: EventsConfig, event: EventInfo): boolean {
  const config = (events as Record<string, unknown>)[event.name]
  if (config === undefined) return false
  const filters = (config ?? {}) as Filters
  const action = event.payload.action as string | undefined
  switch (event.name) {
    case 'push': {
      const ref = String(event.payload.ref ?? '')
      if (ref.startsWith('refs/tags/')) {
        const tag = ref.slice('refs/tags/'.length)
        if (!filters.tags && !filters['tags-ignore'] && (filters.branches || filters['branches-ignore'])) return false
        if (filters.tags && !matchesFilter(filters.tags, tag)) return false
        if (filters['tags-ignore'] && matchesFilter(filters['tags-ignore'], tag)) return false
        return true
      }
      if ((filters.tags || filters['tags-ignore']) && !filters.branches && !filters['branches-ignore']) return false
      return branchOk(filters, ref.replace(/^refs\/heads\//, '')) && pathsOk(filters, event.changedFiles)
    }
    case 'pull_request':
    case 'pull_request_target': {
      const types = filters.types ?? DEFAULT_TYPES[event.name]!
      if (!types.includes(String(action))) return false
      return branchOk(filters, event.payload.pull_request?.base?.ref) && pathsOk(filters, event.changedFiles)
    }
    case 'workflow_run': {
      if (filters.types && !filters.types.includes(String(action))) return false
      if (filters.workflows && !filters.workflows.includes(String(event.payload.workflow?.name ?? event.payload.workflow_run?.name))) return false
      return branchOk(filters, event.payload.workflow_run?.head_branch ?? undefined)
    }
    case 'schedule': {
      const crons = (config as Array<{ cron: string }>) ?? []
      return event.payload.schedule === undefined || crons.some((c) => c.cron === event.payload.schedule)
    }
    default:
      return !filters.types || filters.types.includes(String(action))
  }
}
