/** A client that asks for an upgrade, reads the first bytes of the answer, then resets (SO_LINGER 0). */
import { connect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'

/**
 * Sends an upgrade request, waits for the first bytes of the answer, then resets the TCP
 * connection; with `tls`, over TLS (the reset still goes to the TCP socket underneath).
 */
export function upgradeThenReset(port: number, path: string, headers: Record<string, string> = {}, opts: { tls?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = connect(port, '127.0.0.1')
    const s = opts.tls ? tlsConnect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' }) : raw
    s.once(opts.tls ? 'secureConnect' : 'connect', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`)
    })
    s.once('data', (d: Buffer) => {
      raw.resetAndDestroy()
      if (s !== raw) s.destroy()
      resolve(d.toString('latin1').split('\r\n')[0] ?? '')
    })
    s.once('error', reject)
  })
}
