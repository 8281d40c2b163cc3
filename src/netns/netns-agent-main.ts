/**
 * The namespace agent: a Node process started inside one network namespace (by nsenter) that
 * listens, dials and binds UDP sockets there on kpe's behalf and passes each socket's file
 * descriptor back over its IPC channel. It never reads a byte of the connections it hands over,
 * and it exits when the channel closes, so a kpe that dies leaves no agent behind.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { Socket, createServer, isIP, type AddressInfo, type Server } from 'node:net'
import { errnoOf, parseAgentRequest, type AddressPort, type AgentEvent, type AgentRequest } from './agent-protocol.js'

const listeners = new Map<number, Server>()

function log(line: string): void {
  process.stderr.write(`netns-agent[${process.pid}]: ${line}\n`)
}

/**
 * Sends one event; a socket goes with it (a TCP socket is closed here once sent; `sent` runs
 * after a successful send) or is closed if the channel is gone.
 */
function send(ev: AgentEvent, socket?: Socket | UdpSocket, sent?: () => void): void {
  const drop = (): void => void (socket instanceof Socket ? socket.destroy() : socket?.close())
  if (!process.connected || process.send === undefined) return drop()
  try {
    process.send(ev, socket, {}, (err: Error | null) => {
      if (err) {
        log(`cannot send ${ev.op}: ${err.message}`)
        drop()
      } else sent?.()
    })
  } catch (e) {
    log(`cannot send ${ev.op}: ${String(e)}`)
    drop()
  }
}

function endpoints(s: Socket): { local: AddressPort; remote: AddressPort } | undefined {
  const { localAddress, localPort, remoteAddress, remotePort } = s
  if (localAddress === undefined || localPort === undefined || remoteAddress === undefined || remotePort === undefined) return undefined
  return { local: { address: localAddress, port: localPort }, remote: { address: remoteAddress, port: remotePort } }
}

function listen(req: Extract<AgentRequest, { op: 'listen' }>): void {
  if (listeners.has(req.id)) return send({ op: 'failed', id: req.id, code: 'EEXIST', message: `listener id ${req.id} is in use` })
  // pauseOnConnect: nothing is read here, so every byte the client sent is still in the kernel's
  // buffer when kpe receives the descriptor.
  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true })
  let isListening = false
  server.on('connection', (s) => {
    const ends = endpoints(s)
    // A connection reset before it was accepted has no peer any more: nothing to hand over.
    if (ends === undefined) return void s.destroy()
    send({ op: 'connection', id: req.id, ...ends }, s)
  })
  server.on('error', (e) => {
    if (isListening) return log(`listener ${req.at.address}:${req.at.port}: ${e.message}`)
    send({ op: 'failed', id: req.id, code: errnoOf(e), message: `listen ${req.at.address}:${req.at.port}: ${e.message}` })
  })
  server.listen({ host: req.at.address, port: req.at.port, exclusive: true }, () => {
    isListening = true
    listeners.set(req.id, server)
    const a = server.address() as AddressInfo
    send({ op: 'listening', id: req.id, local: { address: a.address, port: a.port } })
  })
}

function unlisten(req: Extract<AgentRequest, { op: 'unlisten' }>): void {
  const server = listeners.get(req.id)
  listeners.delete(req.id)
  // close() stops listening at once; its callback would also wait for every connection already
  // handed to kpe (Node asks kpe's side for their count), which are kpe's to end, not the listener's.
  server?.close()
  send({ op: 'unlistened', id: req.id })
}

function bindUdp(req: Extract<AgentRequest, { op: 'bindUdp' }>): void {
  const s = createSocket({ type: isIP(req.at.address) === 6 ? 'udp6' : 'udp4' })
  let isBound = false
  s.on('error', (e) => {
    if (isBound) return log(`udp ${req.at.address}:${req.at.port}: ${e.message}`)
    s.close()
    send({ op: 'failed', id: req.id, code: errnoOf(e), message: `bind udp ${req.at.address}:${req.at.port}: ${e.message}` })
  })
  // Node reads a bound UDP socket at once and cannot stop; until the copy here is closed, a
  // datagram may land here and is dropped. The port is new to everyone but kpe until then, and
  // kpe waits for udpReleased before it uses the socket.
  s.on('message', () => {})
  s.bind({ address: req.at.address, port: req.at.port, exclusive: true }, () => {
    isBound = true
    const a = s.address()
    // Unlike a TCP socket, a UDP socket stays open here after it was sent: close this copy.
    send({ op: 'udpBound', id: req.id, local: { address: a.address, port: a.port } }, s, () => s.close(() => send({ op: 'udpReleased', id: req.id })))
  })
}

function dial(req: Extract<AgentRequest, { op: 'dial' }>): void {
  const s = new Socket({ allowHalfOpen: true })
  // Paused before connecting, so the socket is handed over before anything is read from it.
  s.pause()
  let isSettled = false
  const settle = (ev: AgentEvent, handed?: Socket): void => {
    if (isSettled) return
    isSettled = true
    clearTimeout(timer)
    s.removeAllListeners('error')
    s.on('error', () => {})
    if (handed) send(ev, handed)
    else {
      s.destroy()
      send(ev)
    }
  }
  const what = `connect ${req.to.address}:${req.to.port}`
  const timer = setTimeout(() => settle({ op: 'failed', id: req.id, code: 'ETIMEDOUT', message: `${what}: no answer within ${req.timeoutMs} ms` }), req.timeoutMs)
  s.on('error', (e) => settle({ op: 'failed', id: req.id, code: errnoOf(e), message: `${what}: ${e.message}` }))
  s.on('connect', () => {
    const ends = endpoints(s)
    if (ends === undefined) settle({ op: 'failed', id: req.id, code: 'ECONNRESET', message: `${what}: reset right after connecting` })
    else settle({ op: 'dialed', id: req.id, ...ends }, s)
  })
  s.connect({
    host: req.to.address,
    port: req.to.port,
    ...(req.localAddress === undefined ? {} : { localAddress: req.localAddress }),
    ...(req.localPort === undefined ? {} : { localPort: req.localPort }),
  })
}

function onMessage(m: unknown): void {
  const req = parseAgentRequest(m)
  if (!req.ok) {
    const rawId = typeof m === 'object' && m !== null ? (m as Record<string, unknown>)['id'] : undefined
    log(`ignored a malformed request: ${req.error.message}`)
    if (typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId >= 0) send({ op: 'failed', id: rawId, code: 'EINVAL', message: req.error.message })
    return
  }
  const r = req.value
  if (r.op === 'listen') listen(r)
  else if (r.op === 'unlisten') unlisten(r)
  else if (r.op === 'bindUdp') bindUdp(r)
  else dial(r)
}

function main(): void {
  if (process.send === undefined) {
    log('needs an IPC channel: it is started by kpe (startNetnsAgent), not by hand')
    process.exit(2)
  }
  process.on('message', (m) => {
    try {
      onMessage(m)
    } catch (e) {
      log(`request failed: ${String(e)}`)
    }
  })
  // kpe stopped or died: nothing is left to hand connections to.
  process.on('disconnect', () => process.exit(0))
  process.on('uncaughtException', (e) => log(`uncaught: ${e.stack ?? String(e)}`))
  send({ op: 'ready', pid: process.pid })
}

main()
