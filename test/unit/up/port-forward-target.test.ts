/** kpe port-forward's pure parts: kubectl's pod choice and port translation, the CLI's argument parsing. */
import { describe, expect, it } from 'vitest'
import type { Pod, Service } from '../../../src/api/index.js'
import { parseForwardResource, parseListenAddress, parsePortSpec } from '../../../src/cli/port-forward-command.js'
import { forwardQuery, parseForwardQuery, resolveForwardTarget } from '../../../src/up/port-forward-target.js'

const pod = (name: string, o: { ready?: boolean; phase?: string; created?: string; deleting?: boolean; ip?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web' }, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z', ...(o.deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}) },
  spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: (o.phase ?? 'Running') as 'Running', podIP: o.ip ?? '10.244.0.2', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
})
const svc = (targetPort: number | string): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort }] },
} as unknown as Service)
const svcReq = (port: string) => ({ kind: 'svc' as const, namespace: 'default', name: 'web', port })

describe('resolveForwardTarget', () => {
  it('svc: the first pod in kubectl order (not terminating, Running, Ready, oldest), Service port to targetPort', () => {
    const pods = [pod('young', { created: '2026-01-03T00:00:00Z', ip: '10.244.0.3' }), pod('unready', { ready: false }), pod('old', { ip: '10.244.0.4' }), pod('gone', { deleting: true })]
    expect(resolveForwardTarget(svcReq('80'), { service: svc(8080), pods })).toEqual({ kind: 'target', target: { pod: 'default/old', podIP: '10.244.0.4', containerPort: 8080 } })
    expect(resolveForwardTarget(svcReq('http'), { service: svc('http'), pods })).toMatchObject({ target: { containerPort: 8080 } })
  })

  it.each([
    [svcReq('81'), { service: svc(8080), pods: [pod('a')] }, 400, 'Service default/web does not have a service port 81'],
    [svcReq('80'), { service: svc(8080), pods: [] }, 503, 'no pods selected by Service default/web'],
    [svcReq('80'), { service: undefined, pods: [] }, 404, 'services "web" not found'],
    [{ kind: 'pod' as const, namespace: 'default', name: 'a', port: 'metrics' }, { service: undefined, pods: [pod('a')] }, 400, 'pod default/a has no container port "metrics"'],
    [{ kind: 'pod' as const, namespace: 'default', name: 'a', port: '80' }, { service: undefined, pods: [pod('a', { phase: 'Pending' })] }, 503, 'unable to forward port because pod default/a is not running. Current status=Pending'],
  ])('refuses %j', (req, objects, status, message) => {
    expect(resolveForwardTarget(req, objects)).toEqual({ kind: 'error', status, message })
  })

  it('the /forward query round-trips', () => {
    const r = { kind: 'pod' as const, namespace: 'ns', name: 'a', port: 'http' }
    expect(parseForwardQuery(new URLSearchParams(forwardQuery(r)))).toEqual(r)
    expect(parseForwardQuery(new URLSearchParams('kind=deploy&name=a&port=1'))).toEqual({ error: 'kind must be svc or pod, not "deploy"' })
  })
})

describe('kpe port-forward arguments', () => {
  it.each([['8080:80', { local: 8080, remote: '80' }], ['80', { local: 80, remote: '80' }], [':80', { local: 0, remote: '80' }], ['0:http', { local: 0, remote: 'http' }]])('%s', (text, want) => {
    expect(parsePortSpec(text)).toEqual(want)
  })
  it('refuses bad ports, unknown kinds and non-loopback addresses with usage errors', () => {
    for (const bad of ['http', '8080:70000', 'a:b:c', '70000:80']) expect(() => parsePortSpec(bad)).toThrow(expect.objectContaining({ code: 'KPE_USAGE' }))
    expect(parseForwardResource('svc/web')).toEqual({ kind: 'svc', name: 'web' })
    expect(parseForwardResource('web-1')).toEqual({ kind: 'pod', name: 'web-1' })
    expect(() => parseForwardResource('deploy/web')).toThrow(expect.objectContaining({ code: 'KPE_USAGE' }))
    expect(parseListenAddress('localhost')).toBe('127.0.0.1')
    for (const bad of ['0.0.0.0', '192.168.1.5', '::']) expect(() => parseListenAddress(bad)).toThrow(expect.objectContaining({ code: 'KPE_USAGE' }))
  })
})
