/**
 * Federation in the server: `POST /registry/sync` and REGISTRY_SYNC_INTERVAL
 * both run `wharf sync` through the server's own pipeline, so an import is
 * journaled, checked, merged and built into the API like any publish.
 */
import { formatError } from '../core/errors.js'
import type { SyncResult } from '../sync/index.js'
import type { Registry } from './registry.js'

/** One log line per peer whose sync found news (a quiet timer logs nothing), and one per failure. */
export function syncLogLines(result: SyncResult): string[] {
  return [
    ...result.peers
      .filter((p) => p.commit || p.added.length || p.skipped.length || p.conflicts.length)
      .map(
      (p) =>
        `sync ${p.peer} feed ${p.from}..${p.to}: ${p.added.length} added, ${p.skipped.length} skipped, ${p.conflicts.length} conflicts, ${p.ignored} ignored${p.commit ? `, commit ${p.commit.slice(0, 12)}` : ''}`,
    ),
    ...result.failed.map((f) => `sync ${f.peer} failed: ${f.error}`),
  ]
}

export interface SyncTimer {
  /** Stops the timer and waits for a sync under way. */
  stop(): Promise<void>
}

/** Syncs every peer each `intervalMs` (a run still going when the next is due is not doubled). */
export function scheduleSync(registry: Registry, intervalMs: number, log: (line: string) => void): SyncTimer {
  let running: Promise<void> | undefined
  const tick = () => {
    if (running) return
    running = (async () => {
      if ((await registry.registryFile()).peers.length === 0) return
      for (const line of syncLogLines(await registry.sync())) log(line)
    })()
      .catch((e: unknown) => log(`sync failed: ${formatError(e)}`))
      .finally(() => (running = undefined))
  }
  const timer = setInterval(tick, intervalMs)
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
