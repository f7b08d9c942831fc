/**
 * Dependency blame: which crate broke a target, how it got into the tree,
 * and, for the causes seen again and again, what to do about it
 * (research notes §5.2).
 */
import { firstCargoFailure, firstErrorLine, parsePackageId, pathTo, type CargoError, type CargoMetadata } from './cargo.js'
import type { Blame, TargetName } from './types.js'

interface KnownCause {
  /** Crate name, or a test of it. */
  crate?: string | ((name: string) => boolean)
  targets?: TargetName[]
  /** A test of the error text (build error, or a test's panic message and location). */
  text?: RegExp
  hint: (name: string, links: string | null) => string
}

const WASM_ONLY = ['wasm32-unknown-unknown'] as TargetName[]
const WASI = ['wasm32-wasip1', 'wasm32-wasip2'] as TargetName[]

/** Known causes, most specific first; the first that matches gives the hint. */
export const KNOWN_CAUSES: KnownCause[] = [
  {
    crate: 'getrandom',
    targets: WASM_ONLY,
    hint: () =>
      'getrandom has no entropy source on wasm32-unknown-unknown by default: enable its `js` feature (0.2: `getrandom = { version = "0.2", features = ["js"] }`), or for 0.3 set `--cfg getrandom_backend="wasm_js"` in `[target.wasm32-unknown-unknown] rustflags`',
  },
  {
    crate: 'getrandom',
    targets: WASI,
    text: /\bwasi\b/,
    hint: () =>
      'this getrandom source lacks its `wasi` dependency (distribution-vendored copies drop it): build against the crates.io source, or take entropy through std (a `RandomState` is seeded from WASI random_get) on WASI',
  },
  {
    crate: (n) => n === 'mio' || n === 'socket2',
    hint: (n) =>
      `${n} needs OS sockets and an event loop, which wasm32-unknown-unknown lacks and WASI has only from wasip2 on: keep tokio to its wasm-safe features (sync, macros, io-util, rt, time) or gate networking behind cfg(not(target_family = "wasm"))`,
  },
  {
    crate: 'tokio',
    hint: () => 'tokio builds for wasm only with the features sync, macros, io-util, rt and time: drop `full`, `net`, `process`, `signal`, `fs` and `rt-multi-thread` for wasm targets',
  },
  {
    crate: 'ring',
    hint: () =>
      "ring compiles C and assembly with the `cc` crate: it needs a clang with the wasm32 backend (CC_wasm32_unknown_unknown=clang) and, on wasm32-unknown-unknown, its `wasm32_unknown_unknown_js` feature; or choose a pure-Rust crypto crate",
  },
  {
    crate: (n) => n === 'rayon' || n === 'rayon-core' || n === 'crossbeam-utils' || n === 'num_cpus',
    text: /thread/i,
    hint: (n) => `${n} starts OS threads, which wasm targets do not have: run the work sequentially under cfg(target_family = "wasm")`,
  },
  {
    text: /failed to spawn thread|thread::spawn|std\/src\/thread/,
    hint: () => 'std::thread::spawn fails on wasm32 targets without threads: run the work inline under cfg(target_family = "wasm"), or build for a threads-enabled target',
  },
  {
    text: /std\/src\/net|TcpListener|TcpStream|UdpSocket|net::/i,
    hint: () =>
      'std::net has no sockets on wasm32-unknown-unknown and wasm32-wasip1 (wasip2 adds wasi:sockets): gate networking behind cfg(not(target_family = "wasm")) or take a socket from the host',
  },
  {
    text: /std\/src\/process|Command::|process::/,
    hint: () => 'std::process cannot start programs on wasm targets: gate process spawning behind cfg(not(target_family = "wasm"))',
  },
  {
    targets: WASI,
    text: /pre-?opened|No such file or directory|Capabilities insufficient|Bad file descriptor|std\/src\/fs/i,
    hint: () =>
      'WASI programs reach the file system only inside pre-opened directories (wharf opens the crate directory as `.`): use paths relative to the crate, or pass the data in',
  },
  {
    targets: WASM_ONLY,
    text: /operation not supported on this platform|unsupported|std\/src\/fs/,
    hint: () => 'std::fs, std::net, std::process and std::env have no host on wasm32-unknown-unknown and fail at run time: gate them behind cfg, or use a WASI target',
  },
  {
    text: /kind: Unsupported|operation not supported on this platform/,
    hint: () =>
      'the test called a std API this wasm target does not provide (threads, sockets, processes...): gate that code behind cfg(not(target_family = "wasm")), or give the test a wasm variant',
  },
  {
    crate: (n) => n.endsWith('-sys'),
    hint: (n, links) => `${n} binds a native library${links ? ` (links = "${links}")` : ''} that does not exist for wasm: use a pure-Rust alternative or make the dependency native-only`,
  },
]

