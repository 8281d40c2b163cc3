/**
 * Table printing for custom resources from the CRD's additionalPrinterColumns. The JSONPath
 * subset is the one CRDs use in practice: dotted fields with optional [n] indexes (`.spec.x`,
 * `.status.conditions[0].type`), optionally wrapped in braces. Date columns print as an age.
 */
import { humanDuration } from '../human-duration.js'
import { ageCol, nameCol, type ColumnDefinition, type Printer } from '../table-cells.js'
import type { PrinterColumn } from './definition.js'

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

function cellOf(c: PrinterColumn, v: unknown, now: number): string | number | null {
  if (v === undefined || v === null) return null
  if (c.type === 'date' && typeof v === 'string') {
    const t = Date.parse(v)
    return Number.isNaN(t) ? v : humanDuration(now - t)
  }
  if (typeof v === 'number' || typeof v === 'string') return v
  return JSON.stringify(v)
}

function definitionOf(c: PrinterColumn): ColumnDefinition {
  // A date column is a string cell holding an age, as kube-apiserver sends it.
  return { name: c.name, type: c.type === 'date' ? 'string' : c.type as ColumnDefinition['type'], format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 }
}

/** Name, then the CRD's columns; Name and Age when it declares none (as kube-apiserver does). */
export function customResourcePrinter(columns: readonly PrinterColumn[]): Printer {
  if (columns.length === 0) return { columns: [nameCol, ageCol], cells: (o, now) => [o.metadata.name ?? '', cellOf({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }, o.metadata.creationTimestamp, now) ?? '<unknown>'] }
  return {
    columns: [nameCol, ...columns.map(definitionOf)],
    cells: (o, now) => [o.metadata.name ?? '', ...columns.map((c) => cellOf(c, valueAtJsonPath(o, c.jsonPath), now))],
  }
}
