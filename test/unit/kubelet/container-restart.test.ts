/** Liveness failures restart a container with back-off; status, logs and `previous` follow the instances. */
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { Kubelet, PodNetworkTable, SeenSourceTable, type PodStatus } from '../../../src/kubelet/index.js'
import { MemoryObjectSource } from '../../../src/client/index.js'
import { FakeTimers } from './fake-timers.js'

const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', uid: 'uid-1' },
  spec: {
    nodeName: 'node-a',
    containers: [
      { name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }], livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 }, resources: { limits: { cpu: '1', memory: '64Mi' } } },
      { name: 'side', image: 'nginx:1.27', ports: [{ containerPort: 80 }] },
    ],
  },
}

function get(address: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: address, port, path, agent: false }, (res) => {
      let b = ''
      res.on('data', (c: Buffer) => (b += c.toString()))
      res.on('end', () => resolve(b))
    }).on('error', reject).end()
  })
}

const text = (k: Kubelet, container: string, previous: boolean): string => {
  const r = k.containerLog('default', 'web-1', container, previous)
  return r.kind === 'log' ? r.log.entries().map((e) => e.text).join('') : `ERROR ${r.code} ${r.message}`
}

let kubelet: Kubelet | undefined
afterEach(async () => { await kubelet?.stop() })

describe('container restarts', () => {
  it('restarts a container whose liveness probe fails: at once, then after 10 s of CrashLoopBackOff', async () => {
    const timers = new FakeTimers()
    timers.now = 1_000_000
    const statuses: PodStatus[] = []
    const events: { container: string; reason: string }[] = []
    let alive = true
    const network = new PodNetworkTable()
    kubelet = new Kubelet({
      node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'], hostIP: '192.168.77.10' },
      pods: new MemoryObjectSource<Pod>([pod]), network, seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
      prober: async () => alive,
      status: { async writeStatus(_p, s) { statuses.push(s) }, async finalizeDeletion() {} },
      // the restart story only (Pulling/Pulled/Created are kubelet's start events, tested in container-events)
      events: { recordEvent: (ref, reason) => { if (['Started', 'Unhealthy', 'Killing', 'BackOff'].includes(reason)) events.push({ container: /\{(.*)\}/.exec((ref as { fieldPath: string }).fieldPath)![1]!, reason }) } },
    })
    await kubelet.start()
    await kubelet.idle()
    const web = () => (statuses.at(-1)?.containerStatuses as Record<string, any>[])[0]!
    expect(statuses.at(-1)).toMatchObject({ qosClass: 'Burstable', hostIPs: [{ ip: '192.168.77.10' }], podIPs: [{ ip: '10.244.0.2' }] })
    expect(web()).toMatchObject({ restartCount: 0, started: true, lastState: {}, state: { running: {} } })
    const firstID = web()['containerID']
    const entry = network.lookup('10.244.0.2', 8080, 'tcp')!
    await get(entry.local.address, entry.local.port, '/hostname')
    expect(text(kubelet, 'web', false)).toMatch(/^kpe: emulated netexec serving 8080\/tcp\n(.|\n)*http 127\.0\.0\.1:\d+ "GET \/hostname HTTP\/1\.1" 200 5 "-"\n/)
    expect(text(kubelet, 'web', true)).toBe('ERROR 400 previous terminated container "web" in pod "web-1" not found')
    expect(kubelet.containerLog('default', 'other', 'web', false)).toEqual({ kind: 'error', code: 404, message: 'pod "other" does not exist' })
    expect(text(kubelet, 'nope', false)).toBe('ERROR 400 container "nope" in pod "web-1" is not available')

    alive = false
    await timers.advance(1000)
    await kubelet.idle()
    expect(web()).toMatchObject({ restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: 'Error', containerID: firstID } } })
    expect(web()['containerID']).not.toBe(firstID)
    expect(text(kubelet, 'web', true)).toContain('GET /hostname')
    expect(text(kubelet, 'web', false)).not.toContain('GET /hostname')

    await timers.advance(1000)
    await kubelet.idle()
    expect(web()).toMatchObject({ restartCount: 1, ready: false, started: false, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=web pod=web-1_default(uid-1)' } } })
    expect(statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False')
    // Waiting in back-off, `previous` is the instance that just ended (kubelet reads lastState).
    expect(text(kubelet, 'web', true)).toMatch(/serving 8080/)

    alive = true
    await timers.advance(9_999)
    await kubelet.idle()
    expect(web()['restartCount']).toBe(1)
    await timers.advance(1)
    await kubelet.idle()
    expect(web()).toMatchObject({ restartCount: 2, state: { running: {} } })
    expect((statuses.at(-1)?.containerStatuses as Record<string, any>[])[1]).toMatchObject({ name: 'side', restartCount: 0 })
    expect(events.map((e) => `${e.container} ${e.reason}`)).toEqual(['web Started', 'side Started', 'web Unhealthy', 'web Killing', 'web Started', 'web Unhealthy', 'web Killing', 'web BackOff', 'web Started'])
  })

  it('logs an --allow-exec process\'s stdout and stderr and records its exit code', async () => {
    const timers = new FakeTimers()
    const statuses: PodStatus[] = []
    const execPod: Pod = { ...pod, spec: { nodeName: 'node-a', restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox', command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }] } }
    kubelet = new Kubelet({
      node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'] }, allowExec: true,
      pods: new MemoryObjectSource<Pod>([execPod]), network: new PodNetworkTable(), seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
      prober: async () => true,
      status: { async writeStatus(_p, s) { statuses.push(s) }, async finalizeDeletion() {} },
    })
    await kubelet.start()
    for (let i = 0; i < 100; i++) {
      await kubelet.idle()
      const cs = (statuses.at(-1)?.containerStatuses as Record<string, any>[] | undefined)?.[0]
      if (cs?.['state']?.['terminated']) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect((statuses.at(-1)?.containerStatuses as Record<string, any>[])[0]).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } })
    expect(statuses.at(-1)?.phase).toBe('Failed')
    const r = kubelet.containerLog('default', 'web-1', 'job', false)
    expect(r.kind === 'log' ? r.log.entries().map((e) => `${e.stream} ${e.text}`).sort() : r).toEqual(['stderr err\n', 'stdout out\n'])
  })

  it('a restarted instance is unready until its readiness probe passes again', async () => {
    const timers = new FakeTimers()
    const statuses: PodStatus[] = []
    let alive = true
    const probed: Pod = { ...pod, spec: { nodeName: 'node-a', containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }],
      livenessProbe: { httpGet: { path: '/live', port: 80 }, periodSeconds: 1, failureThreshold: 1 },
      readinessProbe: { httpGet: { path: '/ready', port: 80 }, periodSeconds: 5 } }] } }
    kubelet = new Kubelet({
      node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'] },
      pods: new MemoryObjectSource<Pod>([probed]), network: new PodNetworkTable(), seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
      prober: async (action) => (action.kind === 'http' && action.path === '/live' ? alive : true),
      status: { async writeStatus(_p, s) { statuses.push(s) }, async finalizeDeletion() {} },
    })
    await kubelet.start()
    await kubelet.idle()
    await timers.advance(0)
    await kubelet.idle()
    const web = () => (statuses.at(-1)?.containerStatuses as Record<string, any>[])[0]!
    expect(web()).toMatchObject({ ready: true, restartCount: 0 })
    alive = false
    await timers.advance(1000)
    await kubelet.idle()
    alive = true
    expect(web()).toMatchObject({ ready: false, restartCount: 1, state: { running: {} } })
    await timers.advance(1)
    await kubelet.idle()
    expect(web()).toMatchObject({ ready: true, restartCount: 1 })
  })
})

