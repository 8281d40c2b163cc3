/**
 * The NodePort range ("30000-32767", kube-apiserver's --service-node-port-range) and the
 * lowest-free search over it. Pure.
 */

export interface PortRange {
  readonly base: number
  readonly size: number
}

export const defaultNodePortRange: PortRange = { base: 30000, size: 2768 }

export function formatPortRange(r: PortRange): string {
  return `${r.base}-${r.base + r.size - 1}`
}

/** "30000-32767" or a single port; undefined when malformed or outside 1-65535. */
export function parsePortRange(text: string): PortRange | undefined {
  const m = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(text)
  if (!m) return undefined
  const lo = Number(m[1])
  const hi = m[2] === undefined ? lo : Number(m[2])
  if (lo < 1 || hi > 65535 || hi < lo) return undefined
  return { base: lo, size: hi - lo + 1 }
}

export function portInRange(r: PortRange, port: number): boolean {
  return Number.isInteger(port) && port >= r.base && port < r.base + r.size
}

export function lowestFreePort(r: PortRange, isTaken: (port: number) => boolean): number | undefined {
  for (let p = r.base; p < r.base + r.size; p++) if (!isTaken(p)) return p
  return undefined
}
