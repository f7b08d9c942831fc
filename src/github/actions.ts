/**
 * Output for a GitHub Actions runner, through @actions/core: findings as
 * file annotations on the pull request, and a Markdown step summary. The
 * CLI loads this module with import() only when it runs under Actions, so
 * no other run pays for @actions/core.
 */
import * as core from '@actions/core'
import { WharfError, type Finding } from '../core/errors.js'

/** One `::error` annotation per finding, titled by its rule, on its file when it names one. */
export function annotate(findings: readonly Finding[]): void {
  for (const f of findings) core.error(`${f.message}. Fix: ${f.hint}`, { title: f.rule, ...(f.file ? { file: f.file } : {}) })
}

/** Appends Markdown to the job's step summary (the file $GITHUB_STEP_SUMMARY names). */
export async function appendSummary(markdown: string): Promise<void> {
  try {
    await core.summary.addRaw(markdown).write()
  } catch (e) {
    throw new WharfError('IO', `cannot append to the step summary: ${(e as Error).message}`, { hint: 'GITHUB_STEP_SUMMARY must name a writable file' })
  }
}
