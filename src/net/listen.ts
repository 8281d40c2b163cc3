/** Starts a TCP server on a (loopback) host and resolves with the port it got; rejects on a bind error. */
import type { Server } from 'node:net'

export function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as { port: number }).port)
    })
  })
}
