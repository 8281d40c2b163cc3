/**
 * The state of one walk: the packet as the rules have changed it so far (destination after
 * DNAT, mark), what the walk recorded (hops, unmodelled parts, dynamic-set effects), and the
 * two things a mode decides: which numgen branch to take, and how dynamic sets are kept.
 */
import type { PacketAddress } from '../../interpreter/address.js'
import { parsePacketAddress } from '../../interpreter/address.js'
import type { NodeContext, Packet } from '../../interpreter/index.js'
import type { NftSelector } from '../types.js'
import type { CRule } from './program.js'
import { dynamicHas, dynamicUpdate, type NftSetState } from './set-state.js'
import type { NftHop, NftRuleLocation, NftSetEffect, NftUnmodelled } from './types.js'
import { addrVal, numVal, type Val } from './values.js'

export abstract class WalkEnv {
  src!: PacketAddress
  dst!: PacketAddress
  origDst!: PacketAddress
  proto!: string
  dport = 0
  origDport = 0
  sport: number | undefined
  mark = 0
  iif: string | undefined
  oif: string | undefined
  masquerade = false
  snatTo: string | undefined
  dnat: { to: string; address: string; port?: number } | undefined
  local!: ReadonlySet<string>
  /** Where the walk is, for hops and unmodelled parts. */
  at: NftRuleLocation = { table: '', chain: '', rule: 0, chainType: 'filter' }
  decidedAt: NftRuleLocation | undefined
  rejectWith: string | undefined
  route: 'local' | 'forward' | 'output' | undefined
  hops: NftHop[] | undefined
  unmodelled: NftUnmodelled[] | undefined
  setEffects: NftSetEffect[] | undefined
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
    const src = parsePacketAddress(packet.src)
    const dst = parsePacketAddress(packet.dst)
    if (!src || !dst) return false
    this.src = src
    this.dst = this.origDst = dst
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
    return true
  }

  isLocal(a: PacketAddress): boolean {
    return this.local.has(String(a.key))
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
          return (s.proto === 'ip') === (a.family === 'IPv4') ? addrVal(a) : undefined
        }
        if (s.proto !== 'th' && s.proto !== this.proto) return undefined
        if (s.field === 'dport') return numVal(this.dport)
        return this.sport === undefined ? this.unmodelledPart('source port unknown') : numVal(this.sport)
      case 'meta':
        if (s.key === 'l4proto') return { key: this.proto }
        if (s.key === 'mark') return numVal(this.mark)
        if (s.key === 'nfproto') return { key: this.src.family === 'IPv4' ? 'ipv4' : 'ipv6' }
        {
          const name = s.key === 'iifname' ? this.iif : this.oif
          return name === undefined ? this.unmodelledPart(`${s.key} unknown`) : { key: name }
        }
      case 'ct':
        // Only the first packet of a connection is walked: its state is `new`.
        return s.key === 'state' ? { key: 'new' } : this.unmodelledPart(`ct ${s.key}`)
      case 'ct-dir':
        if (s.dir !== 'original') return this.unmodelledPart(`ct ${s.dir} ${s.key}`)
        if (s.key === 'saddr') return addrVal(this.src)
        if (s.key === 'daddr') return addrVal(this.origDst)
        return s.key === 'proto-dst' ? numVal(this.origDport) : this.sport === undefined ? this.unmodelledPart('source port unknown') : numVal(this.sport)
      case 'fib':
        return { key: this.isLocal(s.side === 'saddr' ? this.src : this.dst) ? 'local' : 'unicast' }
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

  /** `dnat to A:P` / `[A]:P` / `A`; false (rule does not apply) if the target cannot be read. */
  applyDnat(to: string): boolean {
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(to) ?? /^([^:]+):(\d+)$/.exec(to) ?? /^(.+)()$/.exec(to)
    const address = m![1]!
    const a = parsePacketAddress(address)
    if (!a) return this.unmodelledPart(`dnat target ${to}`) ?? false
    this.dst = a
    const port = m![2] ? Number(m![2]) : undefined
    if (port !== undefined) this.dport = port
    this.dnat = port === undefined ? { to, address: a.text } : { to, address: a.text, port }
    return true
  }

  hop(rule: CRule): void {
    if (!this.hops) return
    this.hops.push({ ...this.at, rule: rule.n, ruleRef: rule.def, matched: true, ...(this.branch ? { branch: this.branch } : {}), ...(this.element ? { element: this.element } : {}) })
  }
}

const localCache = new WeakMap<NodeContext, ReadonlySet<string>>()

function localKeys(ctx: NodeContext): ReadonlySet<string> {
  let s = localCache.get(ctx)
  if (!s) {
    s = new Set([...ctx.localAddresses].flatMap((a) => {
      const p = parsePacketAddress(a)
      return p ? [String(p.key)] : []
    }))
    localCache.set(ctx, s)
  }
  return s
}
