/**
 * The building blocks of table printers: column definitions, safe field access on untyped
 * objects, and the cell formats kube-apiserver's printers share (AGE, label selectors,
 * container lists, "a,b,c + N more..."). Pure.
 */
import type { KubeObject } from '../store/index.js'
import { humanDuration } from './human-duration.js'

export interface ColumnDefinition {
  readonly name: string
  readonly type: 'string' | 'integer' | 'number' | 'boolean'
  readonly format: string
  readonly description: string
  readonly priority: number
}

export type IncludeObject = 'None' | 'Object' | 'Metadata'

/** null prints as <none> (a custom resource's column whose field is absent). */
export type Cell = string | number | null
export type Printer = { readonly columns: readonly ColumnDefinition[]; readonly cells: (o: KubeObject, now: number) => readonly Cell[] }

export function col(name: string, opts: { type?: ColumnDefinition['type']; format?: string; wide?: boolean } = {}): ColumnDefinition {
  return { name, type: opts.type ?? 'string', format: opts.format ?? '', description: name, priority: opts.wide ? 1 : 0 }
}

export const nameCol = col('Name', { format: 'name' })
export const ageCol = col('Age')

export type Obj = Record<string, unknown>
export function at(o: unknown, ...path: string[]): unknown {
  let cur = o
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Obj)[p]
  }
  return cur
}
export function arr(o: unknown, ...path: string[]): Obj[] {
  const v = at(o, ...path)
  return Array.isArray(v) ? (v as Obj[]) : []
}
export function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback
}
export function num(v: unknown): number {
  return typeof v === 'number' ? v : 0
}

export function age(o: KubeObject, now: number): string {
  const ts = o.metadata.creationTimestamp
  return ts ? humanDuration(now - Date.parse(ts)) : '<unknown>'
}

export function formatSelector(sel: unknown): string {
  if (typeof sel !== 'object' || sel === null) return '<none>'
  const parts = Object.entries(sel as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`)
  return parts.length ? parts.join(',') : '<none>'
}

export function formatLabelSelector(sel: unknown): string {
  const ml = at(sel, 'matchLabels')
  const exprs = arr(sel, 'matchExpressions').map((e) => {
    const vals = Array.isArray(e['values']) ? (e['values'] as string[]).join(',') : ''
    switch (e['operator']) {
      case 'In': return `${str(e['key'])} in (${vals})`
      case 'NotIn': return `${str(e['key'])} notin (${vals})`
      case 'Exists': return str(e['key'])
      case 'DoesNotExist': return `!${str(e['key'])}`
      default: return ''
    }
  })
  const labels = ml ? formatSelector(ml) : ''
  const all = [...(labels && labels !== '<none>' ? [labels] : []), ...exprs.filter((x) => x)]
  return all.length ? all.join(',') : '<none>'
}

export function containerNames(o: unknown): string {
  return arr(o, 'spec', 'template', 'spec', 'containers').map((c) => str(c['name'])).join(',')
}
export function containerImages(o: unknown): string {
  return arr(o, 'spec', 'template', 'spec', 'containers').map((c) => str(c['image'])).join(',')
}

export function summarize(list: readonly string[], max = 3): string {
  if (list.length === 0) return '<none>'
  const shown = list.slice(0, max).join(',')
  return list.length > max ? `${shown} + ${list.length - max} more...` : shown
}
