/**
 * A packet address the nft walk owns and refills in place for each packet, together with its
 * lookup value. A sampled verdict used to allocate two addresses and their values on entry, and
 * one more of each after a DNAT; at 10,000 Services each young-generation collection costs about
 * 6 ms (V8 visits every page of the large old heap), so fewer allocations are fewer of those.
 */
import { ipv4Value, parsePacketAddress, type PacketAddress } from '../../interpreter/address.js'
import type { ValKey } from './values.js'

export class AddressSlot implements PacketAddress {
  family: 'IPv4' | 'IPv6' = 'IPv4'
  v4 = 0
  v6 = 0n
  key: ValKey = 0
  text = ''
  /** The address as a set-lookup value (`addrVal`'s shape); it never outlives the walk. */
  readonly val: { key: ValKey; readonly addr: PacketAddress }

  constructor() {
    this.val = { key: 0, addr: this }
  }

  /** Parses `text` into this slot; false (slot unchanged) if it is not an IP address. */
  parse(text: string): boolean {
    const v4 = ipv4Value(text)
    if (v4 !== undefined) {
      this.setV4(v4, text)
      return true
    }
    const a = parsePacketAddress(text)
    if (a === undefined) return false
    this.copy(a)
    return true
  }

  setV4(v4: number, text: string): void {
    this.family = 'IPv4'
    this.v4 = v4
    this.v6 = 0n
    this.key = this.val.key = v4
    this.text = text
  }

  copy(a: PacketAddress): void {
    this.family = a.family
    this.v4 = a.v4
    this.v6 = a.v6
    this.key = this.val.key = a.key
    this.text = a.text
  }
}

