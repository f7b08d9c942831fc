/**
 * The names a component imports and exports (`wasi:http/incoming-handler@0.2.0`,
 * `run`), read from its top-level import and export sections, for the search
 * index: "who exports wasi:http/incoming-handler" is answered without a
 * server. Only names are read, never types, so a newer binary encoding that
 * this reader does not know ends the reading early instead of failing a build.
 */
import { readU32, WasmReader, wasmKind } from '../core/wasm.js'

export interface ComponentInterfaces {
  imports: string[]
  exports: string[]
}

const IMPORT_SECTION = 10
const EXPORT_SECTION = 11

class Cursor extends WasmReader {
  /** importname' / exportname': a tag, the name, and for the versioned form its version suffix. */
  externName(): string {
    const tag = this.byte()
    if (tag > 0x02) throw new RangeError(`unknown name form ${tag}`)
    const name = this.name()
    if (tag === 0x02) this.name()
    return name
  }

  externDesc(): void {
    const kind = this.byte()
    if (kind === 0x00) {
      this.byte()
      this.u32()
    } else if (kind === 0x01 || kind === 0x04 || kind === 0x05) this.u32()
    else if (kind === 0x02) this.u32()
    else if (kind === 0x03) {
      if (this.byte() === 0x00) this.u32()
    } else throw new RangeError(`unknown extern kind ${kind}`)
  }

  sortIdx(): void {
    if (this.byte() === 0x00) this.byte()
    this.u32()
  }
}

/** Import and export names of a component, or undefined for a core module or non-wasm bytes. */
export function componentInterfaces(bytes: Uint8Array): ComponentInterfaces | undefined {
  if (wasmKind(bytes) !== 'component') return undefined
  const imports: string[] = []
  const exports: string[] = []
  let offset = 8
  try {
    while (offset < bytes.length) {
      const id = bytes[offset]!
      const size = readU32(bytes, offset + 1)
      if (!size) break
      const start = size[1]
      const end = start + size[0]
      if (end > bytes.length) break
      if (id === IMPORT_SECTION || id === EXPORT_SECTION) {
        const cursor = new Cursor(bytes, start, end)
        const count = cursor.u32()
        for (let i = 0; i < count; i++) {
          const name = cursor.externName()
          if (id === IMPORT_SECTION) {
            cursor.externDesc()
            imports.push(name)
          } else {
            cursor.sortIdx()
            if (cursor.byte() === 0x01) cursor.externDesc()
            exports.push(name)
          }
        }
      }
      offset = end
    }
  } catch {
    // An encoding this reader does not know: keep the names read so far.
  }
  const unique = (names: string[]) => [...new Set(names)].sort()
  return { imports: unique(imports), exports: unique(exports) }
}
