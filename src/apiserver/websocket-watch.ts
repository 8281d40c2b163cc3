/**
 * Watch over WebSocket (`ws`): each event is one text message, as client-go's websocket watch
 * expects. Strips subprotocol headers `ws` would reject (kube subprotocols contain '/').
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { abandonGraceMs, type WatchSink } from './watch.js'

export function createWebSocketServer(): WebSocketServer {
  return new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols][0] ?? false })
}

export function acceptWebSocket(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
  const proto = req.headers['sec-websocket-protocol']
  if (proto !== undefined && proto.split(',').some((p) => !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(p.trim()))) {
    delete req.headers['sec-websocket-protocol']
  }
  return new Promise((resolve) => wss.handleUpgrade(req, socket, head, resolve))
}

export function webSocketSink(ws: WebSocket): WatchSink {
  return {
    send: (ev) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(ev)) },
    end: () => { ws.close(1000) },
    abandon: (ev) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(ev))
      ws.close(1000)
      const drop = setTimeout(() => ws.terminate(), abandonGraceMs)
      ws.once('close', () => clearTimeout(drop))
    },
    onClose: (cb) => { ws.on('close', cb) },
    backlog: () => ws.bufferedAmount,
  }
}
