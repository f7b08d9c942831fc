/**
 * The policy half of a sync: given what was collected from a peer and this
 * registry's index at one commit, decide what the import adds. No request
 * is made here, so it runs again, cheaply, under the write lock when main
 * moved since the collection.
 *
 * - a version of a namespace this registry defines, or holds from another
 *   peer that registry.json still delegates it to, is never taken (one the
 *   maintainers moved to this peer is: namespaceRefusal);
 * - a version already here is skipped; one here under another digest, or
 *   twice in the peer's feed, is a conflict: the first stays, both signed
 *   records are the evidence;
 * - a version whose dependencies are not here (yet) waits, as does a yank
 *   notice whose version is not here;
 * - the namespace file follows the peer's (its keys), with `authority`
 *   naming the peer; the peer's cursor advances in the same commit.
 */
import type { FeedEntry } from '../api/index.js'
import { canonicalJson, stableJson } from '../core/canonical.js'
import { sha256Hex } from '../core/hash.js'
import { namespacePath, peerStatePath, recordPath, yankPath } from '../core/layout.js'
import type { SchemaName } from '../core/schemas.js'
import { timestamp } from '../core/time.js'
import type { NamespaceFile, PendingEntry, Peer, PeerState, VersionRecord } from '../core/types.js'
import { satisfies, versionKey } from '../core/versions.js'
import type { Collected, Item } from './collect.js'
import type { IndexView } from './view.js'

/** One version or yank notice of the report. */
export interface ReportEntry {
  seq: number
  type: 'publish' | 'yank'
  name: string
  version: string
}

export interface SkippedEntry extends ReportEntry {
  reason: string
  code: string
  /** Whether the next sync tries it again. */
  retry: boolean
}

/** The same name and version with another digest: the one here stays, both signed records are the evidence. */
export interface Conflict extends ReportEntry {
  /** What this registry holds (or read first in the same feed). */
  here: ConflictSide
  /** What the peer serves now. */
  theirs: ConflictSide
}

export interface ConflictSide {
  /** The sha256 of the primary artifact, and of the record file as the peer or this index holds it. */
  sha256: string
  file_sha256: string
  record: VersionRecord
}

export interface PeerReport {
  peer: string
  url: string
  /** The cursor before and after (the peer's feed seq). */
  from: number
  to: number
  /** The peer's snapshot commit the sync read. */
  snapshot: string
  added: ReportEntry[]
  skipped: SkippedEntry[]
  conflicts: Conflict[]
  /** Feed entries of namespaces not delegated to the peer. */
  ignored: number
  requests: number
  bytes: number
}

export interface PlannedFile {
  path: string
  json: object
  schema: SchemaName
  /** The bytes the file is written with (stable JSON). */
  content: string
}

export interface PlannedArtifact {
  sha256: string
  size: number
  /** The staged, verified copy. */
  file: string
}

/** What an import adds to the index, and its report: a local commit, or the files of a pull request. */
export interface SyncPlan {
  peer: string
  /** The commit of this index the plan was made against. */
  base: string
  files: PlannedFile[]
  artifacts: PlannedArtifact[]
  report: PeerReport
  /** False when there is nothing to commit: no new feed entries, nothing waiting. */
  changed: boolean
}

/** When a plan is made against a commit whose cursor for the peer differs from the collection's: collect again. */
export class StaleCollection extends Error {}

const MAX_PENDING = 100
const MAX_REASON = 200

const file = (path: string, json: object, schema: SchemaName): PlannedFile => ({ path, json, schema, content: stableJson(json) })
const reportEntry = (entry: FeedEntry): ReportEntry => ({ seq: entry.seq, type: entry.type, name: entry.name, version: entry.version })
const namespaceOf = (name: string) => name.slice(0, name.indexOf(':'))

