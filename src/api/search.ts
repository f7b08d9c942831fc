/**
 * How the static search index is cut into shards. A shard holds the
 * packages whose id's sha256 starts with its name, a hex prefix; there are
 * sixteen one-digit shards until one outgrows SEARCH_SHARD_MAX packages,
 * which is then split in sixteen by the next digit, and so on. So a shard
 * stays small at any registry size, and an incremental build rewrites one
 * small shard, not a sixteenth of the registry.
 *
 * The cut is a function of the packages and of when each first appeared, so
 * a full build and a run of incremental builds agree: a region is split
 * exactly when it holds more than SEARCH_SHARD_MAX packages (packages only
 * come, they never go without a full build), and a shard's commit is the
 * last commit that changed one of its packages, or the commit that split
 * its region into being, whichever is later.
 */
import { sha256Hex } from '../core/hash.js'

/** Packages a shard holds before it is split by the next hex digit. */
export const SEARCH_SHARD_MAX = 512

export interface ShardItem {
  id: string
  /** sha256 of the id, hex. */
  hash: string
  /** Position (in the commits a build knows) of the commit that first published the package; -1 for before them. */
  born: number
  /** Position of the last commit that changed the package; -1 for before them. */
  commit: number
}

export function shardItem(id: string, born: number, commit: number): ShardItem {
  // Hashed when first asked: an incremental build plans the shards a change touched, which split only now and then.
  let hash: string | undefined
  return {
    id,
    get hash() {
      return (hash ??= sha256Hex(id))
    },
    born,
    commit,
  }
}

/** The `n`-th smallest of `values` (1-based). */
function nth(values: number[], n: number): number {
  return [...values].sort((a, b) => a - b)[n - 1]!
}

/**
 * The shards under `prefix` ('' for all) for `items`, each with its items
 * and the position of its commit. `splitAt` is when the region of `prefix`
 * came into being by a split (-1: always there).
 */
export function planShards(prefix: string, items: ShardItem[], splitAt = -1, max = SEARCH_SHARD_MAX, out = new Map<string, { items: ShardItem[]; commit: number }>()): Map<string, { items: ShardItem[]; commit: number }> {
  if (prefix.length > 0 && items.length <= max) {
    out.set(prefix, { items, commit: items.reduce((c, i) => Math.max(c, i.commit), splitAt) })
    return out
  }
  // The region outgrew its shard when its (max + 1)-th package came.
  const at = prefix.length === 0 ? -1 : nth(items.map((i) => i.born), max + 1)
  const children = new Map<string, ShardItem[]>()
  for (const item of items) {
    const digit = item.hash[prefix.length]!
    const list = children.get(digit)
    if (list) list.push(item)
    else children.set(digit, [item])
  }
  for (const [digit, list] of children) planShards(prefix + digit, list, Math.max(splitAt, at), max, out)
  return out
}

/** The shard a package hash belongs to, given the shards there are: a listed one, or the new one its region would get. */
export function locateShard(hash: string, listed: ReadonlySet<string>): string {
  for (let length = 1; length <= hash.length; length++) {
    const prefix = hash.slice(0, length)
    if (listed.has(prefix)) return prefix
    let deeper = false
    for (const shard of listed) {
      if (shard.length > length && shard.startsWith(prefix)) {
        deeper = true
        break
      }
    }
    if (!deeper) return prefix
  }
  return hash
}
