/**
 * `wharf sync`: import the delegated namespaces of each peer into a local
 * index, one commit per peer on main, through the write pipeline a pull
 * request runs (journal, store, proposal, `wharf check`, merge), so a crash
 * leaves main at the old tip or the new one and the store without orphans.
 * `planSync` is the same import as files and a report, for a caller that
 * commits another way (the GitHub Action opens a pull request).
 */
import fs from 'node:fs'
import path from 'node:path'
import { openCache, type FetchLike } from '../client/index.js'
import { readRegistry } from '../check/index.js'
import { stableJson } from '../core/canonical.js'
import { WharfError, codeOf, isWharfError } from '../core/errors.js'
import { ownerLogin, isOwner, type Peer, type RegistryFile } from '../core/types.js'
import { MAIN, resolveCommit, type Repo } from '../git/index.js'
import { createJournal, createPipeline, type Pipeline } from '../publish/index.js'
import { writeFileAtomic } from '../store/index.js'
import { collect } from './collect.js'
import { decide, StaleCollection, type Conflict, type PeerReport, type ReportEntry, type SkippedEntry, type SyncPlan } from './plan.js'
import { openStaging } from './staging.js'
import { indexView } from './view.js'

/** Where a local index keeps what its syncs need between runs (ignored by git, like the rest of `.wharf/`). */
export const SYNC_DIR = '.wharf/sync'
const JOURNAL_DIR = '.wharf/journal'

const syncPath = (repo: Repo, ...parts: string[]) => path.join(repo.dir, SYNC_DIR, ...parts)

export interface SyncOptions {
  repo: Repo
  /** Sync this peer only (default: every peer in index/registry.json). */
  peer?: string
  /** The maintainer the import is committed as (default: the first maintainer with a login). */
  author?: string
  /** Import the rest of a peer's news when some of it conflicts with what is here (the first stays). */
  allowConflicts?: boolean
  /** The pipeline to commit through (the server's, which rebuilds its API); default: one with the index's own journal. */
  pipeline?: Pipeline
  fetch?: FetchLike
  now?: Date
  note?: (message: string) => void
}

export interface PeerOutcome extends PeerReport {
  /** The commit the import made on main, when it made one. */
  commit?: string
  /** Where the evidence of each conflict was written (both signed records). */
  evidence: string[]
}

export interface PeerFailure {
  peer: string
  code: string
  error: string
  hint?: string
}

export interface SyncResult {
  added: (ReportEntry & { peer: string })[]
  skipped: (SkippedEntry & { peer: string })[]
  conflicts: (Conflict & { peer: string; evidence: string })[]
  ignored: number
  peers: PeerOutcome[]
  failed: PeerFailure[]
}

/** The peers to sync: all, or the one named. */
function choosePeers(registry: RegistryFile, name: string | undefined): Peer[] {
  if (name === undefined) {
    if (registry.peers.length === 0) throw new WharfError('USAGE', 'this registry has no peers', { hint: 'add one first: wharf peer add NAME URL --namespace NS' })
    return registry.peers
  }
  const peer = registry.peers.find((p) => p.name === name)
  if (!peer) {
    throw new WharfError('NOT_FOUND', `"${name}" is not a peer of this registry`, { hint: registry.peers.length ? `its peers: ${registry.peers.map((p) => p.name).join(', ')}` : 'add it first: wharf peer add NAME URL --namespace NS' })
  }
  return [peer]
}

/** The maintainer an import is committed as. */
function importAuthor(registry: RegistryFile, wanted: string | undefined): string {
  const author = wanted ?? registry.maintainers.map(ownerLogin).find(Boolean)
  if (!author) throw new WharfError('NOT_AN_INDEX', 'index/registry.json names no maintainer login to commit an import as', { hint: 'add a maintainer with a login' })
  if (!isOwner(registry.maintainers, author)) {
    throw new WharfError('FORBIDDEN', `${author} is not a maintainer of this registry; an import is a maintainer's act`, { hint: 'pass --author with a maintainer named in index/registry.json' })
  }
  return author
}

export interface PlanSyncOptions {
  repo: Repo
  /** The peer's name in index/registry.json. */
  peer: string
  /** The commit to plan against (default: main). */
  base?: string
  fetch?: FetchLike
  now?: Date
  note?: (message: string) => void
}

/** A plan whose staged artifacts live until `dispose()`. */
export interface StagedPlan extends SyncPlan {
  dispose(): Promise<void>
}

/**
 * The import from one peer as files and a report, without committing: the
 * files to add or change (`content` is their bytes), the artifacts to store
 * (verified copies in a staging directory, until `dispose()`), and the
 * report with any conflicts. Check `changed` first: false means no news.
 */
export async function planSync(options: PlanSyncOptions): Promise<StagedPlan> {
  const { repo } = options
  const base = await resolveCommit(repo, options.base ?? MAIN)
  const registry = await readRegistry(repo, base)
  const [peer] = choosePeers(registry, options.peer)
  const staging = await openStaging(syncPath(repo, 'staging'))
  try {
    const view = indexView(repo, base)
    const collected = await collect({ view, registry, peer: peer!, cache: openCache(syncPath(repo, 'cache')), staging, ...pass(options) })
    const plan = await decide(collected, { view, peers: registry.peers, stagedFile: staging.file, ...(options.now ? { now: options.now } : {}) })
    return { ...plan, dispose: () => staging.dispose() }
  } catch (e) {
    await staging.dispose()
    throw e
  }
}

