/**
 * The state of one walk: the packet as the rules have changed it so far (destination after
 * DNAT, mark), what the walk recorded (hops, unmodelled parts, dynamic-set effects), and the
 * two things a mode decides: which numgen branch to take, and how dynamic sets are kept.
 */
import type { PacketAddress } from '../../interpreter/address.js'
import { parsePacketAddress } from '../../interpreter/address.js'
import { AddressSlot } from './address-slot.js'
import type { NodeContext, Packet, Verdict } from '../../interpreter/index.js'
import type { NftSelector } from '../types.js'
import type { CChain, CJump, CRule } from './program.js'
import { dynamicHas, dynamicUpdate, type NftSetState } from './set-state.js'
import type { NftHop, NftRuleLocation, NftSetEffect, NftUnmodelled } from './types.js'
import { nameVal, numVal, type Val, type ValKey } from './values.js'

/** A `dnat to` target as compiled: parsed once (undefined address: kpe cannot read it). */
export interface DnatTarget {
  readonly to: string
  readonly address: PacketAddress | undefined
  readonly port: number | undefined
  /** The verdict of every connection it takes, made once (undefined: made per outcome from the rest). */
  readonly verdict: Verdict | undefined
}

/** `dnat to A:P` / `[A]:P` / `A`. */
export function parseDnatTarget(to: string): DnatTarget {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(to) ?? /^([^:]+):(\d+)$/.exec(to) ?? /^(.+)()$/.exec(to)
  const address = parsePacketAddress(m![1]!)
  const port = m![2] ? Number(m![2]) : undefined
  const verdict: Verdict | undefined = address === undefined ? undefined : Object.freeze(port === undefined ? { kind: 'dnat', to, address: address.text } : { kind: 'dnat', to, address: address.text, port })
  return { to, address, port, verdict }
}

const ctStateNew = nameVal('new')
const fibLocal = nameVal('local')
const fibUnicast = nameVal('unicast')
const nfprotoV4 = nameVal('ipv4')
const nfprotoV6 = nameVal('ipv6')

export abstract class WalkEnv {
  /**
   * The packet's addresses, refilled in place per walk (see address-slot.ts): the walk's values
   * never outlive it. `dst` is `origDst` until a DNAT makes it `#dnatDst`.
   */
  readonly src = new AddressSlot()
  readonly origDst = new AddressSlot()
  readonly #dnatDst = new AddressSlot()
  dst: AddressSlot = this.origDst
  proto!: string
  dport = 0
  origDport = 0
  sport: number | undefined
  mark = 0
  iif: string | undefined
  oif: string | undefined
  masquerade = false
  snatTo: string | undefined
  dnat: DnatTarget | undefined
  local!: ReadonlySet<ValKey>
  /** Where the walk is, for hops and unmodelled parts: set per rule without allocating. */
  atChain: CChain | undefined
  atRule = 0
  atType: NftRuleLocation['chainType'] = 'filter'
  decidedAt: NftRuleLocation | undefined
  rejectWith: string | undefined
  route: 'local' | 'forward' | 'output' | undefined
  hops: NftHop[] | undefined
  unmodelled: NftUnmodelled[] | undefined
  setEffects: NftSetEffect[] | undefined
  /** The target of an IPv4 `dnat to` whose parts the rule's code holds, refilled like the addresses. */
  readonly #dnatV4: { to: string; address: PacketAddress; port: number | undefined; verdict: undefined } = { to: '', address: this.#dnatDst, port: undefined, verdict: undefined }
  /** Rules visited by this walk (bounded: see walk.ts). */
  visits = 0
  /** The numgen branch taken by the current rule, for its hop. */
  branch: { taken: number; of: number } | undefined
  /** The verdict-map element the current rule matched, for its hop. */
  element: NftHop['element']

  abstract pick(n: number): number
  abstract now(): number
  abstract get sets(): NftSetState | undefined
  /** Whether updates change `sets` (sample) or are only reported (explore). */
  abstract get mutateSets(): boolean

  begin(packet: Packet, ctx: NodeContext, record: boolean): boolean {
    if (!this.src.parse(packet.src) || !this.origDst.parse(packet.dst)) return false
    this.dst = this.origDst
    this.proto = packet.proto
    this.dport = this.origDport = packet.dport
    this.sport = packet.sport
    this.mark = packet.mark ?? 0
    this.iif = packet.inInterface
    this.oif = packet.outInterface
    this.masquerade = false
    this.snatTo = undefined
    this.dnat = undefined
    this.decidedAt = undefined
    this.rejectWith = undefined
    this.route = undefined
    this.local = localKeys(ctx)
    this.hops = record ? [] : undefined
    this.unmodelled = undefined
    this.setEffects = undefined
    this.branch = undefined
    this.element = undefined
    this.visits = 0
    return true
  }

