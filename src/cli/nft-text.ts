/**
 * nftables text at the CLI edge: telling an nft dump from an iptables-save one, and reading it
 * into the typed document (transaction or listing form; a sorted dump's declarations first).
 */
import { declarationsFirst, nftDocumentOf, parseNft, type NftDocument } from '../proxy/netfilter/index.js'

/** The first statement of nft text is a command or a `table … {` block; iptables-save starts with `*table`, `:chain` or `-A`. */
export function isNftText(text: string): boolean {
  const first = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'))
  return first !== undefined && /^(add|create|insert|flush|delete|destroy|table)\s/.test(first)
}

export function nftDocumentOfText(text: string, source: string): NftDocument {
  return nftDocumentOf(declarationsFirst(parseNft(text, { source })), { source })
}
