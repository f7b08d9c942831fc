/** Loopback ports for servers a test or benchmark starts. */
import net from 'node:net'

/** A port that was free on 127.0.0.1 a moment ago (bind it soon; another process may take it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
