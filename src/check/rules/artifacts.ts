/** Every artifact a record names is re-read and re-hashed, and is the kind of file the record says. */
import { sha256Hex } from '../../core/hash.js'
import { inspectWasm } from '../../core/wasm.js'
import { isWharfError } from '../../core/errors.js'
import type { Artifact, VersionRecord } from '../../core/types.js'
import { isLocalUrl, readArtifact } from '../../store/index.js'
import { fetchLimited } from '../fetch.js'
import { RULES, type CheckContext } from '../types.js'

/** Targets whose artifacts are core modules; every other wasm artifact of a component package must be a component. */
export const CORE_MODULE_TARGETS = new Set(['wasm32-unknown-unknown', 'wasm32-wasip1', 'wasm32-wasi'])

/** Runs after the record rules: a record whose signature did not verify (or was not checked) is never fetched for. */
export async function checkArtifacts(ctx: CheckContext): Promise<void> {
  for (const subject of ctx.subjects) {
    if (subject.skip || !subject.verified || subject.change.status !== 'added' || subject.where.kind !== 'record') continue
    const record = subject.json as VersionRecord
    for (const artifact of record.artifacts) await checkArtifact(ctx, subject.change.path, record, artifact, subject.imported === true)
  }
}

async function checkArtifact(ctx: CheckContext, file: string, record: VersionRecord, artifact: Artifact, imported: boolean): Promise<void> {
  const limits = ctx.registry.policy.limits
  const label = `artifact ${artifact.name}`
  if (artifact.size > limits.max_artifact_bytes) {
    ctx.report({
      rule: RULES.artifactSize,
      file,
      message: `${label} is ${artifact.size} bytes, over the registry's ${limits.max_artifact_bytes}-byte limit`,
      hint: 'strip debug sections (wasm-tools strip) or ask the maintainers to raise the limit',
    })
    return
  }
  const bytes = imported ? await importedArtifact(ctx, file, artifact) : await loadArtifact(ctx, file, artifact)
  if (!bytes) return
  const digest = sha256Hex(bytes)
  if (digest !== artifact.sha256) {
    ctx.report({
      rule: RULES.artifactDigest,
      file,
      message: `${label} hashes to sha256 ${digest}, but the record says ${artifact.sha256}`,
      hint: 'the bytes changed after signing: publish the artifact again so record and bytes agree',
    })
    return
  }
  if (bytes.length !== artifact.size) {
    ctx.report({ rule: RULES.artifactSize, file, message: `${label} is ${bytes.length} bytes, but the record says ${artifact.size}`, hint: 'publish again so the record states the real size' })
    return
  }
  const formatProblem = artifactFormatProblem(record, artifact, bytes)
  if (formatProblem) {
    ctx.report({ rule: RULES.artifactFormat, file, message: `${label}: ${formatProblem}`, hint: 'upload the file the record describes' })
  }
}

/** An imported record's artifact: the import stored the bytes it verified, whatever URL the peer's record names. */
async function importedArtifact(ctx: CheckContext, file: string, artifact: Artifact): Promise<Uint8Array | undefined> {
  const bytes = await readArtifact(ctx.repo.dir, artifact.sha256)
  if (!bytes) {
    ctx.report({
      rule: RULES.artifactFetch,
      file,
      message: `artifact ${artifact.name} (sha256 ${artifact.sha256}) of an imported record is not in this index's artifact store`,
      hint: 'import with `wharf sync`, which stores every artifact it imports',
    })
  }
  return bytes
}

async function loadArtifact(ctx: CheckContext, file: string, artifact: Artifact): Promise<Uint8Array | undefined> {
  const label = `artifact ${artifact.name}`
  if (isLocalUrl(artifact.url)) {
    const hex = artifact.url.slice('sha256:'.length)
    if (hex !== artifact.sha256) {
      ctx.report({ rule: RULES.artifactDigest, file, message: `${label} points at ${artifact.url} but declares sha256 ${artifact.sha256}`, hint: 'the url and sha256 of a stored artifact must agree' })
      return undefined
    }
    const bytes = await readArtifact(ctx.repo.dir, hex)
    if (!bytes) {
      ctx.report({
        rule: RULES.artifactFetch,
        file,
        message: `${label} (${artifact.url}) is not in this index's artifact store`,
        hint: 'publish with `wharf publish --index DIR`, which stores the artifact, or use an https URL',
      })
    }
    return bytes
  }
  const limits = ctx.registry.policy.limits
  try {
    return await fetchLimited(ctx.fetch, artifact.url, {
      maxBytes: Math.min(limits.max_artifact_bytes, artifact.size),
      timeoutMs: limits.fetch_timeout_ms,
      allowHttpLoopback: ctx.registry.policy.urls.allow_http_loopback,
    })
  } catch (e) {
    if (!isWharfError(e)) throw e
    const rule = e.code === 'FETCH_TOO_LARGE' ? RULES.artifactSize : RULES.artifactFetch
    ctx.report({ rule, file, message: `${label}: ${e.message}`, hint: e.hint ?? 'check the artifact URL' })
    return undefined
  }
}

/** Why the bytes are not what the record says they are, or undefined. */
export function artifactFormatProblem(record: VersionRecord, artifact: Artifact, bytes: Uint8Array): string | undefined {
  if (artifact.name.endsWith('.crate')) {
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return 'a .crate file must be a gzip archive'
    if (record.crate && record.crate.cksum !== artifact.sha256) return `the crate's cksum ${record.crate.cksum} is not the artifact's sha256 ${artifact.sha256}`
    return undefined
  }
  if (record.kind === 'crate' && !artifact.name.endsWith('.wasm')) return undefined
  const inspection = inspectWasm(bytes)
  if (!inspection.ok) return inspection.reason
  const expected = CORE_MODULE_TARGETS.has(artifact.target) ? 'module' : 'component'
  if (inspection.kind !== expected) {
    return expected === 'component'
      ? `it is a core wasm module, but target ${artifact.target} of a component package needs a component (jco new module.wasm --wasi-command)`
      : `it is a component, but target ${artifact.target} means a core module`
  }
  return undefined
}