function pendingEntry(entry: FeedEntry, reason: string): PendingEntry {
  const { seq, type, name, version, commit, time, sha256, file: path, file_sha256 } = entry
  // Only the feed's own fields: a peer's entry may carry others, which the stored cursor must not keep.
  return { seq, type, name, version, commit, time, sha256, file: path, file_sha256, reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason }
}

/**
 * Why an import from `peer` may not touch namespace `ns`, held here as
 * `local`; undefined when it may. A namespace this registry defines is never
 * taken; one whose file names another peer is taken only when `peers`
 * (index/registry.json) no longer delegate it to that one: the maintainers
 * moved it to this peer, or renamed the peer (registry.json delegates each
 * namespace to one peer, and `peer` is asked only of its own).
 */
export function namespaceRefusal(peers: readonly Peer[], peer: string, ns: string, local: NamespaceFile | undefined): string | undefined {
  if (!local || local.authority === peer) return undefined
  if (!local.authority) return `namespace "${ns}" is defined by this registry, which never takes it from a peer`
  if (peers.some((p) => p.name === local.authority && p.namespaces.includes(ns))) return `namespace "${ns}" is delegated to peer "${local.authority}" here`
  return undefined
}

export interface DecideOptions {
  view: IndexView
  /** The peers of index/registry.json at the view's commit. */
  peers: readonly Peer[]
  /** Directory of the staged artifacts, as Staging.file names them. */
  stagedFile: (sha256: string) => string
  now?: Date
}

