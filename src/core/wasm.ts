/**
 * What a wasm binary is, read from its bytes: a core module (version 1) or a
 * component (version 0x0d, layer 1), and whether its sections are well formed.
 */

export type WasmKind = 'module' | 'component'
export type WasmInspection = { ok: true; kind: WasmKind; sections: number } | { ok: false; reason: string }

const MAGIC = [0x00, 0x61, 0x73, 0x6d]

export function wasmKind(bytes: Uint8Array): WasmKind | undefined {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) return undefined
  const version = bytes[4]! | (bytes[5]! << 8)
  const layer = bytes[6]! | (bytes[7]! << 8)
  if (version === 1 && layer === 0) return 'module'
  if (layer === 1) return 'component'
  return undefined
}

/** Reads an unsigned LEB128 at `offset`; returns [value, next offset] or undefined when truncated. */
export function readU32(bytes: Uint8Array, offset: number): [number, number] | undefined {
  let result = 0
  let shift = 0
  for (let i = offset; i < bytes.length && shift < 35; i++) {
    const byte = bytes[i]!
    result += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return [result, i + 1]
    shift += 7
  }
  return undefined
}

/** A bounded cursor over a section's bytes: reading past `end` throws RangeError. */
export class WasmReader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}
  byte(): number {
    if (this.pos >= this.end) throw new RangeError('unexpected end of section')
    return this.bytes[this.pos++]!
  }
  peek(): number {
    if (this.pos >= this.end) throw new RangeError('unexpected end of section')
    return this.bytes[this.pos]!
  }
  u32(): number {
    let result = 0
    let shift = 0
    for (;;) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return result
      shift += 7
      if (shift > 63) throw new RangeError('LEB128 too long')
    }
  }
  /** Skips a signed LEB128 (s32, s33, s64): only its length matters here. */
  sleb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return
    throw new RangeError('LEB128 too long')
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('unexpected end of section')
    this.pos += n
  }
  name(): string {
    const len = this.u32()
    const start = this.pos
    this.skip(len)
    return Buffer.from(this.bytes.subarray(start, start + len)).toString('utf8')
  }
}

/** Walks the top-level sections: every one must lie inside the file. */
function walkSections(bytes: Uint8Array): number | string {
  let offset = 8
  let count = 0
  while (offset < bytes.length) {
    const id = bytes[offset]!
    const size = readU32(bytes, offset + 1)
    if (!size) return `section ${count} (id ${id}) at byte ${offset} has a truncated size`
    const end = size[1] + size[0]
    if (end > bytes.length) return `section ${count} (id ${id}) at byte ${offset} runs past the end of the file`
    offset = end
    count++
  }
  return count
}

/**
 * Inspects a wasm binary. A core module is compiled by the engine (full
 * validation); a component, which this engine cannot compile, gets a
 * structural check of its header and sections.
 */
export function inspectWasm(bytes: Uint8Array): WasmInspection {
  const kind = wasmKind(bytes)
  if (!kind) {
    const head = Buffer.from(bytes.subarray(0, 8)).toString('hex')
    return { ok: false, reason: `not a WebAssembly binary (first bytes ${head || 'none'}, expected 0061736d then a module or component version)` }
  }
  const sections = walkSections(bytes)
  if (typeof sections === 'string') return { ok: false, reason: sections }
  if (kind === 'module') {
    try {
      new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)
    } catch (e) {
      return { ok: false, reason: `the module does not validate: ${(e as Error).message}` }
    }
  }
  return { ok: true, kind, sections }
}
