/**
 * Upstream kube-proxy's chain-name hash: SHA-256 of the text, standard base32 (RFC 4648,
 * A-Z2-7), first 16 characters (iptables) or 8 (nftables). No memo here: one-shot `hash`
 * costs about as much as a Map lookup of the key, and callers that sync repeatedly keep the
 * names with the rules they cache (src/proxy/iptables/incremental-build.ts).
 */
import { hash } from 'node:crypto'

const alphabet = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', (c) => c.charCodeAt(0))

/**
 * Base32 of the first 10 bytes of the SHA-256 digest: exactly 16 characters, after `prefix`.
 * Built from character codes in one call, so the name is one flat string: a concatenation
 * would leave a rope that costs memory while kept and time whenever it is compared (sorting
 * ~100k chain names).
 */
export function chainHash(text: string, prefix = ''): string {
  // The hex digest is the cheapest output form; 5 hex digits are 20 bits, 4 base32 characters.
  const hex = hash('sha256', text, 'hex')
  const codes = new Array<number>(prefix.length + 16)
  for (let i = 0; i < prefix.length; i++) codes[i] = prefix.charCodeAt(i)
  let at = prefix.length
  for (let h = 0; h < 20; h += 5) {
    const v = Number.parseInt(hex.slice(h, h + 5), 16)
    codes[at++] = alphabet[v >>> 15]!
    codes[at++] = alphabet[(v >>> 10) & 31]!
    codes[at++] = alphabet[(v >>> 5) & 31]!
    codes[at++] = alphabet[v & 31]!
  }
  return String.fromCharCode.apply(null, codes)
}

/** The 8-character form used in nftables chain names. */
export function chainHash8(text: string): string {
  return chainHash(text).slice(0, 8)
}
