/** What a sync needs to know of this registry's index at one commit, each directory read once. */
import { namespacePath, packageDir, peerStatePath } from '../core/layout.js'
import type { NamespaceFile, PeerState } from '../core/types.js'
import { versionKey } from '../core/versions.js'
import { listDir, readBlob, readJsonAt, type Repo } from '../git/index.js'

export interface HeldVersion {
  version: string
  /** Blob id of the record. */
  oid: string
  /** Whether a yank notice sits beside it. */
  yanked: boolean
  yankOid?: string
}

export interface IndexView {
  repo: Repo
  commit: string
  namespace(ns: string): Promise<NamespaceFile | undefined>
  peerState(peer: string): Promise<PeerState | undefined>
  /** The versions of package `id`, with their record blobs. */
  versions(id: string): Promise<HeldVersion[]>
  /** The version held under the same version key (build metadata aside), if any. */
  held(id: string, version: string): Promise<HeldVersion | undefined>
  blob(oid: string): Promise<Buffer>
}

export function indexView(repo: Repo, commit: string): IndexView {
  const namespaces = new Map<string, Promise<NamespaceFile | undefined>>()
  const packages = new Map<string, Promise<HeldVersion[]>>()
  const versions = (id: string) => {
    let p = packages.get(id)
    if (!p) {
      p = listDir(repo, commit, packageDir(id)).then((entries) => {
        const files = (entries ?? []).filter((e) => e.type === 'blob')
        const yanks = new Map(files.filter((e) => e.name.endsWith('.yank.json')).map((e) => [e.name.slice(0, -'.yank.json'.length), e.oid]))
        return files
          .filter((e) => e.name.endsWith('.json') && !e.name.endsWith('.yank.json'))
          .map((e) => {
            const version = e.name.slice(0, -'.json'.length)
            const yankOid = yanks.get(version)
            return { version, oid: e.oid, yanked: yankOid !== undefined, ...(yankOid ? { yankOid } : {}) }
          })
      })
      packages.set(id, p)
    }
    return p
  }
  return {
    repo,
    commit,
    namespace(ns) {
      let p = namespaces.get(ns)
      if (!p) namespaces.set(ns, (p = readJsonAt<NamespaceFile>(repo, commit, namespacePath(ns))))
      return p
    },
    peerState: (peer) => readJsonAt<PeerState>(repo, commit, peerStatePath(peer)),
    versions,
    async held(id, version) {
      const key = versionKey(version)
      return (await versions(id)).find((v) => versionKey(v.version) === key)
    },
    async blob(oid) {
      return Buffer.from(await readBlob(repo, oid))
    },
  }
}
