/**
 * `wharf audit`: replay the first-parent history of main and prove that no
 * published file was ever changed or removed, that only owners and
 * maintainers made the changes reserved to them, and that every record and
 * yank notice verifies with a key its namespace held just before.
 */
import { PAYLOAD_TYPES, verifyDocument } from '../core/dsse.js'
import { classifyPath, namespacePath } from '../core/layout.js'
import { isOwner, type NamespaceFile, type RegistryFile } from '../core/types.js'
import { readRegistry } from '../check/index.js'
import { diffCommits, firstParentHistory, MAIN, readBlob, readJsonAt, type Repo } from '../git/index.js'

export interface Violation {
  commit: string
  file: string
  message: string
}

export interface AuditResult {
  ok: boolean
  commits: number
  records: number
  violations: Violation[]
}

export async function auditIndex(repo: Repo, ref = MAIN): Promise<AuditResult> {
  const history = await firstParentHistory(repo, ref)
  const violations: Violation[] = []
  let records = 0
  for (let i = 1; i < history.length; i++) {
    const parent = history[i - 1]!.oid
    const commit = history[i]!
    const author = commit.author.name
    const violate = (file: string, message: string) => violations.push({ commit: commit.oid, file, message })
    let registry: RegistryFile
    try {
      registry = await readRegistry(repo, parent)
    } catch (e) {
      violate('index/registry.json', (e as Error).message)
      continue
    }
    const maintainer = isOwner(registry.maintainers, author)
    const namespaceAt = (ns: string) => readJsonAt<NamespaceFile>(repo, parent, namespacePath(ns))
    for (const change of await diffCommits(repo, parent, commit.oid)) {
      const where = classifyPath(change.path)
      if (where.kind === 'outside' || where.kind === 'report') {
        if (!maintainer) violate(change.path, `${author} changed ${change.path}, which only a maintainer may change`)
        continue
      }
      if (change.status !== 'added') {
        const allowed =
          change.status === 'modified' &&
          ((where.kind === 'registry' && maintainer) || (where.kind === 'namespace' && isOwner((await namespaceAt(where.namespace))?.owners ?? [], author)))
        if (!allowed) violate(change.path, `${author} ${change.status === 'deleted' ? 'deleted' : 'modified'} ${change.path}; published files are immutable`)
        continue
      }
      if (where.kind !== 'record' && where.kind !== 'yank') continue
      records += where.kind === 'record' ? 1 : 0
      const namespace = await namespaceAt(where.name.slice(0, where.name.indexOf(':')))
      if (!namespace) {
        violate(change.path, `${where.name} was added while its namespace did not exist`)
        continue
      }
      let document: object
      try {
        document = JSON.parse(Buffer.from(await readBlob(repo, change.oid!)).toString('utf8'))
      } catch (e) {
        violate(change.path, `not valid JSON: ${(e as Error).message}`)
        continue
      }
      const verdict = verifyDocument(document, where.kind === 'record' ? PAYLOAD_TYPES.record : PAYLOAD_TYPES.yank, namespace.keys)
      if (!verdict.ok) violate(change.path, `signature does not verify with the keys namespace "${namespace.namespace}" held: ${verdict.reason}`)
    }
  }
  return { ok: violations.length === 0, commits: history.length, records, violations }
}
