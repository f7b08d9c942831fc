/** Help for every command and sub-command, and a start that loads only what the command uses, through the real bin. */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { COMMANDS, select } from '../../src/cli/command.js'
import { wharf, WHARF } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'

const groups = [...new Set(COMMANDS.filter((c) => c.name.length > 1).map((c) => c.name[0]!))]

describe('help', () => {
  it.each(COMMANDS.map((c) => [c.name.join(' '), c] as const))('wharf help %s, --help and -h print the same help', async (words, entry) => {
    // Help wins over arguments that would not parse (here an unknown option before -h).
    const [viaHelp, long, short] = await Promise.all([wharf(['help', ...entry.name]), wharf([...entry.name, '--help']), wharf([...entry.name, '--no-such-option', '-h'])])
    for (const run of [viaHelp, long, short]) {
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).toBe('')
    }
    expect(viaHelp.stdout.split('\n')[0]).toMatch(new RegExp(`^wharf ${words}( |$)`))
    expect(long.stdout).toBe(viaHelp.stdout)
    expect(short.stdout).toBe(viaHelp.stdout)
  })

  it('the overview lists every command with its summary', async () => {
    const overview = await wharf(['--help'])
    expect(overview.code).toBe(0)
    for (const c of COMMANDS) expect(overview.stdout).toMatch(new RegExp(`^  ${c.name.join(' ')} +${c.summary.replace(/[()]/g, '\\$&')}$`, 'm'))
    expect((await wharf(['help'])).stdout).toBe(overview.stdout)
    expect((await wharf(['-h'])).stdout).toBe(overview.stdout)
    const bare = await wharf([])
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe(overview.stdout)
  })

  it.each(groups)('wharf %s lists its sub-commands', async (word) => {
    const subs = COMMANDS.filter((c) => c.name[0] === word && c.name.length > 1)
    const runs = await Promise.all([wharf([word, '--help']), wharf([word, '-h']), wharf(['help', word])])
    for (const run of runs) {
      expect(run.code).toBe(0)
      expect(run.stdout).toBe(runs[0]!.stdout)
      for (const sub of subs) expect(run.stdout).toMatch(new RegExp(`^  ${sub.name.slice(1).join(' ')} +${sub.summary}$`, 'm'))
    }
    const bare = await wharf([word])
    expect(bare.code).toBe(2)
    expect(bare.stdout).toBe(runs[0]!.stdout)
  })

  it.each([
    [['frobnicate'], /unknown command "frobnicate" \(see `wharf --help`\)/],
    [['help', 'frobnicate'], /unknown command "frobnicate"/],
    [['namespace', 'frob'], /unknown command "namespace frob" \(see `wharf namespace --help`\)/],
  ])('wharf %j is a usage error', async (args, message) => {
    const run = await wharf(args)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
  })

  it('--version prints the version and nothing else', async () => {
    for (const flag of ['--version', '-V']) {
      const run = await wharf([flag])
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(/^wharf \d+\.\d+\.\d+\S*\n$/)
      // An empty stderr also says the bin ran the bundle, not the sources.
      expect(run.stderr).toBe('')
    }
  })
})

describe('selecting a command', () => {
  it.each([
    [['publish', 'x.wasm'], { kind: 'command', name: ['publish'], rest: ['x.wasm'] }],
    [['namespace', 'add', 'acme'], { kind: 'command', name: ['namespace', 'add'], rest: ['acme'] }],
    [['namespace'], { kind: 'group', word: 'namespace', rest: [] }],
    [['namespace', '--help'], { kind: 'group', word: 'namespace', rest: ['--help'] }],
    [['namespace', 'frob'], { kind: 'unknown', words: ['namespace', 'frob'] }],
    [['--json'], { kind: 'unknown', words: ['--json'] }],
  ])('%j', (argv, expected) => {
    const selected = select(argv)
    expect(selected.kind === 'command' ? { kind: 'command', name: selected.entry.name, rest: selected.rest } : selected).toEqual(expected)
  })
})

describe('a lazy start', () => {
  /** The source files whose code the process loaded: the bundle's files it loaded, and what each holds (dist/cli/sources.json). */
  async function loadedSources(args: string[]): Promise<{ sources: Set<string>; files: string[] }> {
    const trace = path.join(await tempDir('wharf-trace-'), 'loads')
    fs.writeFileSync(trace, '')
    const run = await wharf(args, { env: { WHARF_TRACE_LOADS: trace, NODE_OPTIONS: `--import ${path.resolve('test/helpers/trace-loads.mjs')}` } })
    expect(run.code, run.stderr).toBe(0)
    const files = fs
      .readFileSync(trace, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file:'))
      .map((u) => new URL(u).pathname)
    const byFile = JSON.parse(fs.readFileSync('dist/cli/sources.json', 'utf8')) as Record<string, string[]>
    const sources = new Set(files.flatMap((f) => byFile[path.relative(path.resolve('dist/cli'), f)] ?? []))
    return { sources, files }
  }

  it('--help and --version load the command table only, no command and no dependency', async () => {
    for (const flag of ['--help', '--version']) {
      const { sources, files } = await loadedSources([flag])
      expect(files.every((f) => f === WHARF || f.includes('/dist/cli/')), files.join('\n')).toBe(true)
      expect([...sources].sort()).toEqual(['package.json', 'src/cli/command.ts', 'src/cli/main.ts', 'src/core/errors.ts', 'src/core/version.ts'])
    }
  })

  it('a command loads its own code and not the others', async () => {
    const { sources } = await loadedSources(['check', '--help'])
    expect(sources.has('src/cli/check.ts')).toBe(true)
    expect(sources.has('src/check/index.ts')).toBe(true)
    for (const other of ['src/cli/publish.ts', 'src/cli/test.ts', 'src/matrix/run.ts', 'src/serve/index.ts', 'src/api/build.ts']) expect(sources.has(other), other).toBe(false)
  })

  it('wharf info, a registry reader, loads the client and none of check, matrix, publish or serve', async () => {
    const { sources } = await loadedSources(['info', '--help'])
    expect(sources.has('src/cli/registry.ts')).toBe(true)
    expect(sources.has('src/client/remote.ts')).toBe(true)
    for (const other of ['src/check/index.ts', 'src/matrix/run.ts', 'src/publish/publish.ts', 'src/serve/index.ts', 'node_modules/tar/dist/esm/index.min.js']) expect(sources.has(other), other).toBe(false)
  })
})
