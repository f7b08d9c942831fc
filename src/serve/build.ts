/**
 * Regenerating the static API after a merge, through `wharf build-api`'s
 * own function (src/api), incrementally from the last commit it was built
 * from. The commit is recorded only after a build finishes, so a build cut
 * short by a crash is simply run again on start.
 */
import fs from 'node:fs'
import path from 'node:path'
import { buildApi } from '../api/index.js'
import type { Repo } from '../git/index.js'
import { siteRenderer } from '../site/index.js'
import { writeFileAtomic } from '../store/index.js'

export interface BuildApiOptions {
  repo: Repo
  out: string
  baseUrl?: string
  since?: string
}

export type BuildApi = (options: BuildApiOptions) => Promise<unknown>

/** `wharf build-api` itself, with the site's pages: the server shows people what a static host would. */
export const defaultBuildApi: BuildApi = (options) => buildApi({ ...options, pages: siteRenderer })

/** What the generated API was last built from: a commit, for a base URL baked into its documents. */
export interface Built {
  commit: string
  baseUrl: string
}

/**
 * Removes the temp files a build cut short left among the generated files
 * (`<file>.<hex>.tmp`: a full disk mid-build, a crash). Only a build that did
 * not finish leaves them, so this runs before the build that follows one.
 */
export async function removeBuildTemps(dir: string): Promise<string[]> {
  const removed: string[] = []
  const visit = async (at: string): Promise<void> => {
    const entries = await fs.promises.readdir(at, { withFileTypes: true }).catch(() => [] as fs.Dirent[])
    for (const entry of entries) {
      const full = path.join(at, entry.name)
      if (entry.isDirectory()) await visit(full)
      else if (/\.[0-9a-f]{8}\.tmp$/.test(entry.name)) {
        await fs.promises.rm(full, { force: true })
        removed.push(full)
      }
    }
  }
  await visit(dir)
  return removed
}

export async function readBuilt(file: string): Promise<Built | undefined> {
  try {
    const parsed = JSON.parse(await fs.promises.readFile(file, 'utf8')) as Partial<Built>
    return typeof parsed.commit === 'string' && typeof parsed.baseUrl === 'string' ? { commit: parsed.commit, baseUrl: parsed.baseUrl } : undefined
  } catch {
    return undefined
  }
}

export async function writeBuilt(file: string, built: Built): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(built)}\n`)
}
