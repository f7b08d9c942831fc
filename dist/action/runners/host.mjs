// What the runners share: linking a module with the imports a host lacks, and
// running its entry point with the statistics the matrix report reads.
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'

// A struct type: only an engine with the GC proposal on accepts it.
const GC_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5f, 0])

/**
 * Adds a function for every import `imports` lacks that traps when called, not
 * at link time, as wasmtime's defaults do not either. `onOther` is told of an
 * import that is not a function (throw to refuse the module).
 */
export function trapUnresolved(module, imports, onOther = () => {}) {
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') {
      onOther(imp)
      continue
    }
    if (imports[imp.module]?.[imp.name]) continue
    imports[imp.module] ??= {}
    imports[imp.module][imp.name] = () => {
      throw new Error(`unresolved import ${imp.module}::${imp.name}`)
    }
  }
  return imports
}

/**
 * Compiles FILE, links it with `link(module)`, runs `start(instance)` and sets
 * the process exit code from what it returns. A trap exits 134, what a process
 * killed by abort() reports: libtest under panic=abort ends this way on every
 * failure. With WHARF_WASM_STATS set, {exec_ms, memory_pages, gc_enabled, trap}
 * is written there.
 */
export async function runEntry(file, link, start) {
  const stats = { exec_ms: null, memory_pages: null, gc_enabled: WebAssembly.validate(GC_PROBE), trap: null }
  let code = 0
  try {
    const module = await WebAssembly.compile(fs.readFileSync(file))
    const instance = await WebAssembly.instantiate(module, link(module))
    const began = performance.now()
    try {
      code = start(instance)
    } finally {
      stats.exec_ms = performance.now() - began
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
}
