/**
 * The pod-template-hash label value: FNV-32a over the Pod template (plus the collision count),
 * printed as upstream's rand.SafeEncodeString of the decimal hash. Upstream hashes Go's printed
 * struct, so the values differ from a real cluster's; the shape and stability are the same, and
 * like upstream's a null field hashes as an absent one. Pure.
 */

export const podTemplateHashLabel = 'pod-template-hash'
const alphanums = 'bcdfghjklmnpqrstvwxz2456789'

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v !== null && typeof v === 'object') {
    // a null member is Go's zero value, as absent (kubectl rollout undo sends `creationTimestamp: null`)
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && x !== null).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`
  }
  return JSON.stringify(v)
}

export function fnv32a(text: string): number {
  let h = 0x811c9dc5
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

export function safeEncodeString(s: string): string {
  return [...s].map((c) => alphanums[c.charCodeAt(0) % alphanums.length]).join('')
}

/** The template's hash, ignoring any pod-template-hash label already on it. */
export function computePodTemplateHash(template: unknown, collisionCount = 0): string {
  const t = structuredClone(template ?? {}) as { metadata?: { labels?: Record<string, string> } }
  if (t.metadata?.labels) delete t.metadata.labels[podTemplateHashLabel]
  return safeEncodeString(String(fnv32a(`${canonicalJson(t)}#${collisionCount}`)))
}
