/**
 * `command: publish`, run in a crate or component repo: a thin entry over
 * publishToGitHub (the same implementation as `wharf publish --github`). The
 * artifact (a built .wasm, or the .crate `cargo package` makes of `crate`)
 * becomes an asset of this repo's release `tag`, the record is signed with
 * the namespace key from a secret, and a pull request on `index-repo` adds it
 * (from the token owner's fork when the token cannot push there). The
 * publisher is the workflow's actor; the token must be one that may open a
 * pull request on the index repo (github.token reaches this repo only).
 */
import * as core from '@actions/core'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { parsePrivateKey } from '../core/keys.js'
import { parsePackageId } from '../core/names.js'
import { parseVersion } from '../core/versions.js'
import { createGitHub } from '../github/index.js'
import { prepareCrateForGitHub, publishToGitHub, readArtifactFile, type PublishOptions } from '../publish/index.js'
import type { RunnerContext } from './context.js'
import { INPUT, type Inputs } from './inputs.js'
import { OUTPUT } from './output.js'

export async function publish(inputs: Inputs, ctx: RunnerContext): Promise<void> {
  if (!inputs.indexRepo) throw new WharfError('USAGE', `publish needs the ${INPUT.indexRepo} input: the index repo the pull request goes to`, { hint: `set ${INPUT.indexRepo} to owner/name, e.g. acme/registry` })
  if (!inputs.key) throw new WharfError('USAGE', `publish needs the ${INPUT.key} input: the namespace's private key`, { hint: `pass it from a secret: ${INPUT.key}: \${{ secrets.WHARF_KEY }}` })
  core.setSecret(inputs.key)
  // A key that does not parse is refused before anything is built or uploaded; the message never repeats the key.
  parsePrivateKey(inputs.key)
  if ((inputs.artifact === undefined) === (inputs.crate === undefined)) {
    throw new WharfError('USAGE', `publish takes one of the ${INPUT.artifact} and ${INPUT.crate} inputs`, { hint: `set ${INPUT.artifact} to the built .wasm, or ${INPUT.crate} to the crate's directory` })
  }
  if (inputs.name !== undefined) parsePackageId(inputs.name)
  if (inputs.version !== undefined) parseVersion(inputs.version)
  if (!ctx.actor) throw new WharfError('USAGE', 'GITHUB_ACTOR is not set: the record names the workflow actor as its publisher', { hint: 'run publish as a step of a workflow job' })
  const fields = { privateKey: inputs.key, author: ctx.actor, repository: `${ctx.serverUrl}/${ctx.repo.owner}/${ctx.repo.repo}` }
  const index = inputs.indexRepo
  const github = createGitHub({ token: inputs.token, baseUrl: ctx.apiUrl, pace: inputs.paceWrites, userAgent: 'wharf-action' })
  let prepared: { file: string; bytes: Buffer; options: Omit<PublishOptions, 'artifact'> }
  if (inputs.crate !== undefined) {
    const crateDir = path.resolve(ctx.workspace, inputs.crate)
    // Without the name input, the index's registry.json names the namespace; it is read before cargo runs.
    prepared = await core.group(`cargo package in ${inputs.crate}`, () =>
      prepareCrateForGitHub(github, index, { crateDir, ...(inputs.name ? { name: inputs.name } : {}), ...(inputs.version ? { version: inputs.version } : {}), ...fields }),
    )
  } else {
    if (!inputs.name || !inputs.version) throw new WharfError('USAGE', `publishing an artifact needs the ${INPUT.name} and ${INPUT.version} inputs`, { hint: 'set name to namespace:name and version to the SemVer version' })
    const file = path.resolve(ctx.workspace, inputs.artifact!)
    prepared = { file, bytes: await readArtifactFile(file), options: { ...fields, name: inputs.name, version: inputs.version } }
  }
  const result = await core.group(`Publishing ${prepared.options.name}@${prepared.options.version} to ${index.owner}/${index.repo}`, () =>
    // A new client: every call it made is this publish's.
    publishToGitHub(github, { ...prepared.options, bytes: prepared.bytes, file: prepared.file, index, from: ctx.repo, tag: inputs.tag ?? `v${prepared.options.version}`, requestsBefore: 0 }),
  )
  core.setOutput(OUTPUT.pullRequest, String(result.pullRequest.number))
  core.setOutput(OUTPUT.assetUrl, result.asset.url)
  const where = result.viaFork ? ` from ${result.head.repo}` : ''
  const lines = [
    '### wharf publish',
    '',
    `<code>${result.record.name}@${result.record.version}</code>: ${result.asset.uploaded ? 'uploaded' : 'found'} ${result.asset.url}; ${result.pullRequest.created ? 'opened' : 'updated'} pull request [#${result.pullRequest.number}](${result.pullRequest.url})${where} (${result.requests} GitHub requests).`,
    '',
  ]
  core.info(lines[2]!)
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(lines.join('\n')).write()
}
