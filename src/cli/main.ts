/** The `wharf` command line: pick the command, parse its arguments, map errors to exit codes. */
import { errorJson, exitCodeFor, formatError } from '../core/errors.js'
import { WHARF_VERSION } from '../core/version.js'
import { audit } from './audit.js'
import { buildApiCommand } from './build-api.js'
import { check } from './check.js'
import { parseCommandArgs, type Command, type Io } from './command.js'
import { init } from './init.js'
import { install } from './install.js'
import { keygen } from './keygen.js'
import { laterCommands } from './later.js'
import { merge } from './merge.js'
import { namespaceAdd } from './namespace.js'
import { publish } from './publish.js'
import { registryCommands } from './registry.js'
import { serve } from './serve.js'
import { test } from './test.js'

export const COMMANDS: Command[] = [init, keygen, namespaceAdd, publish, check, merge, audit, test, buildApiCommand, serve, ...registryCommands, install, ...laterCommands]

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.join(' ').length))
  const rows = COMMANDS.map((c) => `  ${c.name.join(' ').padEnd(width)}  ${c.summary}`)
  return `wharf: a git-backed registry for WebAssembly components and WASM-ready Rust crates

Usage: wharf <command> [options]    (wharf <command> --help for its options)

Commands:
${rows.join('\n')}
`
}

function find(argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const command of COMMANDS) {
    if (command.name.every((word, i) => argv[i] === word)) return { command, rest: argv.slice(command.name.length) }
  }
  return undefined
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(overview())
    return argv.length === 0 ? 2 : 0
  }
  if (argv[0] === '--version') {
    io.stdout(`wharf ${WHARF_VERSION}\n`)
    return 0
  }
  const found = find(argv)
  if (!found) {
    io.stderr(`wharf: unknown command "${argv.slice(0, 2).join(' ')}" (see \`wharf --help\`)\n`)
    return 2
  }
  const { command, rest } = found
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.help}\n`)
    return 0
  }
  try {
    return await command.run(parseCommandArgs(command, rest), io)
  } catch (e) {
    // Under --json a failure is data too: one JSON object on stderr, so a script reads the code rather than the prose.
    io.stderr(rest.includes('--json') ? `${JSON.stringify(errorJson(e))}\n` : `wharf: ${formatError(e)}\n`)
    if (io.env.WHARF_DEBUG && e instanceof Error) io.stderr(`${e.stack}\n`)
    return exitCodeFor(e)
  }
}
