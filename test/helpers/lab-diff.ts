/** Line diffs between normalized iptables-save tables (rendered vs kernel), for failure messages. */

/** One entry per differing line: `table: - rendered line` / `table: + kernel line`, plus missing tables. */
export function diffTables(expected: ReadonlyMap<string, string>, actual: ReadonlyMap<string, string>): string[] {
  const out: string[] = []
  for (const name of new Set([...expected.keys(), ...actual.keys()])) {
    const e = expected.get(name)
    const a = actual.get(name)
    if (e === undefined) out.push(`${name}: table only in the kernel`)
    else if (a === undefined) out.push(`${name}: table only in the rendering`)
    else if (e !== a) out.push(...lineDiff(e.split('\n'), a.split('\n')).map((l) => `${name}: ${l}`))
  }
  return out
}

/** LCS-based diff; `- ` lines are rendered only, `+ ` lines kernel only. */
export function lineDiff(a: readonly string[], b: readonly string[]): string[] {
  const n = a.length
  const m = b.length
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      i++
      j++
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push(`- ${a[i++]}`)
    else out.push(`+ ${b[j++]}`)
  }
  while (i < n) out.push(`- ${a[i++]}`)
  while (j < m) out.push(`+ ${b[j++]}`)
  return out
}
