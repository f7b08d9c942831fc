#!/usr/bin/env node
// Validates core wasm modules in this Node's engine, as started (with the GC
// proposal on when wharf passes --experimental-wasm-gc):
// `node validate.mjs FILE...` prints {gc_enabled, results: [{file, valid, error}]}.
import fs from 'node:fs'

const GC_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5f, 0])
const results = []
for (const file of process.argv.slice(2)) {
  try {
    new WebAssembly.Module(fs.readFileSync(file))
    results.push({ file, valid: true, error: null })
  } catch (e) {
    results.push({ file, valid: false, error: e instanceof Error ? e.message : String(e) })
  }
}
console.log(JSON.stringify({ gc_enabled: WebAssembly.validate(GC_PROBE), results }))
