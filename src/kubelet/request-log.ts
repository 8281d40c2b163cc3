/**
 * The one-line formats in which the emulated servers log what they answer (docs/pod-logs.md).
 * The address is the peer as the pod saw it (after any masquerade), so a pod's log shows what
 * the rules did to the source. Pure: the pod servers write these lines to the container's log.
 */
import type { PodBehaviour } from './pod-behaviour.js'
import type { SeenSource } from './seen-source-table.js'

export function peerText(s: SeenSource): string {
  return s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`
}

/** Quoted as Go's %q would for printable text: backslash and quote escaped, control bytes hex. */
function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`
}

/** `http PEER "METHOD URL HTTP/V" STATUS BYTES "USER-AGENT"` */
export function httpRequestLine(r: { peer: SeenSource; method: string; url: string; httpVersion: string; status: number; bytes: number; userAgent: string | undefined }): string {
  return `http ${peerText(r.peer)} ${quote(`${r.method} ${r.url} HTTP/${r.httpVersion}`)} ${r.status} ${r.bytes} ${quote(r.userAgent ?? '-')}\n`
}

/** `tcp PEER echo` for a raw TCP connection to the default echo. */
export function tcpConnectionLine(peer: SeenSource): string {
  return `tcp ${peerText(peer)} echo\n`
}

/** `udp PEER BYTES "FIRST 64 CHARACTERS"` */
export function udpDatagramLine(peer: SeenSource, data: string): string {
  return `udp ${peerText(peer)} ${Buffer.byteLength(data)} ${quote(data.slice(0, 64))}\n`
}

/** The first line of an emulated container: what serves, where, and that it is kpe's stand-in. */
export function servingLine(b: PodBehaviour, port: number, proto: string): string {
  return `kpe: emulated ${b.kind} serving ${port}/${proto}\n`
}
