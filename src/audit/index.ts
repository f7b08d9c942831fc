/**
 * `wharf audit`: replay the first-parent history of main and prove that no
 * published file was ever changed or removed, that only owners and
 * maintainers made the changes reserved to them, that every record and
 * yank notice verifies with a key its namespace held just before, that
 * every tree is well-formed, and that main only ever moved forward from
 * itself.
 *
 * Who made a change is read from the Wharf-Submitter trailer wharf writes
 * into each commit it puts on main (core/submitter.ts), never from the
 * commit's author name, which anyone can set. A commit without one is a
 * commit wharf did not write: it may only add files.
 *
 * main's history is anchored by the tips wharf logged when it moved main
 * (.wharf/main-tips) and by any commit the caller expects (`--expect`, e.g.
 * the commit a previously published snapshot.json names): each must still
 * be on main's first-parent history, in the order logged. A rewritten
 * history (a forged chain merged under main's tree) loses them.
 */
import { PAYLOAD_TYPES, verifyDocument } from '../core/dsse.js'
import { parseStrictJson } from '../core/json.js'
import { classifyPath, namespacePath, peerStatePath } from '../core/layout.js'
import { readSubmitterTrailer, type RecordedSubmitter } from '../core/submitter.js'
import { isOwner, ownerTeams, type NamespaceFile, type Owner, type RegistryFile } from '../core/types.js'
import { readRegistry } from '../check/index.js'
import { diffCommits, firstParentHistory, malformedTrees, MAIN, ObjectReader, readBlob, readJsonAt, readMainLog, resolveCommit, type Repo } from '../git/index.js'

export interface Violation {
  commit: string
  file: string
  message: string
}

export interface AuditResult {
  ok: boolean
  commits: number
  records: number
  /** Anchors checked: logged tips and expected commits. */
  anchors: number
  violations: Violation[]
}

export interface AuditOptions {
  ref?: string
  /** Commits main's first-parent history must hold (e.g. the commit a published snapshot names). */
  expect?: string[]
}

const HISTORY = '(history)'

function owns(owners: readonly Owner[], who: RecordedSubmitter | undefined): boolean {
  if (!who) return false
  return isOwner(owners, who) || ownerTeams(owners).some((team) => who.teams.includes(team))
}

