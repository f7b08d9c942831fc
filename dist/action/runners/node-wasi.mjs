#!/usr/bin/env node
// Runs a wasm32-wasip1 command module (a libtest binary) under node:wasi, as a
// cargo runner would: `node node-wasi.mjs FILE.wasm [ARGS...]`.
// Plain JavaScript, started as its own process, so a test that traps or loops
// takes down only itself. Environment:
//   WHARF_WASM_PREOPEN  directory the module sees as `.` (default: the working directory)
//   WHARF_WASM_STATS    file to write {exec_ms, memory_pages, gc_enabled, trap} into
import { WASI } from 'node:wasi'
import { runEntry, trapUnresolved } from './host.mjs'

const [file, ...args] = process.argv.slice(2)
if (!file) {
  console.error('usage: node-wasi.mjs FILE.wasm [ARGS...]')
  process.exit(2)
}
let wasi
await runEntry(
  file,
  (module) => {
    wasi = new WASI({
      version: 'preview1',
      args: [file, ...args],
      env: {},
      preopens: { '.': process.env.WHARF_WASM_PREOPEN || process.cwd() },
      returnOnExit: true,
    })
    return trapUnresolved(module, { ...wasi.getImportObject() })
  },
  (instance) => wasi.start(instance),
)
