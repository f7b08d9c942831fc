/**
 * The shape of a compatibility report (`schemas/report.schema.json` is the
 * contract; a test checks every report the matrix writes against it).
 */

/** The targets of the matrix, by the names wharf reports them under. */
export const TARGETS = ['native', 'wasm32-unknown-unknown', 'wasm32-wasip1', 'wasm32-wasip2'] as const
export type TargetName = (typeof TARGETS)[number]
export type WasmTargetName = Exclude<TargetName, 'native'>

export type StepStatus = 'pass' | 'fail' | 'unavailable'
export type TestStatus = 'pass' | 'fail' | 'not-run' | 'skipped' | 'unavailable'

export interface ToolchainRef {
  /** Where it came from: `rustup` (~/.cargo/bin) or `debian` (/usr/bin). */
  source: 'rustup' | 'debian'
  /** `rustc --version` output. */
  rustc: string
  cargo: string
  /** The triple passed to cargo for this target (`wasm32-wasi` on toolchains before 1.78); `null` for the host. */
  triple: string | null
  /** For wasip2 built as p1 and adapted: the adapter that turned the module into a component. */
  adapter?: string
}

export interface RuntimeRef {
  name: 'native' | 'wasmtime' | 'node-wasi' | 'node' | 'jco'
  version: string
  /** The command a person would type to reproduce the run (without arguments). */
  command: string
}

export interface BuildResult {
  status: StepStatus
  /** Why the step is unavailable or failed, in one line. */
  reason?: string
  command?: string
  wall_ms?: number
  exit_code?: number | null
  timed_out?: boolean
  /** Output files cargo reported for the build (wasm modules, binaries). */
  artifacts?: string[]
}

export interface TestBinaryResult {
  /** The cargo target the binary tests (`lib`, `integration`, a bin name...). */
  name: string
  passed: number
  failed: number
  ignored: number
  /** libtest's own last summary line, when the binary got to print one. */
  summary: string | null
  /** Tests that brought the whole runtime down (a panic under panic=abort traps); each was rerun apart. */
  aborted: string[]
  failures: string[]
  /** How many times the binary was started to get through all its tests. */
  runs: number
  exit_code: number | null
  wall_ms: number
}

export interface TestResult {
  status: TestStatus
  reason?: string
  command?: string
  /** Building the tests (`cargo test --no-run`). */
  build_ms?: number
  /** Running every test binary once, all restarts included. */
  run_ms?: number
  passed?: number
  failed?: number
  ignored?: number
  binaries?: TestBinaryResult[]
  /** The first panic message of a failing test, for people and for blame. */
  first_failure?: string
}

export interface Blame {
  /** The crate whose compilation (or test) failed. */
  crate: string
  version: string | null
  /** From the root crate down to `crate`, as `name version`. */
  path: string[]
  /** The first error line. */
  error: string
  hint: string | null
  /** What failed: the build of the crate, or a test that hit an unsupported platform API. */
  stage: 'build' | 'test'
}

export interface SizeMetrics {
  /** Which file was measured: a cdylib or bin of the build, the test binary, or the artifact under test. */
  file: string
  kind: 'cdylib' | 'bin' | 'test' | 'artifact' | 'component'
  raw: number
  stripped: number
  gzip: number
  brotli: number
  code: number
  data: number
}

export interface WasmImports {
  wasi: string[]
  env: string[]
  wasm_bindgen: string[]
  other: string[]
}

export interface MemoryMetrics {
  initial_pages: number | null
  max_pages: number | null
  /** `memory.size` at the end of the test run, in pages; linear memory never shrinks, so this is its high-water mark. */
  peak_pages: number | null
  shared: boolean
  memory64: boolean
}

export interface WasmMetrics {
  /** Proposals found in the code and types (opcode and section scan). */
  features: string[]
  /** Features the producer declared in its `target_features` custom section. */
  declared_features: string[]
  imports: WasmImports
  exports: string[]
  memory: MemoryMetrics
  /** Functions whose bodies the scan could not decode to the end. */
  undecoded_functions: number
}

export interface ComponentMetrics {
  /** The WIT world, as `jco wit` prints it. */
  wit: string
  imports: string[]
  exports: string[]
  resources: string[]
}

export interface TargetMetrics {
  wall_ms: { build: number | null; test_build: number | null; test_run: number | null; total: number }
  size: SizeMetrics | null
  wasm: WasmMetrics | null
  component: ComponentMetrics | null
  native: { peak_rss_kb: number | null } | null
}

export interface TargetReport {
  target: TargetName
  status: StepStatus
  toolchain: ToolchainRef | null
  runtime: RuntimeRef | null
  build: BuildResult
  test: TestResult
  blame: Blame[]
  metrics: TargetMetrics
}

export interface GcRung {
  level: 'G1' | 'G2' | 'G3' | 'G4'
  met: boolean | null
  evidence: string
}

export interface Verdicts {
  dual_compilation: { value: boolean; reason: string }
  speed_ratio: {
    /** median(wasm) / median(native); null when one side did not pass. */
    value: number | null
    wasm_target: TargetName | null
    basis: string
    runs: number
    native_ms: number | null
    wasm_ms: number | null
  }
  gc_readiness: { level: 'G0' | 'G1' | 'G2' | 'G3' | 'G4'; ladder: GcRung[] }
}

export interface ScorePart {
  name: 'build_coverage' | 'test_pass_rate' | 'dependency_compatibility' | 'metadata_completeness' | 'signature_level' | 'size'
  weight: number
  /** 0..1, or null when the part does not apply (its weight is then left out of the total). */
  value: number | null
  points: number
  detail: string
}

export interface Score {
  total: number
  breakdown: ScorePart[]
}

export interface Subject {
  kind: 'crate' | 'artifact'
  name: string
  version: string | null
  /** The path given on the command line. */
  path: string
  sha256?: string
}

export interface Report {
  schema: 'wharf:report/v1'
  subject: Subject
  host: string
  generated_at: string
  wharf: string
  targets: TargetReport[]
  verdicts: Verdicts
  score: Score
}
