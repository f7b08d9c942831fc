/** Size, feature, import and memory figures of one wasm binary, and a component's WIT world. */
import zlib from 'node:zlib'
import { wasmKind } from '../core/wasm.js'
import type { ComponentMetrics, SizeMetrics, WasmImports, WasmMetrics } from './types.js'
import { scanComponent, scanModule, stripCustomSections, type ModuleScan } from './wasm-scan.js'

/** Raw, stripped of custom sections, and the stripped bytes gzip -9 and brotli -11 compressed: what a browser would download. */
export function sizeMetrics(bytes: Uint8Array, file: string, kind: SizeMetrics['kind']): SizeMetrics {
  const stripped = stripCustomSections(bytes)
  let code = 0
  let data = 0
  for (const scan of moduleScans(bytes)) {
    code += scan.codeBytes
    data += scan.dataBytes
  }
  return {
    file,
    kind,
    raw: bytes.length,
    stripped: stripped.length,
    gzip: zlib.gzipSync(stripped, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(stripped, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: stripped.length },
    }).length,
    code,
    data,
  }
}

function moduleScans(bytes: Uint8Array): ModuleScan[] {
  return wasmKind(bytes) === 'component' ? scanComponent(bytes).modules : [scanModule(bytes)]
}

const WASI_MODULES = /^(wasi_snapshot_preview1|wasi_unstable|wasi:)/

/** Sorts an import into WASI, `env`, wasm-bindgen glue or other. */
export function classifyImports(imports: { module: string; name: string }[]): WasmImports {
  const out: WasmImports = { wasi: [], env: [], wasm_bindgen: [], other: [] }
  for (const { module, name } of imports) {
    const label = `${module}::${name}`
    if (WASI_MODULES.test(module)) out.wasi.push(label)
    else if (module.startsWith('__wbindgen') || name.startsWith('__wbg_') || name.startsWith('__wbindgen')) out.wasm_bindgen.push(label)
    else if (module === 'env') out.env.push(label)
    else out.other.push(label)
  }
  for (const list of Object.values(out)) list.sort()
  return out
}

/** Features, imports, exports and memory of a module, or of every core module inside a component taken together. */
export function wasmMetrics(bytes: Uint8Array, peakPages: number | null = null): WasmMetrics {
  const scans = moduleScans(bytes)
  const features = new Set<string>()
  const declared = new Set<string>()
  for (const scan of scans) {
    for (const f of scan.features) features.add(f)
    for (const f of scan.declaredFeatures) declared.add(f)
  }
  // A component's own imports are WIT interfaces (in `component`); the core modules' imports are its internal wiring.
  const isComponent = wasmKind(bytes) === 'component'
  const main = scans.find((s) => s.memory && !s.imports.some((i) => i.kind === 'memory')) ?? scans[0]
  return {
    features: [...features].sort(),
    declared_features: [...declared].sort(),
    imports: classifyImports(isComponent ? [] : scans.flatMap((s) => s.imports)),
    exports: isComponent ? [] : scans.flatMap((s) => s.exports.map((e) => (e.kind === 'func' ? e.name : `${e.name} (${e.kind})`))).sort(),
    memory: {
      initial_pages: main?.memory?.initial ?? null,
      max_pages: main?.memory?.max ?? null,
      peak_pages: peakPages,
      shared: main?.memory?.shared ?? false,
      memory64: main?.memory?.memory64 ?? false,
    },
    undecoded_functions: scans.reduce((n, s) => n + s.undecoded, 0),
  }
}

/** The WIT world of a component, as jco prints it, with its imports, exports and the resources it defines. */
export async function componentMetrics(bytes: Uint8Array): Promise<ComponentMetrics> {
  const { componentWit } = await import('@bytecodealliance/jco')
  const wit = await componentWit(bytes)
  return { wit, ...parseWorld(wit) }
}

/** Imports and exports of the world in `jco wit` output, and the resources its exported interfaces define. */
export function parseWorld(wit: string): { imports: string[]; exports: string[]; resources: string[] } {
  const imports: string[] = []
  const exports: string[] = []
  const worldStart = wit.search(/^\s*world\s+[\w-]+\s*\{/m)
  const world = worldStart >= 0 ? wit.slice(worldStart) : ''
  const resources = new Set<string>()
  let depth = 0
  let inlineExport: string | null = null
  for (const raw of world.split('\n')) {
    const line = raw.trim()
    if (depth === 1) {
      const m = /^(import|export)\s+([^;{]+?)\s*(?:;|\{|$)/.exec(line)
      if (m) {
        const name = m[2]!.replace(/:\s*(func|interface).*$/, '').trim()
        ;(m[1] === 'import' ? imports : exports).push(name)
        if (m[1] === 'export' && line.endsWith('{')) inlineExport = name
      }
    } else if (inlineExport) {
      const r = /^resource\s+([\w-]+)/.exec(line)
      if (r) resources.add(`${inlineExport}/${r[1]}`)
    }
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length
    if (depth <= 1) inlineExport = null
    if (depth <= 0 && line.includes('}')) break
  }
  // An exported interface defined in this package counts too.
  const exportedNames = exports.map((e) => e.split('/').pop()!.replace(/@.*$/, ''))
  for (const [, name, body] of wit.matchAll(/^\s*interface\s+([\w-]+)\s*\{([\s\S]*?)^\s*\}/gm)) {
    if (!exportedNames.includes(name!)) continue
    for (const r of body!.matchAll(/^\s*resource\s+([\w-]+)/gm)) resources.add(`${name}/${r[1]}`)
  }
  return { imports, exports, resources: [...resources].sort() }
}
