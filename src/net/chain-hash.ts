/**
 * Upstream kube-proxy's chain-name hash: SHA-256 of the text, standard base32 (RFC 4648,
 * A-Z2-7), first 16 characters (iptables) or 8 (nftables). Memoised because a sync hashes
 * the same service and endpoint strings again and again; the cache is bounded.
 */
import { createHash } from 'node:crypto'

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const cache = new Map<string, string>()
const cacheLimit = 1 << 20

/** Base32 of the first 10 bytes of the SHA-256 digest: exactly 16 characters. */
function hash16(text: string): string {
  const d = createHash('sha256').update(text).digest()
  let out = ''
  // 10 bytes = 80 bits = 16 base32 characters; two 5-byte groups of 8 characters each.
  for (let g = 0; g < 10; g += 5) {
    const hi = d[g]!
    const lo = ((d[g + 1]! << 24) >>> 0) + (d[g + 2]! << 16) + (d[g + 3]! << 8) + d[g + 4]!
    // 40 bits: hi (8) + lo (32)
    const v = hi * 2 ** 32 + lo
    for (let i = 7; i >= 0; i--) out += alphabet[Math.floor(v / 2 ** (5 * i)) % 32]
  }
  return out
}

export function chainHash(text: string): string {
  let h = cache.get(text)
  if (h === undefined) {
    if (cache.size >= cacheLimit) cache.clear()
    h = hash16(text)
    cache.set(text, h)
  }
  return h
}

/** The 8-character form used in nftables chain names. */
export function chainHash8(text: string): string {
  return chainHash(text).slice(0, 8)
}
