/**
 * Federation (DESIGN §8): a namespace delegated to a peer has that peer as
 * its one authority. Its versions, yank notices and namespace file (the
 * peer's keys) enter this index only by import: a submission by a
 * maintainer (`wharf sync` acts for the operator) that also advances that
 * peer's cursor, `index/peers/<peer>.json`. Nobody publishes into it here,
 * its owners at the peer included: a login here is not the same person. And
 * `peers` in registry.json keep one authority per namespace.
 */
import { namespacePath } from '../../core/layout.js'
import { isOwner, type NamespaceFile, type Peer, type RegistryFile } from '../../core/types.js'
import { RULES, type CheckContext, type Subject } from '../types.js'

/** The peer `ns` is delegated to in `registry`, if any. */
export function delegatedTo(registry: RegistryFile, ns: string): Peer | undefined {
  return registry.peers.find((p) => p.namespaces.includes(ns))
}

/** Whether the submission imports from `peer`: a maintainer's, and it advances the peer's cursor. */
function importsFrom(ctx: CheckContext, peer: string): boolean {
  return isOwner(ctx.registry.maintainers, ctx.author) && ctx.subjects.some((s) => s.where.kind === 'peer' && s.where.peer === peer && s.json !== undefined)
}

/** The namespace file as the submission leaves it: its own copy when it changes it, else the one at base. */
async function namespaceAtHead(ctx: CheckContext, ns: string): Promise<NamespaceFile | undefined> {
  const changed = ctx.subjects.find((s) => s.where.kind === 'namespace' && s.where.namespace === ns)
  if (changed) return changed.change.status === 'deleted' ? undefined : (changed.json as NamespaceFile | undefined)
  return ctx.namespaceAtBase(ns)
}

const SYNC_HINT = (peer: string) => `versions of a delegated namespace come from its peer only: run \`wharf sync --peer ${peer}\`, which imports them with their signatures`

/**
 * Runs after the content rules (every added file is parsed) and before the
 * namespace claims and records: judges peer cursors, the namespace files
 * of delegated namespaces, and registry.json's peers. Each file judged here
 * is marked so the owner rules leave it alone.
 */
export async function checkFederation(ctx: CheckContext): Promise<void> {
  for (const subject of ctx.subjects) {
    if (subject.skip || subject.change.status === 'deleted' || subject.json === undefined) continue
    if (subject.where.kind === 'peer') checkPeerState(ctx, subject, subject.where.peer)
    else if (subject.where.kind === 'namespace') await checkDelegatedNamespace(ctx, subject, subject.where.namespace)
    else if (subject.where.kind === 'registry') await checkPeers(ctx, subject)
  }
}

function checkPeerState(ctx: CheckContext, subject: Subject, peer: string): void {
  subject.skip = true
  const file = subject.change.path
  if (!isOwner(ctx.registry.maintainers, ctx.author)) {
    ctx.report({ rule: RULES.federationImport, file, message: `${ctx.author ?? 'an unknown author'} changed ${file}, which only the registry's maintainers change (by \`wharf sync\`)`, hint: SYNC_HINT(peer) })
  } else if (!ctx.registry.peers.some((p) => p.name === peer)) {
    ctx.report({ rule: RULES.federationImport, file, message: `${file} is the sync state of "${peer}", which is not a peer in index/registry.json`, hint: 'add the peer first: wharf peer add NAME URL --namespace NS' })
  }
}

async function checkDelegatedNamespace(ctx: CheckContext, subject: Subject, ns: string): Promise<void> {
  const file = subject.change.path
  const next = subject.json as NamespaceFile
  const before = await ctx.namespaceAtBase(ns)
  const peer = delegatedTo(ctx.registry, ns)
  if (!peer && !before?.authority && !next.authority) return
  subject.skip = true
  const maintainer = isOwner(ctx.registry.maintainers, ctx.author)
  if (peer && next.authority === peer.name && importsFrom(ctx, peer.name)) return
  // A maintainer takes a namespace back once no peer holds it: it becomes this registry's own.
  if (!peer && !next.authority && maintainer) return
  ctx.report({
    rule: RULES.federationDelegated,
    file,
    message: peer
      ? `namespace "${ns}" is delegated to peer "${peer.name}"; its namespace file comes only from that peer`
      : `${file} names "${next.authority ?? before?.authority}" as its authority, but no peer in index/registry.json holds namespace "${ns}"`,
    hint: peer ? SYNC_HINT(peer.name) : 'delegate the namespace with `wharf peer add`, or have a maintainer drop `authority` to make it this registry\'s own',
  })
}

async function checkPeers(ctx: CheckContext, subject: Subject): Promise<void> {
  const file = subject.change.path
  const next = subject.json as RegistryFile
  const holder = new Map<string, string>()
  const names = new Set<string>()
  for (const peer of next.peers) {
    if (names.has(peer.name)) ctx.report({ rule: RULES.federationPeers, file, message: `two peers are named "${peer.name}"`, hint: 'give each peer its own name' })
    names.add(peer.name)
    for (const ns of peer.namespaces) {
      const other = holder.get(ns)
      if (other) {
        ctx.report({ rule: RULES.federationPeers, file, message: `namespace "${ns}" is delegated to both "${other}" and "${peer.name}"`, hint: 'a namespace has exactly one authoritative registry: delegate it to one peer' })
        continue
      }
      holder.set(ns, peer.name)
      const local = await ctx.namespaceAtBase(ns)
      if (local && !local.authority) {
        ctx.report({
          rule: RULES.federationPeers,
          file,
          message: `namespace "${ns}" is defined by this registry (${namespacePath(ns)}), so it cannot be delegated to peer "${peer.name}"`,
          hint: 'a namespace has exactly one authoritative registry; leave it out of the peer\'s namespaces',
        })
      }
    }
  }
}

/**
 * The namespace file whose keys verify a record or yank notice of `ns` when
 * `ns` is delegated: the peer's, as the submission leaves it. Undefined
 * when `ns` is this registry's own (the owner rules apply); null when it is
 * delegated and the submission is no import from its peer (reported).
 */
export async function importedNamespace(ctx: CheckContext, subject: Subject, ns: string): Promise<NamespaceFile | null | undefined> {
  const peer = delegatedTo(ctx.registry, ns)
  const head = await namespaceAtHead(ctx, ns)
  if (!peer && !head?.authority) return undefined
  const file = subject.change.path
  const refuse = (message: string, hint: string) => {
    ctx.report({ rule: RULES.federationDelegated, file, message, hint })
    return null
  }
  if (!peer) return refuse(`namespace "${ns}" names "${head!.authority}" as its authority, but no peer in index/registry.json holds it`, 'delegate the namespace with `wharf peer add`, or take it back as a maintainer first')
  if (!importsFrom(ctx, peer.name)) return refuse(`namespace "${ns}" is delegated to peer "${peer.name}": nothing is published into it here`, SYNC_HINT(peer.name))
  if (!head || head.authority !== peer.name) return refuse(`${namespacePath(ns)} does not name peer "${peer.name}" as the authority of namespace "${ns}"`, SYNC_HINT(peer.name))
  subject.imported = true
  return head
}
