/**
 * The JSONPath subset CRDs use in practice (printer columns, scale paths): dotted fields with
 * optional [n] indexes (`.spec.x`, `.status.conditions[0].type`), optionally wrapped in braces.
 */

/** The steps of a simple JSONPath, or undefined when it is outside the subset. */
export function parseSimpleJsonPath(path: string): (string | number)[] | undefined {
  const inner = path.startsWith('{') && path.endsWith('}') ? path.slice(1, -1) : path
  if (!inner.startsWith('.')) return undefined
  const steps: (string | number)[] = []
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+)\]/gy
  let m: RegExpExecArray | null
  let end = 0
  while ((m = re.exec(inner)) !== null) {
    steps.push(m[1] !== undefined ? m[1] : Number(m[2]))
    end = re.lastIndex
  }
  return end === inner.length && steps.length > 0 ? steps : undefined
}

export function valueAtJsonPath(o: unknown, path: string): unknown {
  const steps = parseSimpleJsonPath(path)
  if (!steps) return undefined
  let v: unknown = o
  for (const s of steps) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Record<string | number, unknown>)[s]
  }
  return v
}

/** Sets the value at a simple dotted path (no indexes), creating objects on the way; in place. */
export function setAtJsonPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const steps = parseSimpleJsonPath(path)
  if (!steps || steps.some((s) => typeof s === 'number')) return
  let at = o
  for (const s of steps.slice(0, -1) as string[]) {
    const next = at[s]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[s] = {}
    at = at[s] as Record<string, unknown>
  }
  at[steps[steps.length - 1] as string] = value
}
