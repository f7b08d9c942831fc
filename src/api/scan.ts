/**
 * What a run of commits did, in the terms the documents care about: which
 * commit last changed each document, which records and yank notices were
 * added (the change feed), which packages and namespaces appeared. Commits
 * are named by their position in the run, so a million of them cost a
 * number each.
 */
import { classifyPath } from '../core/layout.js'
import type { Change } from '../git/index.js'
import { reportTarget } from './model.js'

export interface RawEvent {
  type: 'publish' | 'yank'
  id: string
  version: string
  path: string
  /** Position of the commit in the run. */
  commit: number
}

/** The files of a package live under `index/packages/<ns>/<top>/`: a group is `<ns>/<top>`, the unit a full build hands out. */
export function groupOf(id: string): string {
  const colon = id.indexOf(':')
  const slash = id.indexOf('/', colon)
  return `${id.slice(0, colon)}/${id.slice(colon + 1, slash < 0 ? id.length : slash)}`
}

export class Scan {
  /**
   * Document keys of packages (`p:<id>`, `v:<id>@<version>`), by group, to
   * the last commit that changed them.
   */
  readonly byGroup = new Map<string, Map<string, number>>()
  /** The other document keys (`n:<ns>`, `packages`, `namespaces`) to the last commit that changed them. */
  readonly touched = new Map<string, number>()
  readonly events: RawEvent[] = []
  /** The commit that first added a version record of each package. */
  readonly born = new Map<string, number>()
  readonly newPackages = new Set<string>()
  /** Packages with any change, for an incremental build. */
  readonly affected = new Set<string>()
  readonly namespaces = new Set<string>()
  /** Namespace files added minus namespace files removed. */
  namespaceDelta = 0
  /** Published files that were changed or removed: an incremental build cannot number those. */
  readonly rewrites: string[] = []
  private readonly evented = new Set<string>()

  /**
   * @param isNewPackage whether a package had no version before the run
   * @param trackAffected keep the set of changed packages (an incremental build reads them; a full build reads all)
   */
  constructor(
    private readonly isNewPackage: (id: string) => boolean,
    private readonly trackAffected = true,
  ) {}

  private touchPackage(id: string, key: string, commit: number): void {
    const group = groupOf(id)
    let keys = this.byGroup.get(group)
    if (!keys) this.byGroup.set(group, (keys = new Map()))
    keys.set(key, commit)
    if (this.trackAffected) this.affected.add(id)
  }

  /** The last commit that changed a package document (`p:<id>` or `v:<id>@<version>`). */
  packageCommit(id: string, key: string): number | undefined {
    return this.byGroup.get(groupOf(id))?.get(key)
  }

  add(commit: number, changes: Change[]): void {
    for (const change of changes) {
      const where = classifyPath(change.path)
      if (where.kind === 'record' || where.kind === 'yank') {
        const { name: id, version } = where
        if (change.status === 'added' && !this.evented.has(change.path)) {
          this.evented.add(change.path)
          this.events.push({ type: where.kind === 'record' ? 'publish' : 'yank', id, version, path: change.path, commit })
          if (where.kind === 'record' && !this.born.has(id)) this.born.set(id, commit)
          if (where.kind === 'record' && !this.newPackages.has(id) && this.isNewPackage(id)) {
            this.newPackages.add(id)
            const ns = id.slice(0, id.indexOf(':'))
            this.touched.set('packages', commit)
            this.touched.set(`n:${ns}`, commit)
            this.namespaces.add(ns)
          }
        } else if (change.status !== 'added') this.rewrites.push(change.path)
        this.touchPackage(id, `p:${id}`, commit)
        this.touchPackage(id, `v:${id}@${version}`, commit)
      } else if (where.kind === 'report') {
        const target = reportTarget(change.path)
        if (target) this.touchPackage(target.id, `v:${target.id}@${target.version}`, commit)
      } else if (where.kind === 'namespace') {
        this.touched.set(`n:${where.namespace}`, commit)
        this.namespaces.add(where.namespace)
        if (change.status !== 'modified') {
          this.touched.set('namespaces', commit)
          this.namespaceDelta += change.status === 'added' ? 1 : -1
        }
      }
    }
  }
}
