#!/usr/bin/env node
// Runs a wasm32-unknown-unknown test binary that needs no host: it exports the
// C `main` rustc gives every binary and imports nothing of wasm-bindgen's.
// `node node-main.mjs FILE.wasm`. Such a binary cannot print (std's stdout is a
// sink there), so all it can tell is its exit: main returns 0 when every test
// passed and traps (panic=abort) when one failed.
//   WHARF_WASM_STATS    file to write {exec_ms, memory_pages, gc_enabled, trap} into
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'

const [file] = process.argv.slice(2)
if (!file) {
  console.error('usage: node-main.mjs FILE.wasm')
  process.exit(2)
}
const GC_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5f, 0])
const stats = { exec_ms: null, memory_pages: null, gc_enabled: WebAssembly.validate(GC_PROBE), trap: null }
let code = 0
try {
  const module = await WebAssembly.compile(fs.readFileSync(file))
  const imports = {}
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') throw new Error(`needs a host: imports ${imp.kind} ${imp.module}::${imp.name}`)
    imports[imp.module] ??= {}
    imports[imp.module][imp.name] = () => {
      throw new Error(`unresolved import ${imp.module}::${imp.name}`)
    }
  }
  const instance = await WebAssembly.instantiate(module, imports)
  if (typeof instance.exports.main !== 'function') throw new Error('the module exports no main')
  const start = performance.now()
  try {
    code = instance.exports.main(0, 0)
  } finally {
    stats.exec_ms = performance.now() - start
    const memory = instance.exports.memory
    if (memory instanceof WebAssembly.Memory) stats.memory_pages = memory.buffer.byteLength / 65536
  }
} catch (e) {
  stats.trap = e instanceof Error ? e.message : String(e)
  console.error(`wharf: wasm trap: ${stats.trap}`)
  code = 134
}
if (process.env.WHARF_WASM_STATS) fs.writeFileSync(process.env.WHARF_WASM_STATS, JSON.stringify(stats))
process.exitCode = code
