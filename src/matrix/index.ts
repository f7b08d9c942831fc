/**
 * `wharf test`: the WASM compatibility matrix (DESIGN §5). Other capabilities
 * import from here only.
 */
export { runMatrix } from './run.js'
export { runMatrixIsolated, type IsolatedRun, type IsolatedOptions } from './isolated.js'
export { probeSandbox, SANDBOX_LIMITS, type SandboxOptions, type SandboxProbe } from './sandbox.js'
export { DEFAULTS, type MatrixOptions } from './options.js'
export { renderMarkdown } from './markdown.js'
export { parseTargets } from './targets.js'
export { discoverToolchains, planTarget, type Toolchain, type ToolchainCandidate } from './toolchain.js'
export { scanModule, scanComponent, stripCustomSections, type Feature } from './wasm-scan.js'
export { parseLibtest } from './libtest.js'
export { hintFor, KNOWN_CAUSES } from './blame.js'
export { dualCompilation, gcReadiness, qualityScore, SCORE_WEIGHTS, type SignatureLevel } from './verdicts.js'
export { runnerScript } from './runtime.js'
export { addCleanup, isStopping, onStopSignal, spawnChild } from './children.js'
export { JSON_CAPTURE, runStep, type StepOptions, type StepOutput } from './process.js'
export * from './types.js'
