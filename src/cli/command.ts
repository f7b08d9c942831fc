/** What every command file exports, and the shared argument parsing. */
import fs from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { WharfError } from '../core/errors.js'

export interface Io {
  stdout(text: string): void
  stderr(text: string): void
  env: NodeJS.ProcessEnv
}

type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | string[] | undefined>

export interface Command {
  /** Words that select the command: ['publish'], ['namespace', 'add']. */
  name: string[]
  summary: string
  /** Full help text: usage line, then options. */
  help: string
  options: Options
  /** How many positionals it takes: [min, max]. */
  positionals?: [number, number]
  run(args: { values: Values; positionals: string[] }, io: Io): Promise<number>
}

export function parseCommandArgs(command: Command, argv: string[]): { values: Values; positionals: string[] } {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new WharfError('USAGE', (e as Error).message.split('\n')[0]!, { hint: `see \`wharf ${command.name.join(' ')} --help\`` })
  }
  const [min, max] = command.positionals ?? [0, 0]
  const count = parsed.positionals.length
  if (count < min || count > max) {
    const what = count < min ? 'missing argument' : `unexpected argument "${parsed.positionals[max]}"`
    throw new WharfError('USAGE', `${command.name.join(' ')}: ${what}`, { hint: `usage: ${command.help.split('\n')[0]}` })
  }
  return { values: parsed.values as Values, positionals: parsed.positionals }
}

/** The value of a required string option. */
export function required(values: Values, name: string, command: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value === '') {
    throw new WharfError('USAGE', `${command} needs --${name}`, { hint: `see \`wharf ${command} --help\`` })
  }
  return value
}

export function optionalString(values: Values, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

export function list(values: Values, name: string): string[] {
  const value = values[name]
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : []
}

export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`)
}

/** The index directory: --index, else $WHARF_INDEX, else the current directory. */
export function indexDir(values: Values, io: Io): string {
  return optionalString(values, 'index') ?? io.env.WHARF_INDEX ?? process.cwd()
}

export const INDEX_OPTION = { index: { type: 'string' } } as const
export const JSON_OPTION = { json: { type: 'boolean' } } as const

/** Reads a file named on the command line, with an error that names the option. */
export async function readInputFile(file: string, option: string): Promise<string> {
  try {
    return await fs.promises.readFile(file, 'utf8')
  } catch (e) {
    throw new WharfError('NOT_FOUND', `cannot read ${option} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: `check the path given to ${option}`,
    })
  }
}
