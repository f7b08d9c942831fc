/**
 * `wharf build-api` on synthetic indexes of 10,000 and 100,000 versions (one
 * commit per version, as merges land): the full build, the incremental build
 * for one new version, and their ratio. The incremental build reads only the
 * commits since the last build and rewrites a fixed number of files, so its
 * time should stay flat as the index grows 10x while the full build grows
 * with it.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { buildApi } from '../src/api/index.js'
import { MAIN, openRepo, resolveCommit } from '../src/git/index.js'
import { appendSynthetic, createSyntheticIndex } from '../test/fixtures/api/synthetic.js'
import { table } from './_util.js'

const SIZES = (process.env.WHARF_BENCH_API_SIZES ?? '10000,100000').split(',').map(Number)
const INCREMENTAL_RUNS = 7

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now()
  const value = await fn()
  return [value, performance.now() - start]
}

export async function run(): Promise<void> {
  const rows: Record<string, string | number>[] = []
  let flatBase: number | undefined
  for (const versions of SIZES) {
    const parent = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-api-'))
    try {
      const [index, generateMs] = await timed(() => createSyntheticIndex(versions, parent))
      const out = path.join(parent, 'public')
      const [full, fullMs] = await timed(() => buildApi({ repo: openRepo(index.dir), out }))
      const times: number[] = []
      let written = 0
      for (let i = 0; i < INCREMENTAL_RUNS; i++) {
        const since = await resolveCommit(index.repo, MAIN)
        await appendSynthetic(index.dir, versions + i, versions + i + 1)
        const [result, ms] = await timed(() => buildApi({ repo: openRepo(index.dir), out, since }))
        if (result.mode !== 'incremental') throw new Error(`bench: expected an incremental build, got a full one (${result.reason})`)
        times.push(ms)
        written = result.written
      }
      times.sort((a, b) => a - b)
      const incrementalMs = times[Math.floor(times.length / 2)]!
      flatBase ??= incrementalMs
      rows.push({
        index: `${versions.toLocaleString('en')} versions`,
        'files': full.written,
        'generate index, s': (generateMs / 1000).toFixed(1),
        'full build, s': (fullMs / 1000).toFixed(2),
        'incremental (+1 version), median ms': incrementalMs.toFixed(1),
        'files rewritten': written,
        'incremental / full': `${((incrementalMs / fullMs) * 100).toFixed(3)}%`,
        'incremental vs smallest index': `${(incrementalMs / flatBase).toFixed(2)}x`,
      })
    } finally {
      await fs.promises.rm(parent, { recursive: true, force: true })
    }
  }
  table(rows)
}

// `tsx bench/api.ts` runs it alone; bench/index.ts imports it.
if (import.meta.url === `file://${process.argv[1]}`) await run()
