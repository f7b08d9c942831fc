import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { writeFileAtomic } from '../store/index.js'
import { DEFAULTS, parseTargets, renderMarkdown, runMatrix, type SignatureLevel } from '../matrix/index.js'
import { JSON_OPTION, optionalString, printJson, type Command } from './command.js'

const SIGNATURE_LEVELS: SignatureLevel[] = ['none', 'signed', 'provenance']

function positiveNumber(values: Record<string, unknown>, name: string, whole = false): number | undefined {
  const raw = values[name]
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) {
    throw new WharfError('USAGE', `--${name} must be a positive ${whole ? 'whole ' : ''}number, not "${String(raw)}"`, { hint: 'see `wharf test --help`' })
  }
  return n
}

/** What only a crate's build and tests use: an artifact is inspected, never built or run against native. */
const CRATE_ONLY = ['targets', 'timeout', 'runs', 'offline'] as const

/** Refuses, for an artifact, an option it would ignore. */
function refuseCrateOnly(values: Record<string, unknown>, input: string): void {
  const given = CRATE_ONLY.find((name) => values[name] !== undefined)
  if (given && fs.statSync(input, { throwIfNoEntry: false })?.isFile()) {
    throw new WharfError('USAGE', `--${given} applies to a crate, and ${input} is an artifact: it is inspected, not built or tested`, {
      hint: `drop --${given}, or give the crate's directory`,
    })
  }
}

export const test: Command = {
  help: `wharf test CRATE_DIR|ARTIFACT [--targets LIST] [--json] [--out FILE]

Builds the crate and runs its tests on each target, in a throwaway copy and
target directory: native (host), wasm32-unknown-unknown, wasm32-wasip1
(wasm32-wasi on older toolchains) and wasm32-wasip2 (the p1 build adapted into
a component with jco where the toolchain lacks the target). Tests run under
wasmtime when it is on PATH, else node:wasi and jco. A target no toolchain has
is reported unavailable. For a .wasm artifact: validation, size, features,
imports, the WIT world of a component and the GC-readiness rungs bytes decide
(--targets, --timeout, --runs and --offline are for a crate, refused here).

Prints a Markdown report, or the JSON report with --json (schemas/report.schema.json).
Exit 0 when every target that ran passed, 1 when one failed, 2 when the matrix
cannot run (no toolchain, no crate).

  --targets LIST      comma-separated subset (default: all four)
  --json              print the JSON report instead of Markdown
  --out FILE          also write the JSON report to FILE
  --timeout SECONDS   time limit of one build step (default ${DEFAULTS.buildTimeoutMs / 1000})
  --test-timeout SECONDS
                      time limit of one run of a test binary (default ${DEFAULTS.testTimeoutMs / 1000})
  --runs N            runs per side for the wasm/native speed ratio (default ${DEFAULTS.runs})
  --offline           pass --offline to cargo
  --signature LEVEL   the record's signature level for the score: none, signed, provenance
  --boundary NAME     an exported function to call 1000 times for the GC probe (G3)
  --work-dir DIR      make the throwaway working directory under DIR (default: the temp dir); refused
                      when DIR or a directory above it holds another user's .cargo or Cargo.toml
  --keep              keep the working directory instead of removing it`,
  options: {
    ...JSON_OPTION,
    targets: { type: 'string' },
    out: { type: 'string' },
    timeout: { type: 'string' },
    'test-timeout': { type: 'string' },
    runs: { type: 'string' },
    offline: { type: 'boolean' },
    signature: { type: 'string' },
    boundary: { type: 'string' },
    'work-dir': { type: 'string' },
    keep: { type: 'boolean' },
  },
  positionals: [1, 1],
  async run({ values, positionals }, io) {
    const targetsOption = optionalString(values, 'targets')
    const signature = optionalString(values, 'signature') ?? 'none'
    if (!SIGNATURE_LEVELS.includes(signature as SignatureLevel)) {
      throw new WharfError('USAGE', `unknown --signature "${signature}"`, { hint: `choose from ${SIGNATURE_LEVELS.join(', ')}` })
    }
    const timeout = positiveNumber(values, 'timeout')
    const testTimeout = positiveNumber(values, 'test-timeout')
    const runs = positiveNumber(values, 'runs', true)
    refuseCrateOnly(values, positionals[0]!)
    // Progress is for a person watching a terminal; piped or --json output stays clean.
    const progress = !values.json && io.terminalColumns !== undefined ? (message: string) => io.stderr(`… ${message}\n`) : undefined
    const report = await runMatrix({
      input: positionals[0]!,
      targets: targetsOption === undefined ? undefined : parseTargets(targetsOption),
      buildTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
      testTimeoutMs: testTimeout === undefined ? undefined : testTimeout * 1000,
      runs,
      offline: values.offline === true,
      signature: signature as SignatureLevel,
      boundary: optionalString(values, 'boundary'),
      workDir: optionalString(values, 'work-dir'),
      keep: values.keep === true,
      onProgress: progress,
    })
    const out = optionalString(values, 'out')
    if (out) await writeReport(out, `${JSON.stringify(report, null, 2)}\n`)
    if (values.json) printJson(io, report)
    else io.stdout(renderMarkdown(report))
    return report.targets.some((t) => t.status === 'fail') ? 1 : 0
  },
}

async function writeReport(file: string, content: string): Promise<void> {
  try {
    await writeFileAtomic(path.resolve(file), content)
  } catch (e) {
    throw new WharfError('IO', `cannot write --out ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'check that its directory is writable' })
  }
}