export async function auditIndex(repo: Repo, options: AuditOptions = {}): Promise<AuditResult> {
  const ref = options.ref ?? MAIN
  const history = await firstParentHistory(repo, ref)
  const violations: Violation[] = []
  const anchors = await checkAnchors(repo, ref, history.map((c) => c.oid), options.expect ?? [], violations)
  const reader = new ObjectReader(repo.dir)
  let records = 0
  try {
    for (let i = 0; i < history.length; i++) {
      const commit = history[i]!
      const violate = (file: string, message: string) => violations.push({ commit: commit.oid, file, message })
      const parent = history[i - 1]
      for (const { path, problem } of malformedTrees(reader, commit.tree, parent?.tree)) {
        violate(path || '.', `the tree ${path ? `of ${path}/` : 'at the root'} is malformed: ${problem.message}`)
      }
      if (!parent) continue
      const submitter = readSubmitterTrailer(commit.message)
      const who = submitter ? submitter.login : 'a commit without a Wharf-Submitter trailer'
      let registry: RegistryFile
      try {
        registry = await readRegistry(repo, parent.oid)
      } catch (e) {
        violate('index/registry.json', (e as Error).message)
        continue
      }
      const maintainer = owns(registry.maintainers, submitter)
      const namespaceAt = (ns: string) => readJsonAt<NamespaceFile>(repo, parent.oid, namespacePath(ns))
      const namespaceAfter = (ns: string) => readJsonAt<NamespaceFile>(repo, commit.oid, namespacePath(ns))
      const changes = await diffCommits(repo, parent.oid, commit.oid)
      // An import from a peer is a maintainer's commit that advances that peer's cursor (wharf sync).
      const importFrom = (peer: string | undefined) =>
        maintainer && peer !== undefined && registry.peers.some((p) => p.name === peer) && changes.some((c) => c.path === peerStatePath(peer) && c.status !== 'deleted')
      for (const change of changes) {
        const where = classifyPath(change.path)
        // The registry's own CI commits the compatibility reports it validated as a bot, without a trailer: such a
        // commit may add a report (as it may add any file), never change or remove one.
        if (where.kind === 'report' && !submitter && change.status === 'added') continue
        if (where.kind === 'outside' || where.kind === 'report') {
          if (!maintainer) violate(change.path, `${who} changed ${change.path}, which only a maintainer may change`)
          continue
        }
        if (where.kind === 'peer') {
          if (!importFrom(where.peer)) violate(change.path, `${who} changed ${change.path}, which only a maintainer's sync of a listed peer changes`)
          continue
        }
        if (where.kind === 'namespace' && change.status !== 'deleted') {
          const before = await namespaceAt(where.namespace)
          const after = await namespaceAfter(where.namespace)
          const delegated = registry.peers.find((p) => p.namespaces.includes(where.namespace))
          if (after?.authority || before?.authority || delegated) {
            const imported = delegated !== undefined && after?.authority === delegated.name && importFrom(delegated.name)
            const takenBack = !delegated && !after?.authority && maintainer
            if (!imported && !takenBack) violate(change.path, `${who} changed the file of namespace "${where.namespace}", which is delegated${delegated ? ` to peer "${delegated.name}"` : ''}; only an import from its peer changes it`)
            continue
          }
        }
        if (change.status !== 'added') {
          const allowed =
            change.status === 'modified' &&
            ((where.kind === 'registry' && maintainer) || (where.kind === 'namespace' && owns((await namespaceAt(where.namespace))?.owners ?? [], submitter)))
          if (!allowed) violate(change.path, `${who} ${change.status === 'deleted' ? 'deleted' : 'modified'} ${change.path}; published files are immutable`)
          continue
        }
        if (where.kind !== 'record' && where.kind !== 'yank') continue
        records += where.kind === 'record' ? 1 : 0
        const ns = where.name.slice(0, where.name.indexOf(':'))
        const delegated = registry.peers.find((p) => p.namespaces.includes(ns))
        const after = await namespaceAfter(ns)
        let namespace: NamespaceFile | undefined
        if (delegated || after?.authority) {
          // An imported record verifies with the peer's keys, imported in the same commit.
          if (!delegated || after?.authority !== delegated.name || !importFrom(delegated.name)) {
            violate(change.path, `${where.name} was added to namespace "${ns}", which is delegated${delegated ? ` to peer "${delegated.name}"` : ''}, by something other than an import from its peer`)
            continue
          }
          namespace = after
        } else namespace = await namespaceAt(ns)
        if (!namespace) {
          violate(change.path, `${where.name} was added while its namespace did not exist`)
          continue
        }
        const parsed = parseStrictJson(Buffer.from(await readBlob(repo, change.oid!)).toString('utf8'))
        if (!parsed.ok) {
          violate(change.path, parsed.kind === 'syntax' ? parsed.message : `not one meaning to every reader: ${parsed.message}`)
          continue
        }
        const verdict = verifyDocument(parsed.value as object, where.kind === 'record' ? PAYLOAD_TYPES.record : PAYLOAD_TYPES.yank, namespace.keys)
        if (!verdict.ok) violate(change.path, `signature does not verify with the keys namespace "${namespace.namespace}" held: ${verdict.reason}`)
      }
    }
  } finally {
    reader.close()
  }
  return { ok: violations.length === 0, commits: history.length, records, anchors, violations }
}

/**
 * The anchors: every tip in the log of main's tips, and every expected
 * commit, must be on the first-parent history, logged tips in the order
 * logged. Returns how many were checked.
 */
async function checkAnchors(repo: Repo, ref: string, chain: string[], expected: string[], violations: Violation[]): Promise<number> {
  const position = new Map(chain.map((oid, i) => [oid, i]))
  const tip = chain[chain.length - 1] ?? ''
  let anchors = 0
  for (const rev of expected) {
    anchors++
    let oid: string
    try {
      oid = await resolveCommit(repo, rev)
    } catch (e) {
      violations.push({ commit: tip, file: HISTORY, message: `the expected commit ${rev} is not in this repo: ${(e as Error).message}` })
      continue
    }
    if (!position.has(oid)) violations.push({ commit: tip, file: HISTORY, message: `the expected commit ${oid.slice(0, 12)} is not on the first-parent history of ${ref}: the history was rewritten` })
  }
  if (ref !== MAIN) return anchors
  let last = -1
  for (const logged of await readMainLog(repo.dir)) {
    anchors++
    const at = position.get(logged.oid)
    if (at === undefined) {
      violations.push({ commit: tip, file: HISTORY, message: `main was at ${logged.oid.slice(0, 12)} (${logged.at}), which is no longer on its first-parent history: the history was rewritten` })
    } else if (at < last) {
      violations.push({ commit: tip, file: HISTORY, message: `main was at ${logged.oid.slice(0, 12)} (${logged.at}) after a later commit of its history: main moved backwards` })
    } else {
      last = at
    }
  }
  return anchors
}
