/**
 * Token buckets: one shared by every client and one per client, both refilled
 * continuously. A request takes one token from each or is refused with the
 * seconds until it would be allowed. The server keeps two such limiters: one
 * for writes that carry a valid token, keyed by the token's holder, and a
 * smaller one for everything else, keyed by address, so a flood of
 * unauthenticated requests never spends what token holders are given.
 */

interface Bucket {
  tokens: number
  at: number
}

export interface RateLimiter {
  /** 0 when allowed (and counted), else whole seconds to wait. */
  take(client: string, now?: number): number
  /** How many clients it remembers (bounded by maxClients). */
  size(): number
}

/** Clients remembered at most; past it the least recently seen are forgotten (a forgotten client starts full). */
const MAX_CLIENTS = 10_000

export function createRateLimiter(options: { globalPerMin: number; clientPerMin: number; maxClients?: number }): RateLimiter {
  const maxClients = options.maxClients ?? MAX_CLIENTS
  const global: Bucket = { tokens: options.globalPerMin, at: Date.now() }
  const clients = new Map<string, Bucket>()
  const refill = (bucket: Bucket, perMin: number, now: number) => {
    // A clock that steps back refills nothing, rather than taking tokens away.
    bucket.tokens = Math.min(perMin, bucket.tokens + (Math.max(0, now - bucket.at) * perMin) / 60_000)
    bucket.at = Math.max(bucket.at, now)
  }
  const wait = (bucket: Bucket, perMin: number) => Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / perMin))
  return {
    take(client, now = Date.now()) {
      let own = clients.get(client)
      if (own) {
        // Most recently seen last, so the oldest is first in line to be forgotten.
        clients.delete(client)
        clients.set(client, own)
      } else {
        if (clients.size >= maxClients) {
          // Forget every client idle for a minute (its bucket is full again anyway), then, if still full, the least recent.
          for (const [key, b] of clients) if (b.at < now - 60_000) clients.delete(key)
          for (const key of clients.keys()) {
            if (clients.size < maxClients) break
            clients.delete(key)
          }
        }
        clients.set(client, (own = { tokens: options.clientPerMin, at: now }))
      }
      refill(global, options.globalPerMin, now)
      refill(own, options.clientPerMin, now)
      if (own.tokens < 1) return wait(own, options.clientPerMin)
      if (global.tokens < 1) return wait(global, options.globalPerMin)
      own.tokens -= 1
      global.tokens -= 1
      return 0
    },
    size: () => clients.size,
  }
}
