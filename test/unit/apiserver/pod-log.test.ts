/**
 * pods/log on the API server (memory store, port 0) with a backend over real container logs:
 * options as PodLogOptions (400/422 as upstream), the container choice, the node's answers as
 * Status, text/plain streaming, and a following client that leaves releasing its follower.
 */
import { request } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ApiError, parsePodLogQuery, type PodLogBackend, type PodLogPod, type PodLogRequest } from '../../../src/apiserver/index.js'
import { ContainerLog, readContainerLog } from '../../../src/kubelet/index.js'
import { apiServerPerTest } from '../../helpers/api-server.js'

const api = apiServerPerTest()

function podObject(name: string, containers: string[], nodeName?: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: 'nginx' })) } }
}

class FakeNode implements PodLogBackend {
  readonly logs = new Map<string, ContainerLog>()
  readonly asked: { pod: PodLogPod; request: PodLogRequest }[] = []
  async open(pod: PodLogPod, r: PodLogRequest) {
    this.asked.push({ pod, request: r })
    if (r.previous) throw new ApiError(400, 'BadRequest', `previous terminated container "${r.container}" in pod "${pod.name}" not found`)
    const log = this.logs.get(`${pod.name}/${r.container}`)
    if (!log) throw new ApiError(404, 'NotFound', 'no such log')
    return readContainerLog(log, { follow: r.follow, timestamps: r.timestamps, ...(r.tailLines === undefined ? {} : { tailLines: r.tailLines }) })
  }
}

async function setup(): Promise<{ url: string; node: FakeNode }> {
  const node = new FakeNode()
  const url = await api.start({ podLogs: node })
  await api.store.create('pods', podObject('one', ['web'], 'node-a') as never)
  await api.store.create('pods', podObject('two', ['web', 'side'], 'node-a') as never)
  await api.store.create('pods', podObject('pending', ['web']) as never)
  const log = new ContainerLog({ now: () => 0 })
  log.write('stdout', 'a\nb\nc\n')
  node.logs.set('one/web', log)
  node.logs.set('two/side', log)
  return { url, node }
}

const logUrl = (url: string, pod: string, query = ''): string => `${url}/api/v1/namespaces/default/pods/${pod}/log${query}`

describe('pods/log', () => {
  it('streams the only container as text/plain, with tailLines passed to the node', async () => {
    const { url, node } = await setup()
    const res = await fetch(logUrl(url, 'one', '?tailLines=2&timestamps=false'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/plain')
    expect(await res.text()).toBe('b\nc\n')
    expect(node.asked[0]).toMatchObject({ pod: { namespace: 'default', name: 'one', uid: 'uid-one', nodeName: 'node-a' }, request: { container: 'web', tailLines: 2, follow: false } })
  })

  it('requires a container name for a pod with several, in upstream words', async () => {
    const { url } = await setup()
    const res = await fetch(logUrl(url, 'two'))
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest', message: 'a container name must be specified for pod two, choose one of: [web side]' })
    const bad = await fetch(logUrl(url, 'two', '?container=nope'))
    expect(await bad.json()).toMatchObject({ code: 400, message: 'container nope is not valid for pod two' })
    expect(await (await fetch(logUrl(url, 'two', '?container=side'))).text()).toBe('a\nb\nc\n')
  })

  it('answers the node refusal and a missing pod as Status objects', async () => {
    const { url } = await setup()
    const prev = await fetch(logUrl(url, 'one', '?previous=true'))
    expect(prev.status).toBe(400)
    expect(await prev.json()).toMatchObject({ reason: 'BadRequest', message: 'previous terminated container "web" in pod "one" not found' })
    const missing = await fetch(logUrl(url, 'gone'))
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ reason: 'NotFound', details: { name: 'gone', kind: 'pods' } })
    expect(await (await fetch(logUrl(url, 'pending'))).text()).toBe('')
  })

  it('rejects out-of-range options with 422 on PodLogOptions and unreadable ones with 400', async () => {
    const { url } = await setup()
    const res = await fetch(logUrl(url, 'one', '?tailLines=-1&limitBytes=0&sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z'))
    expect(res.status).toBe(422)
    const status = await res.json() as { details: { kind: string; causes: { field: string }[] } }
    expect(status.details.kind).toBe('PodLogOptions')
    expect(status.details.causes.map((c) => c.field)).toEqual(['tailLines', 'limitBytes', ''])
    expect((await fetch(logUrl(url, 'one', '?follow=maybe'))).status).toBe(400)
    expect((await fetch(logUrl(url, 'one', '?sinceTime=yesterday'))).status).toBe(400)
    expect(() => parsePodLogQuery(new URLSearchParams('sinceSeconds=0'), 'p')).toThrow(/sinceSeconds: Invalid value: 0: must be greater than 0/)
  })

  it('follows until the client leaves, then the node side forgets the follower', async () => {
    const { url, node } = await setup()
    const log = node.logs.get('one/web')!
    const first = await new Promise<string>((resolve, reject) => {
      const req = request(logUrl(url, 'one', '?follow=true&tailLines=0'), (res) => {
        res.setEncoding('utf8')
        res.once('data', (d: string) => { resolve(d); req.destroy() })
      })
      req.on('error', () => {})
      req.once('response', () => log.write('stdout', 'live\n'))
      req.end()
      setTimeout(() => reject(new Error('no data')), 3000)
    })
    expect(first).toBe('live\n')
    for (let i = 0; i < 50 && log.followerCount > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(log.followerCount).toBe(0)
  })

  it('turns any query into options or a 400/422 Status, never another failure (fuzz)', () => {
    const keys = ['container', 'follow', 'previous', 'timestamps', 'sinceSeconds', 'sinceTime', 'tailLines', 'limitBytes', 'stream', 'x']
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -5, max: 5 }).map(String), fc.constantFrom('true', 'False', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.5+02:00', '1e3', '99999999999999999999'))
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 6 }), (pairs) => {
      const params = new URLSearchParams(pairs)
      try {
        const q = parsePodLogQuery(params, 'p')
        if (q.tailLines !== undefined) expect(q.tailLines).toBeGreaterThanOrEqual(0)
        if (q.limitBytes !== undefined) expect(q.limitBytes).toBeGreaterThan(0)
        expect(q.sinceSeconds !== undefined && q.sinceTimeMs !== undefined).toBe(false)
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError)
        expect([400, 422]).toContain((e as ApiError).code)
      }
    }), { seed: 4242, numRuns: 500 })
  })
})
