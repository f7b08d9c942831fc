/** Small helpers shared by the benchmarks. */
import { performance } from 'node:perf_hooks'

/** Median wall time in ms of `runs` calls, after one warm-up call. */
export async function medianMs(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

export function table(rows: Record<string, string | number>[]): void {
  console.table(rows)
}
