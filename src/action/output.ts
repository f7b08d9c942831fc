/** The Action's outputs by name (action.yml's), and findings to the runner: annotations and the step summary. */
import { annotate, appendSummary } from '../github/actions.js'
import type { Finding } from '../check/index.js'

export const OUTPUT = {
  accepted: 'accepted',
  packages: 'packages',
  legs: 'legs',
  report: 'report',
  merged: 'merged',
  decision: 'decision',
  released: 'released',
  uploaded: 'uploaded',
  reports: 'reports',
  head: 'head',
  pullRequest: 'pull-request',
  assetUrl: 'asset-url',
  site: 'site',
} as const

/** Each finding as a file annotation, and the Markdown in the step summary. */
export async function report(findings: readonly Finding[], markdown: string): Promise<void> {
  annotate(findings)
  if (process.env.GITHUB_STEP_SUMMARY) await appendSummary(markdown)
}
