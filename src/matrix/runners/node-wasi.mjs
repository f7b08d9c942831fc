#!/usr/bin/env node
// Runs a wasm32-wasip1 command module (a libtest binary) under node:wasi, as a
// cargo runner would: `node node-wasi.mjs FILE.wasm [ARGS...]`.
// Plain JavaScript, started as its own process, so a test that traps or loops
// takes down only itself. Environment:
//   WHARF_WASM_PREOPEN  directory the module sees as `.` (default: the working directory)
//   WHARF_WASM_STATS    file to write {exec_ms, memory_pages, gc_enabled, trap} into
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { WASI } from 'node:wasi'

const [file, ...args] = process.argv.slice(2)
if (!file) {
  console.error('usage: node-wasi.mjs FILE.wasm [ARGS...]')
  process.exit(2)
}
// A struct type: only an engine with the GC proposal on accepts it.
const GC_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5f, 0])
const stats = { exec_ms: null, memory_pages: null, gc_enabled: WebAssembly.validate(GC_PROBE), trap: null }
let code = 0
try {
  const module = await WebAssembly.compile(fs.readFileSync(file))
  const wasi = new WASI({
    version: 'preview1',
    args: [file, ...args],
    env: {},
    preopens: { '.': process.env.WHARF_WASM_PREOPEN || process.cwd() },
    returnOnExit: true,
  })
  const imports = { ...wasi.getImportObject() }
  // Imports node:wasi does not provide trap when called, not at link time, as wasmtime's defaults do not either.
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function' || imports[imp.module]?.[imp.name]) continue
    imports[imp.module] ??= {}
    imports[imp.module][imp.name] = () => {
      throw new Error(`unresolved import ${imp.module}::${imp.name}`)
    }
  }
  const instance = await WebAssembly.instantiate(module, imports)
  const start = performance.now()
  try {
    code = wasi.start(instance)
  } finally {
    stats.exec_ms = performance.now() - start
    const memory = instance.exports.memory
    if (memory instanceof WebAssembly.Memory) stats.memory_pages = memory.buffer.byteLength / 65536
  }
} catch (e) {
  stats.trap = e instanceof Error ? e.message : String(e)
  console.error(`wharf: wasm trap: ${stats.trap}`)
  // What a process killed by abort() reports; libtest under panic=abort ends this way on every failure.
  code = 134
}
if (process.env.WHARF_WASM_STATS) fs.writeFileSync(process.env.WHARF_WASM_STATS, JSON.stringify(stats))
process.exitCode = code
