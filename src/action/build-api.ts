/**
 * `command: build-api`: the registry's static read side (the Run 2.0 API, the
 * Cargo sparse index, the change feed, the site for people) of the checkout's
 * HEAD, written into `out` for the Pages actions to deploy, as the CLI's
 * build-api writes it. With `releases` (default: this repo) download URLs and
 * Cargo's `dl` name the release assets `release` uploads. When `out` already
 * holds a build (restored from the Actions cache), only what changed since
 * the commit it was built from is rebuilt; a build that cannot be incremental
 * runs in full and says why. A thin entry over api's buildApi: a full build
 * of a large index uses every core of the runner, its worker threads
 * loading the bundle itself and the page renderer from site.js beside it.
 */
import * as core from '@actions/core'
import path from 'node:path'
import fs from 'node:fs'
import { buildApi, PATHS } from '../api/index.js'
import { siteRenderer } from '../site/index.js'
import { WharfError } from '../core/errors.js'
import { openRepo } from '../git/index.js'
import type { RunnerContext } from './context.js'
import { INPUT, type Inputs } from './inputs.js'
import { OUTPUT } from './output.js'

export async function buildApiCommand(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  if (!inputs.registryKey) {
    throw new WharfError('USAGE', `build-api needs the ${INPUT.registryKey} input: the registry key signs the snapshot`, { hint: `pass it from a secret: ${INPUT.registryKey}: \${{ secrets.WHARF_REGISTRY_KEY }}` })
  }
  core.setSecret(inputs.registryKey)
  const out = path.resolve(ctx.workspace, inputs.out)
  if (out === ctx.workspace || !out.startsWith(`${ctx.workspace}${path.sep}`)) {
    throw new WharfError('USAGE', `input ${INPUT.out}: "${inputs.out}" is not a directory inside the workspace`, { hint: 'set out to a new directory, e.g. _site' })
  }
  const releases = inputs.releases ?? `${ctx.serverUrl.replace(/\/+$/, '')}/${ctx.repo.owner}/${ctx.repo.repo}`
  const since = builtFrom(out)
  if (since) core.info(`${inputs.out} holds the build of ${since.slice(0, 12)}: rebuilding what changed since`)
  const result = await core.group(`Building the API into ${inputs.out}`, () =>
    buildApi({
      repo: openRepo(path.resolve(ctx.workspace, inputs.index)),
      ref: 'HEAD',
      out,
      ...(inputs.baseUrl ? { baseUrl: inputs.baseUrl } : {}),
      releases,
      ...(since ? { since } : {}),
      registryKey: inputs.registryKey,
      pages: siteRenderer,
    }),
  )
  core.info(`Built the API of ${result.commit.slice(0, 12)} ${result.mode}${result.reason ? ` (full: ${result.reason})` : ''}: ${result.written} file(s) written, ${result.removed} removed, feed at ${result.seq}`)
  for (const warning of result.warnings) core.warning(warning)
  core.setOutput(OUTPUT.site, out)
}

/** The commit a previous build in `out` was made from (its build state), or undefined when `out` holds none. */
function builtFrom(out: string): string | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(out, PATHS.state), 'utf8')) as { commit?: unknown }
    return typeof state.commit === 'string' && /^[0-9a-f]{40}$/.test(state.commit) ? state.commit : undefined
  } catch {
    return undefined
  }
}
