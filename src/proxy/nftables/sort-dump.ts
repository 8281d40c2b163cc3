/**
 * Upstream's nftables test comparison order (sortNFTablesTransaction in
 * pkg/proxy/nftables/helpers_test.go): blank and `#` lines dropped, lines stable-sorted by object
 * kind (table, chain, rule, set, map, element), then object name; rules keep their order.
 */

const objectOrder: Readonly<Record<string, number>> = { table: 10, chain: 9, rule: 8, set: 7, map: 6, element: 5 }

function compareLines(a: string, b: string): number {
  const wa = a.split(' ')
  const wb = b.split(' ')
  // Every kube-proxy line has at least five words; anything shorter keeps its place.
  if (wa.length < 5 || wb.length < 5) return 0
  const [ka, kb] = [wa[1]!, wb[1]!]
  if (ka !== kb) return (objectOrder[kb] ?? 0) - (objectOrder[ka] ?? 0)
  const [na, nb] = [wa[4]!, wb[4]!]
  if (na !== nb) return na < nb ? -1 : 1
  if (ka === 'rule') return 0
  return a < b ? -1 : a > b ? 1 : 0
}

/** Normalizes an `add …` transaction or dump the way upstream's tests do before comparing. */
export function sortNftablesDump(text: string): string {
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  return lines.sort(compareLines).join('\n')
}
