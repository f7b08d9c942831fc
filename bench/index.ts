/**
 * `npm run bench [-- NAME...]`: every bench/*.ts module's run(), one after the
 * other, each printing its figures side by side. Timing lives here, never in tests.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const modules = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .filter((name) => wanted.length === 0 || wanted.includes(name))
  .sort()

for (const name of modules) {
  const mod = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as { run?: () => Promise<void> }
  if (typeof mod.run !== 'function') continue
  console.log(`\n## ${name}`)
  await mod.run()
}