describe('containers that end by themselves (Job pods)', () => {
  const jobPod = (restartPolicy: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'job-1', namespace: 'default', uid: 'uid-j' },
    spec: { nodeName: 'node-a', restartPolicy, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'sleep 1; exit 3'] }] },
  }) as Pod

  async function run(restartPolicy: string, ms: number): Promise<PodStatus> {
    const timers = new FakeTimers()
    timers.now = 1_000_000
    const statuses: PodStatus[] = []
    kubelet = new Kubelet({
      node: { name: 'node-a', podCIDRs: ['10.244.0.0/24'] },
      pods: new MemoryObjectSource<Pod>([jobPod(restartPolicy)]), network: new PodNetworkTable(), seen: new SeenSourceTable(), timers, clock: { now: () => timers.now },
      prober: async () => true,
      status: { async writeStatus(_p, s) { statuses.push(s) }, async finalizeDeletion() {} },
    })
    await kubelet.start()
    await kubelet.idle()
    await timers.advance(ms)
    await kubelet.idle()
    return statuses.at(-1)!
  }

  it('Never: the pod fails with the container\'s exit code', async () => {
    const s = await run('Never', 1500)
    expect(s.phase).toBe('Failed')
    expect((s.containerStatuses as Record<string, any>[])[0]).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } })
  })

  it('OnFailure: the container is restarted in place, then waits in CrashLoopBackOff', async () => {
    const s = await run('OnFailure', 2500)
    expect(s.phase).toBe('Running')
    expect((s.containerStatuses as Record<string, any>[])[0]).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 3 } }, state: { waiting: { reason: 'CrashLoopBackOff' } } })
  })
})
