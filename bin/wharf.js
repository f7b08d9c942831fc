#!/usr/bin/env node
// Runs the bundle in dist/cli that `npm ci` builds (`npm run build`): a few
// prebuilt files, loaded command by command. When there is no bundle (a
// checkout installed with scripts off), or a source it was built from changed
// since, wharf runs from the TypeScript sources through tsx instead and says
// so in one line on stderr: same behaviour, slower start, never stale code.
import fs from 'node:fs'

const root = new URL('../', import.meta.url)
const bundle = new URL('dist/cli/main.js', root)

/** Why the bundle cannot be used, or undefined when it is current. */
function bundleProblem() {
  let built
  try {
    built = fs.statSync(bundle).mtimeMs
  } catch {
    return 'no build in dist/cli'
  }
  let inputs
  try {
    inputs = JSON.parse(fs.readFileSync(new URL('dist/cli/inputs.json', root), 'utf8'))
  } catch {
    return 'dist/cli is incomplete'
  }
  for (const input of inputs) {
    // A source that is gone (an installed package without src/) cannot be newer.
    const changed = fs.statSync(new URL(input, root), { throwIfNoEntry: false })?.mtimeMs ?? 0
    if (changed > built) return `${input} changed after the build`
  }
  return undefined
}

let main
const problem = bundleProblem()
if (problem === undefined) {
  ;({ main } = await import(bundle.href))
} else {
  process.stderr.write(`wharf: ${problem}; running from source (slower start). \`npm run build\` in ${new URL('.', root).pathname} makes it fast again.\n`)
  let register
  try {
    ;({ register } = await import('tsx/esm/api'))
  } catch {
    process.stderr.write('wharf: its dependencies are not installed. Run `npm ci` in the wharf checkout.\n')
    process.exit(2)
  }
  register()
  ;({ main } = await import('../src/cli/main.ts'))
}
process.exitCode = await main(process.argv.slice(2))
