import { exitCodeFor, isWharfCode, WharfError } from '../core/errors.js'
import { openRepo } from '../git/index.js'
import { syncIndex, type SyncResult } from '../sync/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, optionalString, printJson, type Command, type Io } from './command.js'

export const sync: Command = {
  help: `wharf sync [--index DIR] [--peer NAME] [--author LOGIN] [--allow-conflicts] [--json]

For each peer in index/registry.json (or the one named): verifies its signed
snapshot against the pinned key, reads its change feed from the cursor stored
for it (index/peers/NAME.json), verifies each new record of a delegated
namespace against the peer's namespace keys, fetches and re-hashes its
artifacts into this index's store, and commits the import to main: one commit
per peer, by a maintainer, through \`wharf check\`. Records keep their
signatures; \`wharf audit\` verifies them. Nothing new: no commit.

Versions of namespaces not delegated to the peer are ignored (counted), a
namespace this registry defines is never taken, and a record or artifact that
fails verification is skipped, reported and tried again at the next sync. The
same name and version with another digest is a conflict: the version here
stays, both signed records are written to .wharf/sync/conflicts/, nothing is
imported from that peer and the exit code is 1, unless --allow-conflicts. A
peer that is down or serves no valid snapshot changes nothing, and the exit
code says so (the other peers are still synced).

  --index DIR        the index repo (default: $WHARF_INDEX or the current directory)
  --peer NAME        sync this peer only
  --author LOGIN     the maintainer the import is committed as (default: the first)
  --allow-conflicts  import the rest when some versions conflict (exit 0)
  --json             print {added, skipped, conflicts, ignored, peers, failed}

Exit (the first failing peer decides): 0 done; 1 a conflict, a peer that is
down (no answer, or 5xx after retries) or whose snapshot does not verify, or
an --author who is no maintainer; 2 usage (no such peer, no peers at all);
3 a peer that redirects without end, or a failure of wharf itself.`,
  options: { peer: { type: 'string' }, author: { type: 'string' }, 'allow-conflicts': { type: 'boolean' }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const result = await syncIndex({
      repo: openRepo(indexDir(values, io)),
      peer: optionalString(values, 'peer'),
      author: optionalString(values, 'author'),
      allowConflicts: values['allow-conflicts'] === true,
    })
    if (values.json) printJson(io, result)
    else printText(io, result, values['allow-conflicts'] === true)
    const failure = result.failed[0]
    if (failure) return exitCodeFor(new WharfError(isWharfCode(failure.code) ? failure.code : 'INTERNAL', failure.error))
    return result.conflicts.length > 0 && values['allow-conflicts'] !== true ? 1 : 0
  },
}

function printText(io: Io, result: SyncResult, allowConflicts: boolean): void {
  for (const peer of result.peers) {
    const what = peer.commit ? `committed ${peer.commit.slice(0, 12)}` : peer.conflicts.length && !peer.commit ? 'nothing committed' : 'nothing new'
    io.stdout(
      `peer ${peer.peer} (${peer.url}): feed ${peer.from} -> ${peer.to}, ${peer.added.length} added, ${peer.skipped.length} skipped, ${peer.conflicts.length} conflict(s), ${peer.ignored} ignored; ${what} (${peer.requests} requests, ${peer.bytes} bytes)\n`,
    )
    for (const a of peer.added) io.stdout(`  + ${a.type === 'yank' ? 'yank ' : ''}${a.name}@${a.version}\n`)
    for (const s of peer.skipped) io.stdout(`  - ${s.type === 'yank' ? 'yank ' : ''}${s.name}@${s.version}: ${s.reason}${s.retry ? ' (tried again at the next sync)' : ''}\n`)
    peer.conflicts.forEach((c, i) => {
      io.stdout(`  ! conflict ${c.name}@${c.version}: this registry holds sha256 ${c.here.sha256}, the peer serves ${c.theirs.sha256}; evidence in ${peer.evidence[i]}\n`)
    })
  }
  for (const f of result.failed) io.stderr(`wharf: ${f.error}${f.hint ? ` (${f.hint})` : ''}\n`)
  if (result.conflicts.length > 0 && !allowConflicts) io.stderr(`wharf: ${result.conflicts.length} conflict(s): the versions here stay; review the evidence, then rerun with --allow-conflicts to import the rest\n`)
}