  /** The current rule's location as a value (allocated only when something records it). */
  get at(): NftRuleLocation {
    return { table: this.atChain?.table ?? '', chain: this.atChain?.name ?? '', rule: this.atRule, chainType: this.atType }
  }

  isLocal(a: PacketAddress): boolean {
    return this.local.has(a.key)
  }

  unmodelledPart(what: string): undefined {
    ;(this.unmodelled ??= []).push({ ...this.at, what })
    return undefined
  }

  /** The value a selector reads; undefined when it does not apply (a tcp field of a udp packet). */
  read(s: NftSelector): Val | undefined {
    switch (s.kind) {
      case 'payload':
        if (s.field === 'saddr' || s.field === 'daddr') {
          const a = s.field === 'saddr' ? this.src : this.dst
          if ((s.proto === 'ip') !== (a.family === 'IPv4')) return undefined
          return a.val
        }
        if (s.proto !== 'th' && s.proto !== this.proto) return undefined
        if (s.field === 'dport') return numVal(this.dport)
        return this.sport === undefined ? this.unmodelledPart('source port unknown') : numVal(this.sport)
      case 'meta':
        if (s.key === 'l4proto') return nameVal(this.proto)
        if (s.key === 'mark') return numVal(this.mark)
        if (s.key === 'nfproto') return this.src.family === 'IPv4' ? nfprotoV4 : nfprotoV6
        {
          const name = s.key === 'iifname' ? this.iif : this.oif
          return name === undefined ? this.unmodelledPart(`${s.key} unknown`) : nameVal(name)
        }
      case 'ct':
        // Only the first packet of a connection is walked: its state is `new`.
        return s.key === 'state' ? ctStateNew : this.unmodelledPart(`ct ${s.key}`)
      case 'ct-dir':
        if (s.dir !== 'original') return this.unmodelledPart(`ct ${s.dir} ${s.key}`)
        if (s.key === 'saddr') return this.src.val
        if (s.key === 'daddr') return this.origDst.val
        return s.key === 'proto-dst' ? numVal(this.origDport) : this.sport === undefined ? this.unmodelledPart('source port unknown') : numVal(this.sport)
      case 'fib':
        return this.isLocal(s.side === 'saddr' ? this.src : this.dst) ? fibLocal : fibUnicast
      case 'numgen':
        return numVal(this.pick(s.mod))
    }
  }

  dynamicHas(setKey: string, key: string): boolean {
    return dynamicHas(this.sets, setKey, key, this.now())
  }

  updateSet(setKey: string, set: string, key: string, op: 'update' | 'add', timeoutMs: number): void {
    ;(this.setEffects ??= []).push({ table: this.at.table, set, key, op })
    if (!this.mutateSets || !this.sets) return
    if (op === 'add' && dynamicHas(this.sets, setKey, key, this.now())) return
    dynamicUpdate(this.sets, setKey, key, this.now(), timeoutMs)
  }

  /** Applies a compiled `dnat to`; false (rule does not apply) if the target cannot be read. */
  applyDnat(t: DnatTarget): boolean {
    const a = t.address
    if (!a) return this.unmodelledPart(`dnat target ${t.to}`) ?? false
    this.#dnatDst.copy(a)
    this.dst = this.#dnatDst
    if (t.port !== undefined) this.dport = t.port
    this.dnat = t
    return true
  }

  /** The same for an IPv4 target whose parts the rule's code holds: nothing is allocated. */
  applyDnatV4(v4: number, text: string, port: number | undefined, to: string): void {
    this.#dnatDst.setV4(v4, text)
    this.dst = this.#dnatDst
    if (port !== undefined) this.dport = port
    const d = this.#dnatV4
    d.to = to
    d.port = port
    this.dnat = d
  }

  /**
   * The jump or goto a step found inline in the code (a numgen branch), as the verdict the walk
   * follows: one object per env, refilled, which the walk reads before it goes on.
   */
  readonly #via: { k: 'jump' | 'goto'; chain: CChain | undefined; start: number; end: number } = { k: 'goto', chain: undefined, start: 0, end: 0 }

  jumpVia(k: 'jump' | 'goto', chain: CChain, start: number, end: number): CJump {
    const v = this.#via
    v.k = k
    v.chain = chain
    v.start = start
    v.end = end
    return v as CJump
  }

  hop(rule: CRule): void {
    if (!this.hops) return
    this.hops.push({ ...this.at, rule: rule.n, ruleRef: rule.def, matched: true, ...(this.branch ? { branch: this.branch } : {}), ...(this.element ? { element: this.element } : {}) })
  }
}

const localCache = new WeakMap<NodeContext, ReadonlySet<ValKey>>()

function localKeys(ctx: NodeContext): ReadonlySet<ValKey> {
  let s = localCache.get(ctx)
  if (!s) {
    s = new Set([...ctx.localAddresses].flatMap((a) => {
      const p = parsePacketAddress(a)
      return p ? [p.key] : []
    }))
    localCache.set(ctx, s)
  }
  return s
}
