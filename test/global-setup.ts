/** Builds the `wharf` bundle once before any test spawns bin/wharf.js, so the suite runs what users run; a broken build fails the suite. */
import { build } from '../scripts/build.mjs'

export default async function setup(): Promise<void> {
  await build()
}
