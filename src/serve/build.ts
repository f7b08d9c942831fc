/**
 * Regenerating the static API after a merge, through `wharf build-api`'s
 * own function (src/api), incrementally from the last commit it was built
 * from. The commit is recorded only after a build finishes, so a build cut
 * short by a crash is simply run again on start.
 */
import fs from 'node:fs'
import { buildApi } from '../api/index.js'
import type { Repo } from '../git/index.js'
import { writeFileAtomic } from '../store/index.js'

export interface BuildApiOptions {
  repo: Repo
  out: string
  baseUrl?: string
  since?: string
}

export type BuildApi = (options: BuildApiOptions) => Promise<unknown>

/** `wharf build-api` itself. */
export const defaultBuildApi: BuildApi = buildApi

export async function readBuiltCommit(file: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { commit?: unknown }
    return typeof parsed.commit === 'string' ? parsed.commit : undefined
  } catch {
    return undefined
  }
}

export async function writeBuiltCommit(file: string, commit: string): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify({ commit })}\n`)
}
