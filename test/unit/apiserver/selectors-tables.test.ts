import { describe, expect, it } from 'vitest'
import { buildTable, findResource, humanDuration, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../../src/apiserver/index.js'

const pods = findResource('', 'v1', 'pods')
const services = findResource('', 'v1', 'services')

describe('selectors', () => {
  it.each([
    ['app=web', { app: 'web' }, true],
    ['app==web,tier!=db', { app: 'web', tier: 'fe' }, true],
    ['app in (web, api)', { app: 'api' }, true],
    ['app notin (web)', { app: 'web' }, false],
    ['tier', { app: 'web' }, false],
    ['!tier', { app: 'web' }, true],
  ])('label selector %s on %j is %s', (sel, labels, want) => {
    expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(want)
  })

  it('field selectors use the per-resource field list and reject unknown fields', () => {
    if (!pods) throw new Error('pods not served')
    const pod = { metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } }
    expect(matchesFields(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed', pods), pod)).toBe(true)
    expect(matchesFields(parseFieldSelector('metadata.name=q', pods), pod)).toBe(false)
    expect(() => parseFieldSelector('spec.foo=1', pods)).toThrow(/field label not supported/)
  })
})

describe('tables', () => {
  it('renders service columns with wide-only Selector at priority 1', () => {
    if (!services) throw new Error('services not served')
    const now = Date.parse('2026-01-01T00:10:00Z')
    const t = buildTable(services, [{
      metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { type: 'NodePort', clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] },
    }], { now, includeObject: 'Metadata' }) as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] }
    expect(t.columnDefinitions.map((c) => `${c.name}:${c.priority}`)).toEqual(['Name:0', 'Type:0', 'Cluster-IP:0', 'External-IP:0', 'Port(s):0', 'Age:0', 'Selector:1'])
    expect(t.rows[0]?.cells).toEqual(['web', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP', '10m', 'app=web'])
  })

  it.each([[5_000, '5s'], [150_000, '2m30s'], [3_600_000, '60m'], [4 * 3_600_000 + 60_000, '4h1m'], [30 * 3_600_000, '30h'], [3 * 86_400_000, '3d']])(
    'humanDuration(%i) = %s', (ms, want) => expect(humanDuration(ms)).toBe(want))
})
