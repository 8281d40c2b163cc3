/**
 * Table printing for custom resources from the CRD's additionalPrinterColumns (JSONPath subset
 * in json-path.ts). Date columns print as an age; absent fields as <none>.
 */
import { humanDuration } from '../human-duration.js'
import { valueAtJsonPath } from './json-path.js'
import { ageCol, nameCol, type ColumnDefinition, type Printer } from '../table-cells.js'
import type { PrinterColumn } from '../../api/index.js'

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
