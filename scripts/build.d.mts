import type { BuildResult, Plugin } from 'esbuild'
/** Builds the `wharf` bundle into dist/cli and swaps it in whole. */
export function build(): Promise<BuildResult<{ metafile: true }>>
/** Compiles every JSON Schema into a validator file under `dir`, and returns the plugin that makes the bundle load them from there. */
export function precompiledSchemas(dir: string): Promise<Plugin>
