/**
 * What a wasm binary uses, read from its bytes with no tooling: proposals
 * (from opcodes, types and sections), imports and exports, memory limits,
 * section sizes, and the same bytes without custom sections. Every function
 * body is decoded instruction by instruction, because a prefix byte such as
 * 0xFC can also appear inside an immediate and a byte search would misread it.
 */
import { WasmReader as Reader, wasmKind } from '../core/wasm.js'

/** Proposal names as the tool conventions spell them (wasm-tools, LLVM `target_features`). */
export type Feature =
  | 'bulk-memory'
  | 'reference-types'
  | 'simd'
  | 'relaxed-simd'
  | 'threads'
  | 'multi-value'
  | 'gc'
  | 'exceptions'
  | 'sign-ext'
  | 'nontrapping-fptoint'
  | 'tail-call'
  | 'function-references'
  | 'memory64'
  | 'multi-memory'
  | 'mutable-globals'

export interface FuncSig {
  params: number[]
  results: number[]
}

export interface ModuleScan {
  features: Set<Feature>
  declaredFeatures: string[]
  imports: { module: string; name: string; kind: 'func' | 'table' | 'memory' | 'global' | 'tag'; sig?: FuncSig }[]
  exports: { name: string; kind: 'func' | 'table' | 'memory' | 'global' | 'tag'; sig?: FuncSig }[]
  memory: { initial: number; max: number | null; shared: boolean; memory64: boolean } | null
  /** Type section holds struct, array, rec or sub types (the GC proposal's types). */
  gcTypes: boolean
  codeBytes: number
  dataBytes: number
  customSections: string[]
  undecoded: number
}

export interface ComponentScan {
  modules: ModuleScan[]
  /** canon resource.drop present: the component holds resource handles (imported ones included, such as WASI streams). */
  usesResources: boolean
  /** canon resource.new and resource.rep: only for resource types the component defines itself, that is, hands out to its host. */
  definedResources: number
  customSections: string[]
}

const NUM_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c])
const V128 = 0x7b
const FUNCREF = 0x70
const EXTERNREF = 0x6f
const EXNREF = 0x69
// Abbreviated reference types of the GC and exception proposals.
const GC_ABBREV = new Set([0x6e, 0x6d, 0x6c, 0x6b, 0x6a, 0x71, 0x72, 0x73, 0x74])
const KINDS = ['func', 'table', 'memory', 'global', 'tag'] as const

function valtype(r: Reader, features: Set<Feature>): number {
  const t = r.byte()
  if (NUM_TYPES.has(t)) return t
  if (t === V128) features.add('simd')
  else if (t === FUNCREF || t === EXTERNREF) features.add('reference-types')
  else if (t === EXNREF) features.add('exceptions')
  else if (GC_ABBREV.has(t)) features.add('gc')
  else if (t === 0x63 || t === 0x64) {
    features.add('function-references')
    heaptype(r, features)
  } else throw new RangeError(`unknown value type 0x${t.toString(16)}`)
  return t
}

function heaptype(r: Reader, features: Set<Feature>): void {
  const t = r.peek()
  if (t === FUNCREF || t === EXTERNREF) {
    r.byte()
    features.add('reference-types')
  } else if (t === EXNREF || t === 0x74) {
    r.byte()
    features.add('exceptions')
  } else if (GC_ABBREV.has(t)) {
    r.byte()
    features.add('gc')
  } else r.sleb()
}

function limits(r: Reader): { initial: number; max: number | null; shared: boolean; memory64: boolean } {
  const flags = r.byte()
  const initial = r.u32()
  const max = flags & 0x01 ? r.u32() : null
  // Custom page sizes (flag 0x08) carry a log2 page size after the limits.
  if (flags & 0x08) r.u32()
  return { initial, max, shared: (flags & 0x02) !== 0, memory64: (flags & 0x04) !== 0 }
}

