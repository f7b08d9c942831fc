import type { Change, Repo } from '../git/index.js'
import type { IndexPath } from '../core/layout.js'
import type { Submitter } from '../core/submitter.js'
import type { NamespaceFile, Owner, RegistryFile } from '../core/types.js'

/** Stable ids of the rules a submission must pass. */
export const RULES = {
  malformedTree: 'files/malformed-tree',
  conflict: 'files/conflict',
  outsideIndex: 'files/outside-index',
  appendOnly: 'files/append-only',
  fileType: 'files/type',
  fileSize: 'files/size',
  path: 'files/path',
  reports: 'files/reports',
  json: 'content/json',
  duplicateKey: 'content/duplicate-key',
  reservedKey: 'content/reserved-key',
  unicode: 'content/unicode',
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
  crateName: 'record/crate-name',
  crateTaken: 'record/crate-taken',
  artifactFetch: 'artifact/fetch',
  artifactDigest: 'artifact/digest',
  artifactSize: 'artifact/size',
  artifactFormat: 'artifact/format',
  yankUnknown: 'yank/unknown-version',
  federationDelegated: 'federation/delegated',
  federationImport: 'federation/import',
  federationPeers: 'federation/peers',
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
  /** Set when an earlier rule already refused this file (or judged it as an import), so later rules leave it alone. */
  skip?: boolean
  /** Set when the record's signature verified with a key its namespace held at base: only then are its artifacts fetched. */
  verified?: boolean
  /** A record imported from the peer its namespace is delegated to: its artifacts are in this index's store. */
  imported?: boolean
}

export type Fetch = typeof globalThis.fetch

/** Whether `login` is a member of `team` (`@org/team`), as GitHub's API says; undefined when the credentials at hand may not read the team. */
export type TeamResolver = (team: string, login: string) => Promise<boolean | undefined>

/** What every rule reads: the two commits, who submits, and the registry as it stood at base. */
export interface CheckContext {
  repo: Repo
  base: string
  head: string
  author: Submitter
  registry: RegistryFile
  subjects: Subject[]
  /** Injected for tests and for bytes fetched beforehand; by default check's own guarded fetch. */
  fetch: Fetch | undefined
  now: Date
  /** When the submission was made: a namespace claim's waiting period starts here. */
  submittedAt(): Promise<Date>
  /** Whether the author is one of `owners`: by account, or through a team the resolver confirms. */
  owns(owners: readonly Owner[]): Promise<boolean>
  /** How to become one of `owners`, for a hint, naming teams that could not be confirmed. */
  ownersHint(owners: readonly Owner[]): string
  /** A namespace file as it stood at base (cached). */
  namespaceAtBase(ns: string): Promise<NamespaceFile | undefined>
  report(finding: Finding): void
}
