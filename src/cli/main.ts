/** The `wharf` command line: pick the command from the table, load it, parse its arguments, map errors to exit codes. */
import { errorJson, exitCodeFor, formatError, WharfError } from '../core/errors.js'
import { WHARF_VERSION } from '../core/version.js'
import { asksForHelp, groupHelp, overviewHelp, parseCommandArgs, select, type Io } from './command.js'

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  terminalColumns: process.stderr.isTTY ? process.stderr.columns || 80 : undefined,
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const first = argv[0]
  if (first === '--version' || first === '-V') {
    io.stdout(`wharf ${WHARF_VERSION}\n`)
    return 0
  }
  if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    io.stdout(overviewHelp())
    return first === undefined ? 2 : 0
  }
  // `wharf help publish` is `wharf publish --help`.
  const helpOnly = first === 'help'
  const selected = select(helpOnly ? argv.slice(1) : argv)
  if (selected.kind === 'unknown') {
    const see = selected.words.length > 1 ? `wharf ${selected.words[0]} --help` : 'wharf --help'
    const error = new WharfError('USAGE', `unknown command "${selected.words.join(' ')}"`, { hint: `see \`${see}\`` })
    io.stderr(argv.includes('--json') ? `${JSON.stringify(errorJson(error))}\n` : `wharf: ${error.message} (see \`${see}\`)\n`)
    return 2
  }
  if (selected.kind === 'group') {
    io.stdout(groupHelp(selected.word))
    return helpOnly || asksForHelp(selected.rest) ? 0 : 2
  }
  const { entry, rest } = selected
  try {
    const command = await entry.load()
    if (helpOnly || asksForHelp(rest)) {
      io.stdout(`${command.help}\n`)
      return 0
    }
    return await command.run(parseCommandArgs(entry.name, command, rest), io)
  } catch (e) {
    // Under --json a failure is data too: one JSON object on stderr, so a script reads the code rather than the prose.
    io.stderr(rest.includes('--json') ? `${JSON.stringify(errorJson(e))}\n` : `wharf: ${formatError(e)}\n`)
    if (io.env.WHARF_DEBUG && e instanceof Error) io.stderr(`${e.stack}\n`)
    return exitCodeFor(e)
  }
}
