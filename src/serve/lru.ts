/**
 * A map bounded by entries and by bytes, forgetting the least recently used
 * first. Every cache the server keeps goes through one, so no request
 * pattern (20,000 distinct missing paths, say) can grow memory without end.
 */

export interface Lru<K, V> {
  get(key: K): V | undefined
  /** Remembers `value`, weighing `bytes`; something heavier than the whole budget is not kept. */
  set(key: K, value: V, bytes: number): void
  has(key: K): boolean
  readonly size: number
  /** The bytes of everything held, as weighed by `set`. */
  readonly bytes: number
}

export function createLru<K, V>(limits: { maxEntries: number; maxBytes: number }): Lru<K, V> {
  const entries = new Map<K, { value: V; bytes: number }>()
  let bytes = 0
  const drop = (key: K) => {
    const old = entries.get(key)
    if (!old) return
    entries.delete(key)
    bytes -= old.bytes
  }
  return {
    get(key) {
      const hit = entries.get(key)
      if (!hit) return undefined
      // Most recently used last: Map keeps insertion order, so the first key is the one to forget.
      entries.delete(key)
      entries.set(key, hit)
      return hit.value
    },
    set(key, value, weight) {
      drop(key)
      if (weight > limits.maxBytes) return
      entries.set(key, { value, bytes: weight })
      bytes += weight
      for (const oldest of entries.keys()) {
        if (entries.size <= limits.maxEntries && bytes <= limits.maxBytes) break
        drop(oldest)
      }
    },
    has: (key) => entries.has(key),
    get size() {
      return entries.size
    },
    get bytes() {
      return bytes
    },
  }
}
