/**
 * SOCKS5 wire format (RFC 1928, user/password auth RFC 1929) as pure parsers and encoders.
 * Each parser takes the bytes received so far and says: need more, parsed (with the rest), or
 * malformed. No sockets.
 */

export type Parse<T> =
  | { readonly kind: 'more' }
  | { readonly kind: 'ok'; readonly value: T; readonly rest: Buffer }
  | { readonly kind: 'error'; readonly reason: string }

const more = { kind: 'more' } as const
const bad = (reason: string) => ({ kind: 'error', reason }) as const

export const socksMethod = { noAuth: 0x00, userPass: 0x02, noneAcceptable: 0xff } as const
export const socksCommand = { connect: 0x01, bind: 0x02, udpAssociate: 0x03 } as const
export const socksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const

export function parseGreeting(b: Buffer): Parse<{ methods: readonly number[] }> {
  if (b.length < 2) return more
  if (b[0] !== 5) return bad(`not SOCKS5 (version ${b[0]})`)
  const n = b[1]!
  if (b.length < 2 + n) return more
  return { kind: 'ok', value: { methods: [...b.subarray(2, 2 + n)] }, rest: b.subarray(2 + n) }
}

export function parseUserPass(b: Buffer): Parse<{ user: string; password: string }> {
  if (b.length < 2) return more
  if (b[0] !== 1) return bad(`bad user/password auth version ${b[0]}`)
  const ulen = b[1]!
  if (b.length < 3 + ulen) return more
  const plen = b[2 + ulen]!
  if (b.length < 3 + ulen + plen) return more
  return {
    kind: 'ok',
    value: { user: b.subarray(2, 2 + ulen).toString('utf8'), password: b.subarray(3 + ulen, 3 + ulen + plen).toString('utf8') },
    rest: b.subarray(3 + ulen + plen),
  }
}

export interface SocksAddress {
  readonly host: string
  readonly port: number
  readonly type: 'ipv4' | 'domain' | 'ipv6'
}

/** ATYP, DST.ADDR, DST.PORT starting at `at`; returns the address and the offset after it. */
function parseAddress(b: Buffer, at: number): { kind: 'more' } | { kind: 'error'; reason: string } | { kind: 'ok'; addr: SocksAddress; end: number } {
  if (b.length < at + 1) return more
  const atyp = b[at]!
  if (atyp === 1) {
    if (b.length < at + 7) return more
    return { kind: 'ok', addr: { host: [...b.subarray(at + 1, at + 5)].join('.'), port: b.readUInt16BE(at + 5), type: 'ipv4' }, end: at + 7 }
  }
  if (atyp === 3) {
    if (b.length < at + 2) return more
    const len = b[at + 1]!
    if (b.length < at + 2 + len + 2) return more
    return { kind: 'ok', addr: { host: b.subarray(at + 2, at + 2 + len).toString('latin1'), port: b.readUInt16BE(at + 2 + len), type: 'domain' }, end: at + 4 + len }
  }
  if (atyp === 4) {
    if (b.length < at + 19) return more
    const parts: string[] = []
    for (let i = 0; i < 8; i++) parts.push(b.readUInt16BE(at + 1 + i * 2).toString(16))
    return { kind: 'ok', addr: { host: parts.join(':'), port: b.readUInt16BE(at + 17), type: 'ipv6' }, end: at + 19 }
  }
  return bad(`address type ${atyp} not supported`)
}

export function parseRequest(b: Buffer): Parse<{ command: number; address: SocksAddress }> {
  if (b.length < 4) return more
  if (b[0] !== 5) return bad(`not SOCKS5 (version ${b[0]})`)
  const a = parseAddress(b, 3)
  if (a.kind !== 'ok') return a
  return { kind: 'ok', value: { command: b[1]!, address: a.addr }, rest: b.subarray(a.end) }
}

function encodeAddress(host: string, port: number): Buffer {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host)
  let head: Buffer
  if (v4) head = Buffer.from([1, ...v4.slice(1).map(Number)])
  else if (host.includes(':')) {
    const full = expandIPv6(host)
    head = Buffer.alloc(17)
    head[0] = 4
    full.forEach((g, i) => head.writeUInt16BE(g, 1 + i * 2))
  } else {
    const name = Buffer.from(host, 'latin1')
    head = Buffer.concat([Buffer.from([3, name.length]), name])
  }
  const p = Buffer.alloc(2)
  p.writeUInt16BE(port)
  return Buffer.concat([head, p])
}

function expandIPv6(host: string): number[] {
  const [l, r] = host.split('::') as [string, string | undefined]
  const left = l ? l.split(':').map((h) => parseInt(h, 16)) : []
  const right = r ? r.split(':').map((h) => parseInt(h, 16)) : []
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

export function encodeReply(code: number, bindHost = '0.0.0.0', bindPort = 0): Buffer {
  return Buffer.concat([Buffer.from([5, code, 0]), encodeAddress(bindHost, bindPort)])
}

/** A UDP ASSOCIATE datagram: RSV RSV FRAG ATYP DST.ADDR DST.PORT DATA. Fragments are not supported. */
export function parseUdpDatagram(b: Buffer): { kind: 'ok'; address: SocksAddress; data: Buffer } | { kind: 'error'; reason: string } {
  if (b.length < 4) return bad('short datagram')
  if (b[2] !== 0) return bad('fragmented datagrams are not supported')
  const a = parseAddress(b, 3)
  if (a.kind === 'more') return bad('short datagram')
  if (a.kind === 'error') return a
  return { kind: 'ok', address: a.addr, data: b.subarray(a.end) }
}

export function encodeUdpDatagram(host: string, port: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0]), encodeAddress(host, port), data])
}
