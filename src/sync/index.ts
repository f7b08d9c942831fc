/**
 * Federation (DESIGN §8): peers and `wharf sync`. A registry delegates
 * namespaces to peers and mirrors their versions, verified, from the peers'
 * static output alone. The client library (src/client) fetches and checks;
 * this room adds the policy (which namespaces, conflicts, waiting entries)
 * and the commit.
 *
 * - `addPeer`: the proposal that pins a peer in index/registry.json
 * - `syncIndex`: import from the peers of a local index, one commit per peer
 * - `planSync`: the same import as files, artifacts and a report, uncommitted
 */
export { addPeer, type AddPeerOptions, type AddPeerResult } from './peer.js'
export type { Conflict, ConflictSide, PeerReport, PlannedArtifact, PlannedFile, ReportEntry, SkippedEntry, SyncPlan } from './plan.js'
export { localPipeline, planSync, syncIndex, SYNC_DIR, type PeerFailure, type PeerOutcome, type PlanSyncOptions, type StagedPlan, type SyncOptions, type SyncResult } from './sync.js'
