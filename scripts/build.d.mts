import type { BuildResult } from 'esbuild'
/** Builds the `wharf` bundle into dist/cli and swaps it in whole. */
export function build(): Promise<BuildResult<{ metafile: true }>>
