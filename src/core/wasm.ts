/**
 * What a wasm binary is, read from its bytes: a core module (version 1) or a
 * component (version 0x0d, layer 1), and whether its sections are well formed.
 */
import { WharfError } from './errors.js'

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

/** The targets a wasm binary can be built for, as records and reports name them. */
export type WasmTarget = 'wasm32-wasip2' | 'wasm32-wasip1' | 'wasm32-unknown-unknown'

/** Import modules of WASI preview 1: `wasi_snapshot_preview1`, and `wasi_unstable` of the toolchains before it. */
const WASI_P1_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable']

/**
 * The target a wasm binary was built for, from its kind and the modules its
 * imports come from: a component is wasm32-wasip2, and so is a core module
 * that imports WASI 0.2 interfaces (`wasi:cli/...`, a component not yet
 * wrapped); a core module that imports WASI preview 1 is wasm32-wasip1; any
 * other core module is wasm32-unknown-unknown.
 */
export function inferTarget(kind: WasmKind, importModules: readonly string[]): WasmTarget {
  if (kind === 'component' || importModules.some((m) => m.startsWith('wasi:'))) return 'wasm32-wasip2'
  if (importModules.some((m) => WASI_P1_MODULES.includes(m))) return 'wasm32-wasip1'
  return 'wasm32-unknown-unknown'
}

/** The target of a wasm binary (see inferTarget); bytes that are not valid wasm are refused. */
export function artifactTarget(bytes: Uint8Array): WasmTarget {
  const inspection = inspectWasm(bytes)
  if (!inspection.ok) throw new WharfError('INVALID_ARTIFACT', `the artifact is not valid WebAssembly: ${inspection.reason}`, { hint: 'publish a .wasm component or module' })
  if (inspection.kind === 'component') return inferTarget('component', [])
  const modules = WebAssembly.Module.imports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).map((i) => i.module)
  return inferTarget('module', modules)
}
