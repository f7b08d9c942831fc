/** The GC-readiness rungs that need more than a scan: the boundary's typing (G2) and the boundary probe (G3). */
import path from 'node:path'
import { runStep } from './process.js'
import { runnerScript } from './runtime.js'
import type { GcEvidence } from './verdicts.js'
import { wasmKind } from '../core/wasm.js'
import { hasRefTypes, scanComponent, scanModule } from './wasm-scan.js'

/**
 * G2 for any binary: a component hands out resource handles it defines (canon
 * resource.new/rep, or resources in the exported interfaces of its WIT); a core
 * module types its boundary with references.
 */
export function boundaryEvidence(bytes: Uint8Array, witResources: string[] = []): GcEvidence['g2'] {
  if (wasmKind(bytes) !== 'component') return boundaryTyping(bytes)
  const scan = scanComponent(bytes)
  if (witResources.length > 0 || scan.definedResources > 0) {
    return { met: true, evidence: `hands its host resource handles instead of integer pointers: ${witResources.length > 0 ? witResources.join(', ') : `${scan.definedResources} canon resource.new/rep`}` }
  }
  return { met: false, evidence: scan.usesResources ? 'uses resources only through its imports; its exports pass plain values' : 'no resource handles on its boundary' }
}

/** G2 for a core module: externref/funcref in an import or export signature, and none of wasm-bindgen's integer-handle slab. */
export function boundaryTyping(bytes: Uint8Array): GcEvidence['g2'] {
  const scan = scanModule(bytes)
  const typed = [...scan.imports, ...scan.exports].filter((x) => x.kind === 'func' && hasRefTypes(x.sig))
  const slab = scan.imports.filter((i) => /__wbindgen_object_(drop|clone)_ref/.test(i.name))
  if (slab.length > 0) return { met: false, evidence: `wasm-bindgen heap-slab handles (${slab[0]!.name}): host objects cross as integers` }
  if (typed.length === 0) return { met: false, evidence: 'no externref/funcref in any import or export signature: host objects cross as integers or not at all' }
  return { met: true, evidence: `reference-typed boundary: ${typed.slice(0, 3).map((t) => t.name).join(', ')}` }
}

/** G3: the declared boundary function called 1000 times leaves memory and tables as they were. */
export async function probeBoundary(file: string, name: string, timeoutMs: number): Promise<GcEvidence['g3']> {
  const out = await runStep(process.execPath, ['--no-warnings', runnerScript('boundary.mjs'), file, name, '1000'], { cwd: path.dirname(file), env: process.env, timeoutMs })
  let result: { before: { memory_pages: number | null; tables: Record<string, number> } | null; after: typeof result.before; calls: number; error: string | null }
  try {
    result = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '')
  } catch {
    return { met: false, evidence: `the probe of ${name} did not finish: ${out.timedOut ? 'timed out' : out.stderr.trim().split('\n').at(-1)}` }
  }
  if (result.error || !result.before || !result.after) return { met: false, evidence: `the probe of ${name} failed: ${result.error}` }
  const grewMemory = (result.after.memory_pages ?? 0) - (result.before.memory_pages ?? 0)
  const grewTables = Object.entries(result.after.tables).filter(([k, v]) => v !== result.before!.tables[k])
  if (grewMemory !== 0 || grewTables.length > 0) {
    return { met: false, evidence: `${result.calls} calls of ${name} grew memory by ${grewMemory} pages${grewTables.length ? ` and tables ${grewTables.map(([k]) => k).join(', ')}` : ''}` }
  }
  return { met: true, evidence: `${result.calls} calls of ${name}: memory and tables unchanged` }
}
