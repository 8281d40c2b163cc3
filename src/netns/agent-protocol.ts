/**
 * The messages kpe and a namespace agent exchange over the agent's IPC channel, as typed values,
 * and the one place each side checks what it receives. Pure: a message that fails a check becomes
 * a ProtocolError naming the field, never an exception that could end either process.
 */
import { isIP } from 'node:net'

export interface AddressPort {
  readonly address: string
  readonly port: number
}

/** kpe -> agent. `id` correlates the answer; a listener keeps its request's id for its connections. */
export type AgentRequest =
  | { readonly op: 'listen'; readonly id: number; readonly at: AddressPort }
  | { readonly op: 'unlisten'; readonly id: number }
  /** A UDP socket bound inside the namespace (port 0: any free port), handed to kpe. */
  | { readonly op: 'bindUdp'; readonly id: number; readonly at: AddressPort }
  | {
      readonly op: 'dial'
      readonly id: number
      readonly to: AddressPort
      readonly localAddress?: string
      readonly localPort?: number
      readonly timeoutMs: number
    }

/**
 * agent -> kpe. `connection` and `dialed` travel with the socket itself (its file descriptor is
 * passed over the channel), so bytes never cross an extra hop.
 */
export type AgentEvent =
  | { readonly op: 'ready'; readonly pid: number }
  | { readonly op: 'listening'; readonly id: number; readonly local: AddressPort }
  | { readonly op: 'unlistened'; readonly id: number }
  | { readonly op: 'connection'; readonly id: number; readonly local: AddressPort; readonly remote: AddressPort }
  | { readonly op: 'dialed'; readonly id: number; readonly local: AddressPort; readonly remote: AddressPort }
  /** Carries the UDP socket; `udpReleased` follows once the agent closed its own copy of it. */
  | { readonly op: 'udpBound'; readonly id: number; readonly local: AddressPort }
  | { readonly op: 'udpReleased'; readonly id: number }
  | { readonly op: 'failed'; readonly id: number; readonly code: string; readonly message: string }

/** A received message that is not one of the above; `field` is the path of the first bad field. */
export class ProtocolError extends Error {
  readonly field: string
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`)
    this.field = field
  }
}

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ProtocolError }

/** Dial timeout when the caller names none: long enough for a real SYN retry, short enough for a learner. */
export const defaultDialTimeoutMs = 10_000
/** Upper bound on a dial timeout, so a bad request cannot park a timer for days. */
export const maxDialTimeoutMs = 600_000

type Obj = Record<string, unknown>

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function fail(field: string, reason: string): never {
  throw new ProtocolError(field, reason)
}

function id(m: Obj, field = 'id'): number {
  const v = m[field]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(field, 'must be a non-negative integer')
  return v
}

function address(v: unknown, field: string): string {
  if (typeof v !== 'string' || isIP(v) === 0) fail(field, 'must be an IPv4 or IPv6 address literal')
  return v
}

function port(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 65535) fail(field, `must be an integer in ${min}..65535`)
  return v
}

function addressPort(v: unknown, field: string, minPort: number): AddressPort {
  if (!isObj(v)) fail(field, 'must be an object with address and port')
  return { address: address(v['address'], `${field}.address`), port: port(v['port'], `${field}.port`, minPort) }
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, 'must be a string')
  return v.length > 1000 ? v.slice(0, 1000) : v
}

function errnoCode(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^E[A-Z0-9_]{1,30}$/.test(v)) fail(field, 'must be an errno name such as ECONNREFUSED')
  return v
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v
}

function checked<T>(parse: () => T): Checked<T> {
  try {
    return { ok: true, value: parse() }
  } catch (e) {
    // Anything else (a getter that throws, say) is still a bad message, not a crash.
    return { ok: false, error: e instanceof ProtocolError ? e : new ProtocolError('(message)', String(e)) }
  }
}

/** The agent's check of what kpe asks. */
export function parseAgentRequest(m: unknown): Checked<AgentRequest> {
  return checked(() => {
    if (!isObj(m)) fail('(message)', 'must be an object')
    switch (m['op']) {
      case 'listen':
        return { op: 'listen', id: id(m), at: addressPort(m['at'], 'at', 0) }
      case 'unlisten':
        return { op: 'unlisten', id: id(m) }
      case 'bindUdp':
        return { op: 'bindUdp', id: id(m), at: addressPort(m['at'], 'at', 0) }
      case 'dial': {
        const to = addressPort(m['to'], 'to', 1)
        const localAddress = m['localAddress'] === undefined ? undefined : address(m['localAddress'], 'localAddress')
        const localPort = m['localPort'] === undefined ? undefined : port(m['localPort'], 'localPort', 1)
        const t = m['timeoutMs'] ?? defaultDialTimeoutMs
        if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > maxDialTimeoutMs) fail('timeoutMs', `must be an integer in 1..${maxDialTimeoutMs}`)
        if (localAddress !== undefined && isIP(localAddress) !== isIP(to.address)) fail('localAddress', `is not of the same IP family as to.address ${to.address}`)
        return {
          op: 'dial',
          id: id(m),
          to,
          ...(localAddress === undefined ? {} : { localAddress }),
          ...(localPort === undefined ? {} : { localPort }),
          timeoutMs: t,
        }
      }
      default:
        return fail('op', `must be one of listen, unlisten, bindUdp, dial (got ${describe(m['op'])})`)
    }
  })
}

/** kpe's check of what an agent says. */
export function parseAgentEvent(m: unknown): Checked<AgentEvent> {
  return checked(() => {
    if (!isObj(m)) fail('(message)', 'must be an object')
    switch (m['op']) {
      case 'ready':
        return { op: 'ready', pid: id(m, 'pid') }
      case 'listening':
        return { op: 'listening', id: id(m), local: addressPort(m['local'], 'local', 1) }
      case 'unlistened':
        return { op: 'unlistened', id: id(m) }
      case 'udpBound':
        return { op: 'udpBound', id: id(m), local: addressPort(m['local'], 'local', 1) }
      case 'udpReleased':
        return { op: 'udpReleased', id: id(m) }
      case 'connection':
      case 'dialed':
        return { op: m['op'], id: id(m), local: addressPort(m['local'], 'local', 1), remote: addressPort(m['remote'], 'remote', 1) }
      case 'failed':
        return { op: 'failed', id: id(m), code: errnoCode(m['code'], 'code'), message: text(m['message'], 'message') }
      default:
        return fail('op', `must be one of ready, listening, unlistened, udpBound, udpReleased, connection, dialed, failed (got ${describe(m['op'])})`)
    }
  })
}

/**
 * The errno a failed socket call reports, as a stable name: Node's `code` when it is one,
 * otherwise EIO, so a caller can always switch on it.
 */
export function errnoOf(e: unknown): string {
  const code = isObj(e) ? e['code'] : undefined
  return typeof code === 'string' && /^E[A-Z0-9_]{1,30}$/.test(code) ? code : 'EIO'
}