/** The hint for `crate` failing on `target` with `text`, or null when no known cause fits. */
export function hintFor(crate: string, target: TargetName, text: string, links: string | null = null): string | null {
  for (const cause of KNOWN_CAUSES) {
    if (cause.targets && !cause.targets.includes(target)) continue
    if (cause.crate !== undefined && !(typeof cause.crate === 'string' ? cause.crate === crate : cause.crate(crate))) continue
    if (cause.text && !cause.text.test(text)) continue
    return cause.hint(crate, links)
  }
  if (links) return `${crate} links the native library "${links}", which does not exist for wasm: make it a native-only dependency`
  return null
}

function describePath(metadata: CargoMetadata | null, name: string): { path: string[]; version: string | null; links: string | null } {
  if (!metadata) return { path: [name], version: null, links: null }
  const ids = pathTo(metadata, name)
  if (!ids) return { path: [name], version: null, links: null }
  const packages = ids.map((id) => metadata.packages.get(id)!)
  const last = packages.at(-1)!
  return { path: packages.map((p) => `${p.name} ${p.version}`), version: last.version, links: last.links }
}

/** Blame for a failed build: the crate of rustc's first error, else the one cargo says it could not build, else the root. */
export function blameBuild(target: TargetName, errors: CargoError[], stderr: string, metadata: CargoMetadata | null, rootName: string): Blame {
  const first = errors.find((e) => e.packageId) ?? errors[0]
  let name = rootName
  let version: string | null = null
  let error: string
  if (first?.packageId) {
    const id = parsePackageId(first.packageId)
    if (id) ({ name, version } = id)
    error = first.message
  } else {
    const failure = firstCargoFailure(stderr)
    if (failure) {
      name = failure.name
      version = failure.version
    }
    error = first?.message ?? firstErrorLine(stderr)
  }
  const where = describePath(metadata, name)
  const text = `${error}\n${first?.rendered ?? ''}`
  return { crate: name, version: version ?? where.version, path: where.path, error, hint: hintFor(name, target, text, where.links), stage: 'build' }
}

/** A registry source directory in a panic location: `.../name-1.2.3/src/...`. */
const REGISTRY_SOURCE = /(?:registry\/src\/[^/]+|cargo\/registry|vendor)\/([A-Za-z0-9_-]+?)-(\d+\.\d+\.\d+[^/]*)\//

/** Blame for failing tests: the crate the panic came from (a dependency's source, else the crate itself), with a hint from the message. */
export function blameTest(target: TargetName, test: string, message: string, location: string | null, metadata: CargoMetadata | null, rootName: string): Blame {
  const dependency = location ? REGISTRY_SOURCE.exec(location) : null
  const name = dependency?.[1] ?? rootName
  const where = describePath(metadata, name)
  const text = `${message}\n${location ?? ''}`
  return {
    crate: name,
    version: dependency?.[2] ?? where.version,
    path: where.path,
    error: `test ${test} panicked: ${message}${location ? ` (${location})` : ''}`,
    hint: hintFor(name, target, text, where.links),
    stage: 'test',
  }
}
