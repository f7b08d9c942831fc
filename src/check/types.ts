import type { Change, Repo } from '../git/index.js'
import type { IndexPath } from '../core/layout.js'
import type { NamespaceFile, RegistryFile } from '../core/types.js'

/** Stable ids of the rules a submission must pass. */
export const RULES = {
  outsideIndex: 'files/outside-index',
  appendOnly: 'files/append-only',
  fileType: 'files/type',
  fileSize: 'files/size',
  path: 'files/path',
  reports: 'files/reports',
  json: 'content/json',
  schema: 'content/schema',
  pathMismatch: 'content/path-mismatch',
  namespaceUnknown: 'namespace/unknown',
  notOwner: 'namespace/not-owner',
  claimAuthor: 'namespace/claim-author',
  reserved: 'namespace/reserved',
  lookalike: 'namespace/lookalike',
  waitingPeriod: 'namespace/waiting-period',
  namespaceChange: 'namespace/change-not-owner',
  registryChange: 'registry/not-maintainer',
  versionExists: 'record/version-exists',
  signature: 'record/signature',
  dependency: 'record/dependency',
  artifactFetch: 'artifact/fetch',
  artifactDigest: 'artifact/digest',
  artifactSize: 'artifact/size',
  artifactFormat: 'artifact/format',
  yankUnknown: 'yank/unknown-version',
} as const

export type RuleId = (typeof RULES)[keyof typeof RULES]

/** A problem in a submission: data, shown as an annotation and in the summary. */
export interface Finding {
  rule: RuleId
  file?: string
  message: string
  hint: string
}

/** A changed file under review, with what its path says it is and, once read, its content. */
export interface Subject {
  change: Change
  where: IndexPath
  /** Parsed JSON, when the file is JSON and parsed. */
  json?: unknown
  /** Set when an earlier rule already refused this file, so later rules leave it alone. */
  skip?: boolean
}

export type Fetch = typeof globalThis.fetch

/** What every rule reads: the two commits, who submits, and the registry as it stood at base. */
export interface CheckContext {
  repo: Repo
  base: string
  head: string
  author: string | undefined
  registry: RegistryFile
  subjects: Subject[]
  fetch: Fetch
  now: Date
  /** A namespace file as it stood at base (cached). */
  namespaceAtBase(ns: string): Promise<NamespaceFile | undefined>
  report(finding: Finding): void
}