function tabletype(r: Reader, features: Set<Feature>): void {
  // A funcref table is MVP; any other element type is the reference-types proposal or later.
  if (r.peek() === FUNCREF) r.byte()
  else valtype(r, features)
  const l = limits(r)
  if (l.memory64) features.add('memory64')
}

function blocktype(r: Reader, features: Set<Feature>): void {
  const t = r.peek()
  if (t === 0x40) r.byte()
  else if (NUM_TYPES.has(t) || t === V128 || t === FUNCREF || t === EXTERNREF || t === EXNREF || GC_ABBREV.has(t) || t === 0x63 || t === 0x64) {
    valtype(r, features)
  } else {
    // A type index: a block with parameters or several results.
    r.sleb()
    features.add('multi-value')
  }
}

function memarg(r: Reader, features: Set<Feature>): void {
  const align = r.u32()
  // Bit 6 of the alignment field says a memory index follows (multi-memory).
  if (align & 0x40) {
    if (r.u32() !== 0) features.add('multi-memory')
  }
  r.u32()
}

/** Decodes instructions up to `end` (a body, or a constant expression up to its final `end` when `untilEnd`). */
function instructions(r: Reader, features: Set<Feature>, untilEnd = false): void {
  let depth = 0
  while (r.pos < r.end) {
    const op = r.byte()
    switch (op) {
      case 0x02:
      case 0x03:
      case 0x04:
        blocktype(r, features)
        depth++
        break
      case 0x06:
        features.add('exceptions')
        blocktype(r, features)
        depth++
        break
      case 0x1f: {
        features.add('exceptions')
        blocktype(r, features)
        const catches = r.u32()
        for (let i = 0; i < catches; i++) {
          const kind = r.byte()
          if (kind === 0 || kind === 1) r.u32()
          r.u32()
        }
        depth++
        break
      }
      case 0x07:
      case 0x08:
      case 0x09:
      case 0x18:
        features.add('exceptions')
        r.u32()
        if (op === 0x18) depth--
        break
      case 0x0a:
      case 0x19:
        features.add('exceptions')
        break
      case 0x0b:
        if (untilEnd && depth === 0) return
        depth--
        break
      case 0x0c:
      case 0x0d:
        r.u32()
        break
      case 0x0e: {
        const n = r.u32()
        for (let i = 0; i <= n; i++) r.u32()
        break
      }
      case 0x10:
        r.u32()
        break
      case 0x11:
      case 0x13: {
        r.u32()
        if (r.u32() !== 0) features.add('reference-types')
        if (op === 0x13) features.add('tail-call')
        break
      }
      case 0x12:
        features.add('tail-call')
        r.u32()
        break
      case 0x14:
      case 0x15:
        features.add('function-references')
        if (op === 0x15) features.add('tail-call')
        r.u32()
        break
      case 0x1c: {
        features.add('reference-types')
        const n = r.u32()
        for (let i = 0; i < n; i++) valtype(r, features)
        break
      }
      case 0x20:
      case 0x21:
      case 0x22:
      case 0x23:
      case 0x24:
        r.u32()
        break
      case 0x25:
      case 0x26:
        features.add('reference-types')
        r.u32()
        break
      case 0x3f:
      case 0x40:
        if (r.u32() !== 0) features.add('multi-memory')
        break
      case 0x41:
      case 0x42:
        r.sleb()
        break
      case 0x43:
        r.skip(4)
        break
      case 0x44:
        r.skip(8)
        break
      case 0xd0:
        features.add('reference-types')
        heaptype(r, features)
        break
      case 0xd1:
        features.add('reference-types')
        break
      case 0xd2:
        features.add('reference-types')
        r.u32()
        break
      case 0xd3:
        features.add('gc')
        break
      case 0xd4:
        features.add('function-references')
        break
      case 0xd5:
      case 0xd6:
        features.add('function-references')
        r.u32()
        break
      case 0xfb:
        features.add('gc')
        gcOp(r, features)
        break
      case 0xfc:
        miscOp(r, features)
        break
      case 0xfd:
        simdOp(r, features)
        break
      case 0xfe:
        features.add('threads')
        if (r.u32() === 0x03) r.byte()
        else memarg(r, features)
        break
      default:
        if (op >= 0x28 && op <= 0x3e) memarg(r, features)
        else if (op >= 0xc0 && op <= 0xc4) features.add('sign-ext')
        else if (op === 0x00 || op === 0x01 || op === 0x05 || op === 0x0f || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xbf)) {
          // No immediates.
        } else throw new RangeError(`unknown opcode 0x${op.toString(16)}`)
    }
  }
}

