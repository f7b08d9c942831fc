/**
 * The command table, help, and what every command file shares. The table
 * holds each command's words, summary and loader, so `wharf --help` and
 * `wharf --version` load no command at all and every other run loads the one
 * it names.
 */
import fs from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { WharfError } from '../core/errors.js'

export interface Io {
  stdout(text: string): void
  stderr(text: string): void
  env: NodeJS.ProcessEnv
  /** The width of the terminal stderr writes to, when it is one (a person is watching); undefined for a pipe or a file. */
  terminalColumns?: number
}

type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | string[] | undefined>

/** What a command file exports: its help, its options and what it does. Its words and summary live in the table. */
export interface Command {
  /** Full help text: usage line, then options. */
  help: string
  options: Options
  /** How many positionals it takes: [min, max]. */
  positionals?: [number, number]
  run(args: { values: Values; positionals: string[] }, io: Io): Promise<number>
}

/** A row of the command table. */
export interface CommandEntry {
  /** Words that select the command: ['publish'], ['namespace', 'add']. */
  name: string[]
  summary: string
  /** Imports the command's file, and only then what it uses. */
  load(): Promise<Command>
}

/** Every command, in the order `wharf --help` lists them. */
export const COMMANDS: CommandEntry[] = [
  { name: ['init'], summary: 'create a new index repo', load: async () => (await import('./init.js')).init },
  { name: ['keygen'], summary: 'make an Ed25519 signing key pair', load: async () => (await import('./keygen.js')).keygen },
  { name: ['namespace', 'add'], summary: 'propose a new namespace with its owners and signing key', load: async () => (await import('./namespace.js')).namespaceAdd },
  { name: ['publish'], summary: 'sign a version record and propose it with its artifact', load: async () => (await import('./publish.js')).publish },
  { name: ['check'], summary: 'apply every submission rule to what a proposal would land on base', load: async () => (await import('./check.js')).check },
  { name: ['merge'], summary: 'check a proposal branch and land it on main as one new commit', load: async () => (await import('./merge.js')).merge },
  { name: ['audit'], summary: 'replay the history of main and prove it was never rewritten', load: async () => (await import('./audit.js')).audit },
  { name: ['test'], summary: 'run the native and wasm32 compatibility matrix', load: async () => (await import('./test.js')).test },
  { name: ['build-api'], summary: 'generate the static JSON API, Cargo index, change feed and signed snapshot', load: async () => (await import('./build-api.js')).buildApiCommand },
  { name: ['release'], summary: "ship the versions a push added as assets of the index repo's releases", load: async () => (await import('./release.js')).release },
  { name: ['serve'], summary: 'run the local registry server (Run 2.0 and Cargo compatible)', load: async () => (await import('./serve.js')).serve },
  { name: ['search'], summary: 'search a registry', load: async () => (await import('./registry.js')).search },
  { name: ['info'], summary: 'show a package', load: async () => (await import('./registry.js')).info },
  { name: ['list'], summary: 'list packages', load: async () => (await import('./registry.js')).list },
  { name: ['stats'], summary: 'show registry statistics', load: async () => (await import('./registry.js')).stats },
  { name: ['health'], summary: 'check that a registry answers', load: async () => (await import('./registry.js')).health },
  { name: ['install'], summary: 'resolve, download and verify packages', load: async () => (await import('./install.js')).install },
  { name: ['peer', 'add'], summary: 'propose a federation peer: its URL, delegated namespaces and pinned key', load: async () => (await import('./peer.js')).peerAdd },
  { name: ['sync'], summary: 'import the delegated namespaces of peers, verified', load: async () => (await import('./sync.js')).sync },
]

/** What the words on the command line select: a command and its arguments, a group of sub-commands, or nothing known. */
export type Selection = { kind: 'command'; entry: CommandEntry; rest: string[] } | { kind: 'group'; word: string; rest: string[] } | { kind: 'unknown'; words: string[] }

export function select(argv: string[], table: CommandEntry[] = COMMANDS): Selection {
  const entry = table.find((c) => c.name.every((word, i) => argv[i] === word))
  if (entry) return { kind: 'command', entry, rest: argv.slice(entry.name.length) }
  const word = argv[0]
  if (word !== undefined && subcommands(word, table).length > 0) {
    // `wharf namespace --help` or `wharf namespace` alone asks about the group; `wharf namespace frob` names no command.
    const next = argv[1]
    if (next === undefined || next.startsWith('-')) return { kind: 'group', word, rest: argv.slice(1) }
    return { kind: 'unknown', words: argv.slice(0, 2) }
  }
  return { kind: 'unknown', words: argv.slice(0, 1) }
}

function subcommands(word: string, table: CommandEntry[]): CommandEntry[] {
  return table.filter((c) => c.name.length > 1 && c.name[0] === word)
}

function rows(entries: CommandEntry[], words: (c: CommandEntry) => string): string {
  const width = Math.max(...entries.map((c) => words(c).length))
  return entries.map((c) => `  ${words(c).padEnd(width)}  ${c.summary}`).join('\n')
}

/** `wharf --help`: every command with its summary. */
export function overviewHelp(table: CommandEntry[] = COMMANDS): string {
  return `wharf: a git-backed registry for WebAssembly components and WASM-ready Rust crates

Usage: wharf <command> [options]    (wharf help <command>, or wharf <command> --help, for its options)

Commands:
${rows(table, (c) => c.name.join(' '))}

Options:
  -h, --help      this overview
  -V, --version   print wharf's version

Environment:
  WHARF_DEBUG     set to anything: an error also prints its stack trace
`
}

/** `wharf namespace --help`: the sub-commands of one word. */
export function groupHelp(word: string, table: CommandEntry[] = COMMANDS): string {
  return `Usage: wharf ${word} <command> [options]    (wharf ${word} <command> --help for its options)

Commands:
${rows(subcommands(word, table), (c) => c.name.slice(1).join(' '))}
`
}

/** True when the arguments ask for help rather than a run. */
export function asksForHelp(rest: string[]): boolean {
  // After `--` everything is an operand, even a file named --help.
  const end = rest.indexOf('--')
  return (end === -1 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')
}

export function parseCommandArgs(name: string[], command: Command, argv: string[]): { values: Values; positionals: string[] } {
  const words = name.join(' ')
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new WharfError('USAGE', (e as Error).message.split('\n')[0]!, { hint: `see \`wharf ${words} --help\`` })
  }
  const [min, max] = command.positionals ?? [0, 0]
  const count = parsed.positionals.length
  if (count < min || count > max) {
    const what = count < min ? 'missing argument' : `unexpected argument "${parsed.positionals[max]}"`
    throw new WharfError('USAGE', `${words}: ${what}`, { hint: `usage: ${command.help.split('\n')[0]}` })
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
