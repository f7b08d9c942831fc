/**
 * `wharf test` on one input, as a process of its own (see isolated.ts):
 * `node child.ts INPUT` prints the JSON report on stdout and exits 0 when
 * every target that ran passed, 1 when one failed, 2 when the matrix cannot
 * run, 3 on an internal failure (the reason on stderr).
 */
import { exitCodeFor, formatError, WharfError } from '../core/errors.js'
import { runMatrix } from './run.js'

const input = process.argv[2]
try {
  if (!input) throw new WharfError('USAGE', 'no input to test', { hint: 'run child.ts CRATE_DIR|ARTIFACT' })
  const report = await runMatrix({ input })
  process.stdout.write(`${JSON.stringify(report)}\n`)
  process.exitCode = report.targets.some((t) => t.status === 'fail') ? 1 : 0
} catch (e) {
  process.stderr.write(`${formatError(e)}\n`)
  process.exitCode = exitCodeFor(e)
}