function gcOp(r: Reader, features: Set<Feature>): void {
  const sub = r.u32()
  if (sub <= 1 || (sub >= 6 && sub <= 7) || (sub >= 11 && sub <= 14) || sub === 16) r.u32()
  else if ((sub >= 2 && sub <= 5) || (sub >= 8 && sub <= 10) || sub === 17 || sub === 18 || sub === 19) {
    r.u32()
    r.u32()
  } else if (sub >= 20 && sub <= 23) heaptype(r, features)
  else if (sub === 24 || sub === 25) {
    r.byte()
    r.u32()
    heaptype(r, features)
    heaptype(r, features)
  } else if (sub === 15 || (sub >= 26 && sub <= 30)) {
    // No immediates.
  } else throw new RangeError(`unknown GC opcode ${sub}`)
}

function miscOp(r: Reader, features: Set<Feature>): void {
  const sub = r.u32()
  if (sub <= 7) features.add('nontrapping-fptoint')
  else if (sub <= 14) {
    features.add('bulk-memory')
    if (sub === 8 || sub === 12 || sub === 10 || sub === 14) {
      r.u32()
      r.u32()
    } else r.u32()
  } else if (sub <= 17) {
    features.add('reference-types')
    r.u32()
  } else throw new RangeError(`unknown 0xFC opcode ${sub}`)
}

function simdOp(r: Reader, features: Set<Feature>): void {
  const sub = r.u32()
  features.add(sub >= 0x100 ? 'relaxed-simd' : 'simd')
  if (sub <= 11 || sub === 92 || sub === 93) memarg(r, features)
  else if (sub === 12 || sub === 13) r.skip(16)
  else if (sub >= 21 && sub <= 34) r.byte()
  else if (sub >= 84 && sub <= 91) {
    memarg(r, features)
    r.byte()
  }
}

function subtype(r: Reader, features: Set<Feature>, types: (FuncSig | null)[]): void {
  const form = r.byte()
  if (form === 0x50 || form === 0x4f) {
    const supers = r.u32()
    for (let i = 0; i < supers; i++) r.u32()
    features.add('gc')
    return subtype(r, features, types)
  }
  if (form === 0x60) {
    const params: number[] = []
    const results: number[] = []
    for (let i = r.u32(); i > 0; i--) params.push(valtype(r, features))
    for (let i = r.u32(); i > 0; i--) results.push(valtype(r, features))
    if (results.length > 1) features.add('multi-value')
    types.push({ params, results })
    return
  }
  features.add('gc')
  const field = () => {
    const t = r.peek()
    if (t === 0x78 || t === 0x77) r.byte()
    else valtype(r, features)
    r.byte()
  }
  if (form === 0x5f) for (let i = r.u32(); i > 0; i--) field()
  else if (form === 0x5e) field()
  else throw new RangeError(`unknown type form 0x${form.toString(16)}`)
  types.push(null)
}

