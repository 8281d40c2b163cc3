/**
 * Dynamic set contents (`flags dynamic,timeout`: kube-proxy's affinity sets) as they change at
 * run time: key -> expiry time (ms on the injected Clock). Kept beside the rules, so a reload
 * that keeps a set keeps its entries, as the kernel does for a set that is not flushed.
 */
export type NftSetState = Map<string, Map<string, number>>

export function createNftSetState(): NftSetState {
  return new Map()
}

/** State key of one set: `ip kube-proxy affinity-…`. */
export function setStateKey(table: string, set: string): string {
  return `${table} ${set}`
}

export function dynamicHas(state: NftSetState | undefined, setKey: string, key: string, now: number): boolean {
  const exp = state?.get(setKey)?.get(key)
  return exp !== undefined && exp > now
}

export function dynamicUpdate(state: NftSetState, setKey: string, key: string, now: number, timeoutMs: number): void {
  let m = state.get(setKey)
  if (!m) state.set(setKey, (m = new Map()))
  m.set(key, now + timeoutMs)
}
