/**
 * The file formats of an index, as TypeScript. `schemas/` is the source of
 * truth; test/schemas.test.ts checks that values of these types validate.
 */
import type { DetachedSignature } from './dsse.js'

export type Owner = { login: string; id?: number } | { team: string }

export interface PublicKeyEntry {
  id: string
  algorithm: 'ed25519'
  /** base64 of the raw 32-byte key. */
  public_key: string
  added: string
  revoked?: string
}

export interface Publisher {
  login: string
  id?: number
}

export interface Dependency {
  name: string
  req: string
  optional: boolean
}

export interface Artifact {
  name: string
  target: string
  /** https URL, loopback http URL, or `sha256:<hex>` for the local artifact store. */
  url: string
  sha256: string
  size: number
}

export interface CrateDependency {
  name: string
  req: string
  features?: string[]
  optional?: boolean
  default_features?: boolean
  target?: string | null
  kind?: 'normal' | 'dev' | 'build'
  /** Index URL of the registry the dependency lives in, when it is not this one. */
  registry?: string
  /** The real crate name when the dependency is renamed. */
  package?: string
}

export interface CrateInfo {
  name: string
  cksum: string
  features?: Record<string, string[]>
  links?: string
  rust_version?: string
  deps?: CrateDependency[]
}

export type PackageKind = 'component' | 'crate'

export interface VersionRecord {
  schema: 'wharf:record/v1'
  name: string
  version: string
  kind: PackageKind
  description: string
  license?: string
  repository?: string
  homepage?: string
  /** Where the component's WIT lives (the Run 2.0 publish field `wit_url`). */
  wit_url?: string
  keywords?: string[]
  dependencies: Dependency[]
  targets: string[]
  artifacts: Artifact[]
  source?: { repository: string; commit: string; path?: string }
  crate?: CrateInfo
  published_at: string
  publisher: Publisher
  signature: DetachedSignature
}

export interface NamespaceFile {
  schema: 'wharf:namespace/v1'
  namespace: string
  description?: string
  owners: Owner[]
  keys: PublicKeyEntry[]
  authority?: string
  created_at: string
}

export interface YankNotice {
  schema: 'wharf:yank/v1'
  name: string
  version: string
  reason: string
  yanked_at: string
  publisher: Publisher
  signature: DetachedSignature
}

/** A peer registry (DESIGN §8): one entry of `peers` in `index/registry.json`. */
export interface Peer {
  /** This registry's name for the peer: namespace files of delegated namespaces name it as their `authority`. */
  name: string
  /** Where the peer's static output is served (what `wharf build-api` wrote, or a `wharf serve`). */
  url: string
  /** The namespaces delegated to the peer: it is their one authority. */
  namespaces: string[]
  /** The peer's registry key, pinned: every snapshot synced from it must be signed by this key. */
  key: { id: string; public_key: string }
}

/** One entry of the change feed (`api/v1/changes/<page>.json`): a version published or yanked on main. */
export interface FeedEntry {
  seq: number
  type: 'publish' | 'yank'
  name: string
  version: string
  commit: string
  /** Commit time, RFC 3339: when the change landed on main. */
  time: string
  /** sha256 of the version's primary artifact. */
  sha256: string
  /** The signed index file (record or yank notice), relative to the base URL, and its sha256. */
  file: string
  file_sha256: string
}

/** A change-feed entry of a peer that the next sync tries again, with why it was not imported. */
export interface PendingEntry extends FeedEntry {
  reason: string
}

/** `index/peers/<peer>.json`: how far this registry has imported a peer's change feed. */
export interface PeerState {
  schema: 'wharf:peer/v1'
  peer: string
  url: string
  cursor: number
  namespaces: string[]
  snapshot: { commit: string; generated_at: string }
  pending?: PendingEntry[]
  synced_at: string
}

export interface Policy {
  namespaces: {
    reserved: string[]
    waiting_period_hours: number
    lookalike: boolean
    crates?: string
  }
  limits: {
    max_file_bytes: number
    max_artifact_bytes: number
    fetch_timeout_ms: number
  }
  urls: { allow_http_loopback: boolean }
  quality_gates?: QualityGates
  pull_requests?: PullRequestPolicy
}

/** The gates a compatibility report must hold before a pull request merges (`policy.quality_gates`). */
export interface QualityGates {
  /** Targets that must build and pass their tests (`native`, `wasm32-unknown-unknown`, `wasm32-wasip1`, `wasm32-wasip2`). */
  required_targets?: string[]
  /** The lowest quality score (0-100) that merges. */
  min_score?: number
  /** The largest artifact, in bytes, as the matrix measured it (raw size of the largest wasm or component). */
  max_artifact_bytes?: number
  /** The highest wasm/native speed ratio (median wasm time over median native time). */
  max_speed_ratio?: number
  /** Native and a WASI target must both build and pass. */
  require_dual_compilation?: boolean
  /** A maintainer's label that waives a gate, by gate id; defaults to `wharf: waive <gate>`. */
  waiver_labels?: Partial<Record<QualityGateId, string>>
}

export type QualityGateId = 'required_targets' | 'min_score' | 'max_artifact_bytes' | 'max_speed_ratio' | 'require_dual_compilation'

/** How pull requests to the index merge in GitHub mode (`policy.pull_requests`). */
export interface PullRequestPolicy {
  /** Any of these labels stops an automatic merge (default `wharf: blocked`). */
  blocking_labels?: string[]
}

export interface RegistryFile {
  schema: 'wharf:registry/v1'
  name: string
  description?: string
  maintainers: Owner[]
  keys: PublicKeyEntry[]
  peers: Peer[]
  policy: Policy
}

/** The policy `wharf init` writes: a local registry where a free namespace can be claimed at once. */
export function defaultPolicy(): Policy {
  return {
    namespaces: {
      reserved: ['admin', 'core', 'registry', 'root', 'std', 'wasi', 'wasm', 'wharf'],
      waiting_period_hours: 0,
      lookalike: true,
      crates: 'crates',
    },
    limits: {
      max_file_bytes: 64 * 1024,
      max_artifact_bytes: 50 * 1024 * 1024,
      fetch_timeout_ms: 30_000,
    },
    urls: { allow_http_loopback: true },
    quality_gates: {},
  }
}

export function ownerLogin(owner: Owner): string | undefined {
  return 'login' in owner ? owner.login : undefined
}

/**
 * Whether `who` is one of the account `owners` (teams aside): by numeric id
 * where both sides know it, so a renamed login still matches and a login
 * someone else registered later does not; else by login, case-insensitively
 * as on GitHub.
 */
export function isOwner(owners: readonly Owner[], who: { login: string; id?: number } | string | undefined): boolean {
  if (!who) return false
  const { login, id } = typeof who === 'string' ? { login: who, id: undefined } : who
  if (!login) return false
  const wanted = login.toLowerCase()
  return owners.some((o) => {
    if (!('login' in o)) return false
    if (o.id !== undefined && id !== undefined) return o.id === id
    return o.login.toLowerCase() === wanted
  })
}

/** The `@org/team` owners among `owners`. */
export function ownerTeams(owners: readonly Owner[]): string[] {
  return owners.flatMap((o) => ('team' in o ? [o.team] : []))
}
