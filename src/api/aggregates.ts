/**
 * The documents about the whole registry that every build rewrites (search
 * index, stats, feed head, configuration, health) and the build state, the
 * same for a full build (written directly) and an incremental one (in place).
 */
import { cargoConfig } from './cargo.js'
import { PATHS, renderConfig, renderFeedHead, renderHealth, renderStats, renderWellKnown, type Counts, type Site } from './documents.js'

/** `.wharf/build.json`: what an incremental build needs to know of the output it updates. */
export interface BuildState {
  format: number
  commit: string
  base_url: string
  /** The index repo whose release assets the downloads name (`--releases`), when they do. */
  releases?: string | undefined
  seq: number
  counts: Counts
  /** The page renderer's format, when the output has pages. */
  pages?: string
}

export function renderState(state: BuildState): string {
  return `${JSON.stringify(state, null, 2)}\n`
}

export async function writeAggregates(
  ctx: { baseUrl: string },
  tree: { write(file: string, content: string | Buffer): unknown },
  site: Site,
  counts: Counts,
  seq: number,
  searchIndex: string | Buffer,
): Promise<void> {
  await tree.write(PATHS.searchIndex, searchIndex)
  await tree.write(PATHS.stats, renderStats(site, counts))
  await tree.write(PATHS.feedHead, renderFeedHead(site, seq))
  await tree.write(PATHS.cargoConfig, `${JSON.stringify(cargoConfig(ctx.baseUrl, site.releases), null, 2)}\n`)
  await tree.write(PATHS.config, renderConfig(site))
  await tree.write(PATHS.wellKnown, renderWellKnown(site))
  await tree.write(PATHS.health, renderHealth(site))
}
