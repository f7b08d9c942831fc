#!/usr/bin/env node
// Runs a wasm32-unknown-unknown test binary that needs no host: it exports the
// C `main` rustc gives every binary and imports nothing of wasm-bindgen's.
// `node node-main.mjs FILE.wasm`. Such a binary cannot print (std's stdout is a
// sink there), so all it can tell is its exit: main returns 0 when every test
// passed and traps (panic=abort) when one failed.
//   WHARF_WASM_STATS    file to write {exec_ms, memory_pages, gc_enabled, trap} into
import { runEntry, trapUnresolved } from './host.mjs'

const [file] = process.argv.slice(2)
if (!file) {
  console.error('usage: node-main.mjs FILE.wasm')
  process.exit(2)
}
await runEntry(
  file,
  (module) =>
    trapUnresolved(module, {}, (imp) => {
      throw new Error(`needs a host: imports ${imp.kind} ${imp.module}::${imp.name}`)
    }),
  (instance) => {
    if (typeof instance.exports.main !== 'function') throw new Error('the module exports no main')
    return instance.exports.main(0, 0)
  },
)