const pass = (o: { fetch?: FetchLike; now?: Date; note?: (m: string) => void }) => ({ ...(o.fetch ? { fetch: o.fetch } : {}), ...(o.now ? { now: o.now } : {}), ...(o.note ? { note: o.note } : {}) })

/** A pipeline over the index's own journal, after finishing or rolling back what a crash left in it. */
export async function localPipeline(repo: Repo): Promise<Pipeline> {
  const journal = path.join(repo.dir, JOURNAL_DIR)
  await fs.promises.mkdir(journal, { recursive: true })
  const pipeline = createPipeline(repo, createJournal(journal), { log: () => undefined, afterMerge: async () => undefined })
  await pipeline.recover()
  return pipeline
}

/**
 * Syncs the peers of a local index. A peer that fails (down, a snapshot
 * that does not verify) is reported and changes nothing; with `peer` set,
 * its failure is thrown instead.
 */
export async function syncIndex(options: SyncOptions): Promise<SyncResult> {
  const { repo } = options
  const registry = await readRegistry(repo, MAIN)
  const peers = choosePeers(registry, options.peer)
  const author = importAuthor(registry, options.author)
  const pipeline = options.pipeline ?? (await localPipeline(repo))
  const cache = openCache(syncPath(repo, 'cache'))
  const result: SyncResult = { added: [], skipped: [], conflicts: [], ignored: 0, peers: [], failed: [] }
  for (const peer of peers) {
    let outcome: PeerOutcome
    try {
      outcome = await syncPeer(options, pipeline, peer, author, cache)
    } catch (e) {
      if (options.peer !== undefined) throw e
      // Whatever one peer's answers made of the sync, the next peer is still synced.
      result.failed.push({ peer: peer.name, code: codeOf(e), error: isWharfError(e) ? e.message : `syncing ${peer.name} failed: ${(e as Error).message ?? String(e)}`, ...(isWharfError(e) && e.hint ? { hint: e.hint } : {}) })
      continue
    }
    result.peers.push(outcome)
    result.added.push(...outcome.added.map((a) => ({ ...a, peer: peer.name })))
    result.skipped.push(...outcome.skipped.map((s) => ({ ...s, peer: peer.name })))
    result.conflicts.push(...outcome.conflicts.map((c, i) => ({ ...c, peer: peer.name, evidence: outcome.evidence[i]! })))
    result.ignored += outcome.ignored
  }
  return result
}

async function syncPeer(options: SyncOptions, pipeline: Pipeline, peer: Peer, author: string, cache: ReturnType<typeof openCache>): Promise<PeerOutcome> {
  const { repo } = options
  const staging = await openStaging(syncPath(repo, 'staging'))
  try {
    for (let attempt = 0; ; attempt++) {
      const base0 = await resolveCommit(repo, MAIN)
      const view0 = indexView(repo, base0)
      const collected = await collect({ view: view0, registry: await readRegistry(repo, base0), peer, cache, staging, ...pass(options) })
      let plan: SyncPlan | undefined
      try {
        const written = await pipeline.submit(async (base) => {
          const { peers } = await readRegistry(repo, base)
          const current = peers.find((p) => p.name === peer.name)
          if (!current || stableJson(current) !== stableJson(peer)) throw new StaleCollection(`peer ${peer.name} changed in index/registry.json during the sync`)
          plan = await decide(collected, { view: base === base0 ? view0 : indexView(repo, base), peers, stagedFile: staging.file, ...(options.now ? { now: options.now } : {}) })
          if (!plan.changed || (plan.report.conflicts.length > 0 && !options.allowConflicts)) return undefined
          const { added, from, to } = plan.report
          return {
            label: `sync ${peer.name}`,
            branch: `sync/${peer.name}`,
            author,
            message: `Sync ${added.length} change(s) from peer ${peer.name} (feed ${from}..${to})\n\nPeer: ${peer.name} ${peer.url}\nSnapshot: ${plan.report.snapshot}\n`,
            files: plan.files.map(({ path: file, json, schema }) => ({ path: file, json, schema })),
            artifacts: plan.artifacts.map((a) => ({ sha256: a.sha256, read: () => staging.read(a.sha256) })),
          }
        })
        // Nothing committed (a conflict held the import back): nothing was added, whatever the plan would have added.
        const report = written ? plan!.report : { ...plan!.report, added: [] }
        const evidence = await writeEvidence(repo, report, options.now ?? new Date())
        return { ...report, ...(written ? { commit: written.commit } : {}), evidence }
      } catch (e) {
        if (e instanceof StaleCollection && attempt < 2) continue
        if (e instanceof StaleCollection) throw new WharfError('CONFLICT', `main kept changing during the sync of peer ${peer.name}: ${e.message}`, { hint: 'run wharf sync again' })
        throw e
      }
    }
  } finally {
    await staging.dispose()
  }
}

/** Writes each conflict's two signed records to `.wharf/sync/conflicts/`, where they outlive the run. */
async function writeEvidence(repo: Repo, report: PeerReport, now: Date): Promise<string[]> {
  const files: string[] = []
  for (const conflict of report.conflicts) {
    const name = `${report.peer}-${conflict.seq}-${conflict.name.replace(/[:/]/g, '-')}@${conflict.version}.json`
    const file = syncPath(repo, 'conflicts', name)
    await writeFileAtomic(file, `${JSON.stringify({ ...conflict, peer: report.peer, url: report.url, snapshot: report.snapshot, found_at: now.toISOString() }, null, 2)}\n`)
    files.push(file)
  }
  return files
}