/** Decides the import of `collected` into the index at `options.view`. */
export async function decide(collected: Collected, options: DecideOptions): Promise<SyncPlan> {
  const { view } = options
  const { peer } = collected
  const state = await view.peerState(peer.name)
  if ((state?.cursor ?? 0) !== collected.from) throw new StaleCollection(`the cursor of peer ${peer.name} moved since the collection`)

  const report: PeerReport = {
    peer: peer.name,
    url: peer.url,
    from: collected.from,
    to: collected.seq,
    snapshot: collected.snapshot.commit,
    added: [],
    skipped: [],
    conflicts: [],
    ignored: 0,
    requests: collected.requests,
    bytes: collected.bytes,
  }
  const files: PlannedFile[] = []
  const artifacts = new Map<string, PlannedArtifact>()
  const pending: PendingEntry[] = []
  /** name@versionKey -> the record this plan adds, to catch the feed naming a version twice. */
  const planned = new Map<string, { record: VersionRecord; yanked: boolean }>()
  const namespaces = new Map<string, NamespaceFile>()

  const skip = (entry: FeedEntry, reason: string, code: string, retry: boolean) => {
    report.skipped.push({ ...reportEntry(entry), reason, code, retry })
    if (retry) pending.push(pendingEntry(entry, reason))
  }

  for (const item of collected.items) {
    const { entry } = item
    if (item.kind === 'ignored') {
      report.ignored++
      continue
    }
    if (item.kind === 'skipped') {
      skip(entry, item.reason, item.code, item.retry)
      continue
    }
    const ns = namespaceOf(entry.name)
    const refusal = namespaceRefusal(options.peers, peer.name, ns, await view.namespace(ns))
    if (refusal) {
      skip(entry, refusal, 'FORBIDDEN', false)
      continue
    }
    const key = `${entry.name}@${versionKey(entry.version)}`
    if (item.kind === 'record') {
      const { record } = item
      const held = await view.held(record.name, record.version)
      const twin = planned.get(key)
      if (held || twin) {
        const here = held ? (JSON.parse((await view.blob(held.oid)).toString('utf8')) as VersionRecord) : twin!.record
        if (canonicalJson(here) === canonicalJson(record)) skip(entry, `${record.name}@${record.version} is already here`, 'VERSION_EXISTS', false)
        else report.conflicts.push({ ...reportEntry(entry), here: side(here), theirs: side(record) })
        continue
      }
      if (!item.staged) throw new StaleCollection(`${record.name}@${record.version} left the index since the collection`)
      const missing = await unmetDependency(view, record, planned)
      if (missing) {
        skip(entry, missing, 'RESOLUTION_FAILED', true)
        continue
      }
      planned.set(key, { record, yanked: false })
      namespaces.set(ns, item.namespace)
      files.push(file(recordPath(record.name, record.version), record, 'record'))
      for (const a of record.artifacts) artifacts.set(a.sha256, { sha256: a.sha256, size: a.size, file: options.stagedFile(a.sha256) })
      report.added.push(reportEntry(entry))
      continue
    }
    // A yank notice: only for a version here (or imported now), and only once.
    const { notice } = item
    const held = await view.held(notice.name, notice.version)
    const twin = planned.get(key)
    const version = held?.version ?? twin?.record.version
    if (!version) {
      skip(entry, `${notice.name}@${notice.version} is not here (yet), so its yank notice waits`, 'NOT_FOUND', true)
      continue
    }
    if (held?.yanked || twin?.yanked) {
      skip(entry, `${notice.name}@${version} is already yanked here`, 'VERSION_EXISTS', false)
      continue
    }
    if (version !== notice.version) {
      skip(entry, `the yank notice names ${notice.version}, but this registry holds ${version}`, 'CONFLICT', false)
      continue
    }
    if (twin) twin.yanked = true
    else planned.set(key, { record: JSON.parse((await view.blob(held!.oid)).toString('utf8')) as VersionRecord, yanked: true })
    namespaces.set(ns, item.namespace)
    files.push(file(yankPath(notice.name, notice.version), notice, 'yank'))
    report.added.push(reportEntry(entry))
  }

  // The namespace file follows the peer's keys, which verified what this plan adds.
  for (const [ns, theirs] of [...namespaces].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const next: NamespaceFile = { ...theirs, authority: peer.name }
    const current = await view.namespace(ns)
    if (!current || stableJson(current) !== stableJson(next)) files.unshift(file(namespacePath(ns), next, 'namespace'))
  }

  const kept = pending.slice(-MAX_PENDING)
  for (const dropped of pending.slice(0, -MAX_PENDING)) {
    const skipped = report.skipped.find((s) => s.seq === dropped.seq)
    if (skipped) skipped.retry = false
  }
  const nextState: PeerState = {
    schema: 'wharf:peer/v1',
    peer: peer.name,
    url: peer.url,
    cursor: collected.seq,
    namespaces: [...peer.namespaces].sort(),
    snapshot: collected.snapshot,
    ...(kept.length ? { pending: kept } : {}),
    synced_at: timestamp(options.now ?? new Date()),
  }
  const changed =
    files.length > 0 ||
    !state ||
    state.cursor !== nextState.cursor ||
    stableJson(state.pending ?? []) !== stableJson(nextState.pending ?? []) ||
    stableJson(state.namespaces) !== stableJson(nextState.namespaces) ||
    state.url !== nextState.url
  if (changed) files.push(file(peerStatePath(peer.name), nextState, 'peer'))
  return { peer: peer.name, base: view.commit, files, artifacts: [...artifacts.values()], report, changed }
}

function side(record: VersionRecord): ConflictSide {
  const primary = record.artifacts.find((a) => a.name.endsWith('.crate')) ?? record.artifacts[0]!
  return { sha256: primary.sha256, file_sha256: sha256Hex(stableJson(record)), record }
}

/** Why a dependency of `record` is not met here or by this plan, or undefined. */
async function unmetDependency(view: IndexView, record: VersionRecord, planned: Map<string, { record: VersionRecord }>): Promise<string | undefined> {
  for (const dep of record.dependencies) {
    const versions = [...(await view.versions(dep.name)).map((v) => v.version), ...[...planned.values()].filter((p) => p.record.name === dep.name).map((p) => p.record.version)]
    if (!versions.some((v) => satisfies(v, dep.req))) {
      return `it depends on ${dep.name}@${dep.req}, which this registry does not hold${versions.length ? ` (it has ${versions.join(', ')})` : ''}; it is tried again at the next sync`
    }
  }
  return undefined
}
