/**
 * Upstream kube-proxy's chain-name hash: SHA-256 of the text, standard base32 (RFC 4648,
 * A-Z2-7), first 16 characters (iptables) or 8 (nftables). No memo here: one-shot `hash`
 * costs about as much as a Map lookup of the key, and callers that sync repeatedly keep the
 * names with the rules they cache (src/proxy/iptables/incremental-build.ts).
 */
import { hash } from 'node:crypto'

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/** 8 base32 characters of a 40-bit value (exact in a double). */
function base32Of40Bits(v: number): string {
  let out = ''
  for (let shift = 2 ** 35; shift >= 1; shift /= 32) out += alphabet[Math.floor(v / shift) % 32]
  return out
}

/** Base32 of the first 10 bytes of the SHA-256 digest: exactly 16 characters. */
export function chainHash(text: string): string {
  // The hex digest is the cheapest output form; 10 hex digits are 40 bits, 8 base32 characters.
  const hex = hash('sha256', text, 'hex')
  return base32Of40Bits(Number.parseInt(hex.slice(0, 10), 16)) + base32Of40Bits(Number.parseInt(hex.slice(10, 20), 16))
}

/** The 8-character form used in nftables chain names. */
export function chainHash8(text: string): string {
  return chainHash(text).slice(0, 8)
}