/** Scans a core module. Throws RangeError on bytes it cannot read as a module. */
export function scanModule(bytes: Uint8Array): ModuleScan {
  const features = new Set<Feature>()
  const scan: ModuleScan = {
    features,
    declaredFeatures: [],
    imports: [],
    exports: [],
    memory: null,
    gcTypes: false,
    codeBytes: 0,
    dataBytes: 0,
    customSections: [],
    undecoded: 0,
  }
  const types: (FuncSig | null)[] = []
  const funcTypes: number[] = []
  let memories = 0
  let tables = 0
  let offset = 8
  while (offset < bytes.length) {
    const head = new Reader(bytes, offset, bytes.length)
    const id = head.byte()
    const size = head.u32()
    const r = new Reader(bytes, head.pos, head.pos + size)
    if (r.end > bytes.length) throw new RangeError(`section ${id} runs past the end`)
    switch (id) {
      case 0: {
        const name = r.name()
        scan.customSections.push(name)
        if (name === 'target_features') {
          for (let n = r.u32(); n > 0; n--) {
            const prefix = String.fromCharCode(r.byte())
            const feature = r.name()
            if (prefix !== '-') scan.declaredFeatures.push(feature)
          }
        }
        break
      }
      case 1:
        for (let n = r.u32(); n > 0; n--) {
          if (r.peek() === 0x4e) {
            r.byte()
            features.add('gc')
            for (let m = r.u32(); m > 0; m--) subtype(r, features, types)
          } else subtype(r, features, types)
        }
        break
      case 2:
        for (let n = r.u32(); n > 0; n--) {
          const module = r.name()
          const name = r.name()
          const kind = r.byte()
          if (kind === 0) {
            const index = r.u32()
            funcTypes.push(index)
            scan.imports.push({ module, name, kind: 'func', sig: types[index] ?? undefined })
          } else if (kind === 1) {
            tables++
            tabletype(r, features)
            scan.imports.push({ module, name, kind: 'table' })
          } else if (kind === 2) {
            const l = limits(r)
            memories++
            scan.memory ??= l
            scan.imports.push({ module, name, kind: 'memory' })
          } else if (kind === 3) {
            valtype(r, features)
            if (r.byte() === 1) features.add('mutable-globals')
            scan.imports.push({ module, name, kind: 'global' })
          } else if (kind === 4) {
            features.add('exceptions')
            r.byte()
            r.u32()
            scan.imports.push({ module, name, kind: 'tag' })
          } else throw new RangeError(`unknown import kind ${kind}`)
        }
        break
      case 3:
        for (let n = r.u32(); n > 0; n--) funcTypes.push(r.u32())
        break
      case 4:
        if (tables + r.peek() > 1) features.add('reference-types')
        for (let n = r.u32(); n > 0; n--) {
          if (r.peek() === 0x40) {
            r.byte()
            r.byte()
            tabletype(r, features)
            instructions(r, features, true)
          } else tabletype(r, features)
        }
        break
      case 5:
        for (let n = r.u32(); n > 0; n--) {
          const l = limits(r)
          memories++
          scan.memory ??= l
        }
        break
      case 6:
        for (let n = r.u32(); n > 0; n--) {
          valtype(r, features)
          r.byte()
          instructions(r, features, true)
        }
        break
      case 7:
        for (let n = r.u32(); n > 0; n--) {
          const name = r.name()
          const kind = KINDS[r.byte()] ?? 'func'
          const index = r.u32()
          scan.exports.push({ name, kind, sig: kind === 'func' ? (types[funcTypes[index] ?? -1] ?? undefined) : undefined })
        }
        break
      case 10: {
        scan.codeBytes += size
        for (let n = r.u32(); n > 0; n--) {
          const bodySize = r.u32()
          const body = new Reader(bytes, r.pos, r.pos + bodySize)
          r.skip(bodySize)
          try {
            for (let groups = body.u32(); groups > 0; groups--) {
              body.u32()
              valtype(body, features)
            }
            instructions(body, features)
          } catch {
            // One odd body (a proposal this scan does not know) must not hide what the others use.
            scan.undecoded++
          }
        }
        break
      }
      case 11:
        scan.dataBytes += size
        break
      case 13:
        features.add('exceptions')
        break
    }
    offset = r.end
  }
  if (memories > 1) features.add('multi-memory')
  if (scan.memory?.shared) features.add('threads')
  if (scan.memory?.memory64) features.add('memory64')
  scan.gcTypes = types.some((t) => t === null)
  // An exported mutable global also needs the proposal; the export section does not say, so only imports count here.
  return scan
}

