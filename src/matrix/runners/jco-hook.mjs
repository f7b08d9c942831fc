// Imported by `jco run --jco-import` before the component starts: it gives the
// component the same world the other runtimes give (the crate directory as `.`,
// an empty environment) and records the linear memory high-water mark.
//   WHARF_WASM_PREOPEN  directory the component sees as `.`
//   WHARF_WASM_STATS    file to write {memory_pages, gc_enabled} into at exit
// It lives in jco's output directory, where jco links the preview2 shim the
// transpiled component imports, so both see the same shim instance.
import fs from 'node:fs'
import { _setEnv } from '@bytecodealliance/preview2-shim/cli'
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem'

_setPreopens({ '.': process.env.WHARF_WASM_PREOPEN || process.cwd() })
_setEnv({})

const GC_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5f, 0])
const gcEnabled = WebAssembly.validate(GC_PROBE)
const instances = []
const instantiate = WebAssembly.instantiate
WebAssembly.instantiate = async function (...args) {
  const result = await instantiate.apply(this, args)
  instances.push(result instanceof WebAssembly.Instance ? result : result.instance)
  return result
}
WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
  construct(target, args, newTarget) {
    const instance = Reflect.construct(target, args, newTarget)
    instances.push(instance)
    return instance
  },
})
process.on('exit', () => {
  if (!process.env.WHARF_WASM_STATS) return
  let pages = null
  for (const instance of instances) {
    for (const value of Object.values(instance.exports)) {
      if (value instanceof WebAssembly.Memory) pages = Math.max(pages ?? 0, value.buffer.byteLength / 65536)
    }
  }
  fs.writeFileSync(process.env.WHARF_WASM_STATS, JSON.stringify({ exec_ms: null, memory_pages: pages, gc_enabled: gcEnabled, trap: null }))
})
