/**
 * Opens the proxy side of a connection to a pod (loopback only, checked before dialling),
 * records the source address the pod should see in the SeenSourceTable, and pipes bytes both
 * ways with backpressure and half-close. Established pipes do not look at the rules again.
 */
import { connect, type Socket } from 'node:net'
import { InternalError } from '../../errors.js'
import { isLoopback, parseIP } from '../../net/index.js'
import type { LoopbackAddress, SeenSource, SeenSourceTable } from '../../kubelet/index.js'

/** The safety gate every outgoing socket passes: loopback or nothing. */
export function assertLoopbackTarget(address: string): void {
  const ip = parseIP(address)
  if (ip === undefined || !isLoopback(ip)) throw new InternalError(`refusing to dial ${address}: the userspace proxy only connects to loopback addresses`)
}

export function connectToPod(local: LoopbackAddress, seen: SeenSource, table: SeenSourceTable, timeoutMs: number): Promise<Socket> {
  assertLoopbackTarget(local.address)
  return new Promise((resolve, reject) => {
    const s = connect({ host: local.address, port: local.port, allowHalfOpen: true })
    const timer = setTimeout(() => {
      s.destroy()
      reject(new Error(`connect to ${local.address}:${local.port} timed out`))
    }, timeoutMs)
    s.once('connect', () => {
      clearTimeout(timer)
      const la = s.localAddress ?? ''
      const lp = s.localPort ?? 0
      table.record(la, lp, seen)
      s.once('close', () => table.forget(la, lp))
      resolve(s)
    })
    s.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
}

/**
 * a <-> b: pipe() gives backpressure; each side's end is forwarded as a FIN (both sockets must
 * allow half-open), an error or the idle timeout tears both down.
 */
export function pipeBoth(a: Socket, b: Socket, idleTimeoutMs: number): void {
  const teardown = (): void => {
    a.destroy()
    b.destroy()
  }
  a.on('error', teardown)
  b.on('error', teardown)
  // A side that closed without ending (reset, error) takes the other with it; a clean end was
  // already forwarded by pipe() and the other side finishes on its own.
  a.on('close', () => {
    if (!b.writableEnded) b.destroy()
  })
  b.on('close', () => {
    if (!a.writableEnded) a.destroy()
  })
  for (const s of [a, b]) {
    s.setTimeout(idleTimeoutMs)
    s.on('timeout', teardown)
  }
  a.pipe(b)
  b.pipe(a)
}

/** What REJECT looks like to a TCP client whose connection was already accepted: a reset. */
export function resetConnection(s: Socket): void {
  if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy()
  else s.destroy()
}

/** DROP: never answer; let the client time out, bounded by holdMs. */
export function holdConnection(s: Socket, holdMs: number): void {
  s.pause()
  s.on('error', () => {})
  const timer = setTimeout(() => s.destroy(), holdMs)
  s.once('close', () => clearTimeout(timer))
}