/** Scans a component: every core module inside it, nested components included. */
export function scanComponent(bytes: Uint8Array): ComponentScan {
  const scan: ComponentScan = { modules: [], usesResources: false, definedResources: 0, customSections: [] }
  walkComponent(bytes, scan)
  return scan
}

function walkComponent(bytes: Uint8Array, scan: ComponentScan): void {
  let offset = 8
  while (offset < bytes.length) {
    const head = new Reader(bytes, offset, bytes.length)
    const id = head.byte()
    const size = head.u32()
    const start = head.pos
    const end = start + size
    if (end > bytes.length) throw new RangeError(`component section ${id} runs past the end`)
    const body = bytes.subarray(start, end)
    if (id === 0) scan.customSections.push(new Reader(bytes, start, end).name())
    else if (id === 1) scan.modules.push(scanModule(body))
    else if (id === 4) walkComponent(body, scan)
    else if (id === 8) canonResources(new Reader(bytes, start, end), scan)
    offset = end
  }
}

/** Counts canon resource.new/rep (resources the component defines) and resource.drop (any resource, imported ones too). */
function canonResources(r: Reader, scan: ComponentScan): void {
  try {
    for (let n = r.u32(); n > 0; n--) {
      const op = r.byte()
      if (op === 0x02 || op === 0x04) {
        scan.definedResources++
        r.u32()
        continue
      }
      if (op === 0x03 || op === 0x07) {
        scan.usesResources = true
        r.u32()
        continue
      }
      if (op !== 0x00 && op !== 0x01) return
      r.byte()
      r.u32()
      for (let opts = r.u32(); opts > 0; opts--) {
        const opt = r.byte()
        // memory, realloc, post-return and callback name an index; the encodings and async flags do not.
        if (opt === 0x03 || opt === 0x04 || opt === 0x05 || opt === 0x07) r.u32()
      }
      if (op === 0x00) r.u32()
    }
  } catch {
    // A canonical function of a newer encoding: what was read so far stands.
  }
}

/** The same binary without custom sections (names, debug info, producers), nested modules and components included. */
export function stripCustomSections(bytes: Uint8Array, keep: (name: string) => boolean = () => false): Uint8Array {
  const kind = wasmKind(bytes)
  const parts: Uint8Array[] = [bytes.subarray(0, 8)]
  let offset = 8
  while (offset < bytes.length) {
    const head = new Reader(bytes, offset, bytes.length)
    const id = head.byte()
    const size = head.u32()
    const body = bytes.subarray(head.pos, head.pos + size)
    if (id === 0) {
      if (keep(new Reader(body, 0, body.length).name())) parts.push(bytes.subarray(offset, head.pos + size))
    } else {
      if (kind === 'component' && (id === 1 || id === 4)) {
        const inner = stripCustomSections(body, keep)
        parts.push(Uint8Array.of(id), leb(inner.length), inner)
      } else parts.push(bytes.subarray(offset, head.pos + size))
    }
    offset = head.pos + size
  }
  return Buffer.concat(parts)
}

function leb(value: number): Uint8Array {
  const out: number[] = []
  do {
    let b = value & 0x7f
    value = Math.floor(value / 128)
    if (value !== 0) b |= 0x80
    out.push(b)
  } while (value !== 0)
  return Uint8Array.from(out)
}

/** Value types of a signature that are references: the mark of a reference-typed boundary. */
export function hasRefTypes(sig: FuncSig | undefined): boolean {
  return !!sig && [...sig.params, ...sig.results].some((t) => t === FUNCREF || t === EXTERNREF || t === 0x63 || t === 0x64 || GC_ABBREV.has(t))
}
