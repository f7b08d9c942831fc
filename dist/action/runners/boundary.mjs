#!/usr/bin/env node
// The third rung of the GC-readiness ladder: calls one exported function of a
// core module many times and reports whether linear memory or any exported
// table grew. `node boundary.mjs FILE.wasm EXPORT COUNT` prints
// {before, after, calls, error}. Only run on a function the crate declares
// for it ([package.metadata.wharf] boundary), never on a guess.
import fs from 'node:fs'
import { WASI } from 'node:wasi'
import { trapUnresolved } from './host.mjs'

const [file, name, countText] = process.argv.slice(2)
const count = Number(countText ?? 1000)
const sizes = (instance) => {
  const out = { memory_pages: null, tables: {} }
  for (const [key, value] of Object.entries(instance.exports)) {
    if (value instanceof WebAssembly.Memory) out.memory_pages = Math.max(out.memory_pages ?? 0, value.buffer.byteLength / 65536)
    if (value instanceof WebAssembly.Table) out.tables[key] = value.length
  }
  return out
}
const result = { before: null, after: null, calls: 0, error: null }
try {
  const module = await WebAssembly.compile(fs.readFileSync(file))
  const wasi = new WASI({ version: 'preview1', args: [file], env: {}, returnOnExit: true })
  const imports = trapUnresolved(module, { ...wasi.getImportObject() })
  const instance = await WebAssembly.instantiate(module, imports)
  if (typeof instance.exports._initialize === 'function') wasi.initialize(instance)
  const fn = instance.exports[name]
  if (typeof fn !== 'function') throw new Error(`the module exports no function ${name}`)
  const args = Array.from({ length: fn.length }, () => 0)
  // Warm-up calls let the allocator reach its working size before the baseline.
  for (let i = 0; i < 10; i++) fn(...args)
  result.before = sizes(instance)
  for (let i = 0; i < count; i++) {
    fn(...args)
    result.calls++
  }
  result.after = sizes(instance)
} catch (e) {
  result.error = e instanceof Error ? e.message : String(e)
}
console.log(JSON.stringify(result))
