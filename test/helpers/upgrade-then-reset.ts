/** A client that asks for an upgrade, reads the first bytes of the answer, then resets (SO_LINGER 0). */
import { connect } from 'node:net'

/** Sends an upgrade request, waits for the first bytes of the answer, then resets the connection. */
export function upgradeThenReset(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`)
    })
    s.once('data', (d) => {
      s.resetAndDestroy()
      resolve(d.toString('latin1').split('\r\n')[0] ?? '')
    })
    s.once('error', reject)
  })
}
