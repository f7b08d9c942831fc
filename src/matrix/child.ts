/**
 * `wharf test` on one input, as a process of its own (see isolated.ts):
 * `node child.ts INPUT [--crate] [--targets LIST]` prints the JSON report on stdout and
 * exits 0 when every target that ran passed, 1 when one failed, 2 when the
 * matrix cannot run, 3 on an internal failure (the reason on stderr).
 *
 * With `--crate`, INPUT is a `.crate` and is unpacked here, so that under the sandbox a hostile
 * archive (`..` members, links) can only touch the sandbox's own /tmp.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { exitCodeFor, formatError, WharfError } from '../core/errors.js'
import { removeTree } from '../store/index.js'
import { runMatrix } from './run.js'
import { parseTargets } from './targets.js'

function untar(file: string, into: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('tar', ['-xzf', file, '-C', into, '--no-same-owner', '--no-same-permissions'], { timeout: 60_000 }, (error, _stdout, stderr) =>
      resolve(error ? stderr.trim().split('\n').join('; ') || error.message : ''),
    )
  })
}

/** The crate directory a `.crate` holds (it has exactly one top-level directory). */
async function unpack(file: string): Promise<string> {
  const into = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-crate-'))
  const problem = await untar(file, into)
  const entries = problem ? [] : await fs.promises.readdir(into, { withFileTypes: true })
  if (entries.length !== 1 || !entries[0]!.isDirectory()) {
    throw new WharfError('INVALID_ARTIFACT', `the .crate does not unpack to one directory: ${problem || (entries.length === 0 ? 'it is empty' : `it holds ${entries.map((e) => e.name).join(', ')}`)}`, {
      hint: 'publish a .crate made by `cargo package`',
    })
  }
  return path.join(into, entries[0]!.name)
}

const [input, ...rest] = process.argv.slice(2)
let unpacked: string | undefined
try {
  if (!input) throw new WharfError('USAGE', 'no input to test', { hint: 'run child.ts CRATE_DIR|ARTIFACT|CRATE_FILE --crate [--targets LIST]' })
  const at = rest.indexOf('--targets')
  const targets = at >= 0 ? parseTargets(rest[at + 1] ?? '') : undefined
  if (rest.includes('--crate')) unpacked = await unpack(input)
  const report = await runMatrix({ input: unpacked ?? input, ...(targets ? { targets } : {}) })
  process.stdout.write(`${JSON.stringify(report)}\n`)
  process.exitCode = report.targets.some((t) => t.status === 'fail') ? 1 : 0
} catch (e) {
  process.stderr.write(`${formatError(e)}\n`)
  process.exitCode = exitCodeFor(e)
} finally {
  if (unpacked) await removeTree(path.dirname(unpacked))
}
