/**
 * The wharf Action's entry (action.yml's runs.main, bundled into
 * dist/action/index.js): inputs and the runner's context read once, then one
 * command. A failure fails the step with what went wrong and how to fix it.
 * build-api's worker threads load this same file for the code they run, so
 * only the main thread runs a command.
 */
import * as core from '@actions/core'
import { isMainThread } from 'node:worker_threads'
import { WharfError } from '../core/errors.js'
import { buildApiCommand } from './build-api.js'
import { check } from './check.js'
import { readContext, type RunnerContext } from './context.js'
import { envInput, parseInputs, type Command, type Inputs } from './inputs.js'
import { merge } from './merge.js'
import { publish } from './publish.js'
import { release } from './release.js'
import { test } from './test.js'

const COMMAND: Record<Command, (inputs: Inputs, ctx: RunnerContext) => Promise<void>> = { check, test, merge, publish, release, 'build-api': buildApiCommand }

export async function run(env: NodeJS.ProcessEnv): Promise<void> {
  const inputs = parseInputs(envInput(env), env)
  const ctx = readContext(env)
  await COMMAND[inputs.command](inputs, ctx)
}

if (isMainThread) {
  try {
    await run(process.env)
  } catch (e) {
    core.setFailed(e instanceof WharfError ? `${e.message}${e.hint ? `. Fix: ${e.hint}` : ''}` : e instanceof Error ? (e.stack ?? e.message) : String(e))
  }
}
