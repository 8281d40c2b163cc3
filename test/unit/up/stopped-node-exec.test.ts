/**
 * exec, attach, port-forward and logs of a pod on a node stopped with `kpe node stop`: the API server cannot
 * reach that kubelet, so it answers 500 "error dialing backend: dial tcp ADDRESS:10250: connect:
 * connection refused" before any upgrade (logs: the failed GET of the kubelet's containerLogs URL),
 * as kube-apiserver does; after `kpe node start` exec runs again.
 */
import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Node, Pod } from '../../../src/api/index.js'
import { ApiServer, portForwardProtocol } from '../../../src/apiserver/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'
import { EphemeralPorts } from '../../../src/up/ephemeral-ports.js'
import { kubeletDialRefusal } from '../../../src/up/kubelet-reachability.js'
import { KubeletPodLogs } from '../../../src/up/pod-log-backend.js'
import { PodNetworkPortForward } from '../../../src/up/port-forward-backend.js'
import { podExecWiring } from '../../../src/up/pod-exec-wiring.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
  server = store = undefined
})

const node = (name: string, ip: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } }) as Node
const pod = (name: string, nodeName: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: randomUUID() },
  spec: { nodeName, containers: [{ name: 'c' }] }, status: { phase: 'Running', podIP: '10.244.0.7' },
}) as Pod

/** The exec's stdout, or the refusal's HTTP status and Status body. */
function exec(base: string, podName: string, kind: 'exec' | 'attach' = 'exec'): Promise<{ stdout: string } | { status: number; body: { reason?: string; message?: string; code?: number } }> {
  return new Promise((resolve, reject) => {
    const q = kind === 'exec' ? 'command=echo&command=hi&stdout=1' : 'stdout=1'
    const ws = new WebSocket(`${base}/api/v1/namespaces/default/pods/${podName}/${kind}?${q}`, 'v5.channel.k8s.io')
    let stdout = ''
    ws.on('message', (d: Buffer) => { if (d[0] === 1) stdout += d.subarray(1).toString() })
    ws.on('close', () => resolve({ stdout }))
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as never }))
    })
    ws.on('error', (e) => { if (!String(e.message).includes('Unexpected server response')) reject(e) })
  })
}

/** kubectl port-forward's SPDY upgrade: 101, or the refusal's status and Status body. */
function portForwardUpgrade(url: string, podName: string): Promise<{ status: number; body?: { message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/namespaces/default/pods/${podName}/portforward`, { method: 'POST', headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': portForwardProtocol } })
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0 }) })
    req.on('response', (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as never }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('exec, attach, port-forward and logs on a stopped node', () => {
  it('answer 500 with the refused kubelet dial naming the node address, only for pods on the stopped node, until it starts again', async () => {
    store = await openMemoryStore()
    await store.create('nodes', node('node-a', '172.18.0.2') as never)
    await store.create('nodes', node('node-b', 'fd00::3') as never)
    for (const [p, n] of [['on-a', 'node-a'], ['on-b', 'node-b']] as const) await store.create('pods', pod(p, n) as never)
    const stopped = new Set<string>()
    const wiring = podExecWiring(new EphemeralPorts(), () => store!)
    const s = store
    const reachability = kubeletDialRefusal({ stoppedNodes: () => [...stopped] }, (name) => s.get({ resource: 'nodes', namespace: '', name }) as unknown as Node | undefined)
    wiring.backend.useKubeletReachability(reachability)
    const podLogs = new KubeletPodLogs()
    podLogs.attach(new Map(), reachability)
    const portForward = new PodNetworkPortForward(new EphemeralPorts())
    portForward.useKubeletReachability(reachability)
    server = await ApiServer.start({ store, port: 0, remoteCommand: wiring.backend, podLogs, portForward })
    const base = server.url.replace('http', 'ws')

    expect(await exec(base, 'on-a')).toEqual({ stdout: 'hi\n' })
    stopped.add('node-a')
    expect(await exec(base, 'on-a')).toEqual({ status: 500, body: expect.objectContaining({ reason: 'InternalError', code: 500, message: 'error dialing backend: dial tcp 172.18.0.2:10250: connect: connection refused' }) })
    expect(await exec(base, 'on-a', 'attach')).toMatchObject({ status: 500 })
    expect(await portForwardUpgrade(server.url, 'on-a')).toMatchObject({ status: 500, body: { message: 'error dialing backend: dial tcp 172.18.0.2:10250: connect: connection refused' } })
    expect(await portForwardUpgrade(server.url, 'on-b')).toEqual({ status: 101 })
    const logs = await fetch(`${server.url}/api/v1/namespaces/default/pods/on-a/log`)
    expect(logs.status).toBe(500)
    expect(await logs.json()).toMatchObject({ reason: 'InternalError', message: 'Get "https://172.18.0.2:10250/containerLogs/default/on-a/c": dial tcp 172.18.0.2:10250: connect: connection refused' })
    expect(await exec(base, 'on-b')).toEqual({ stdout: 'hi\n' })
    stopped.add('node-b')
    expect(await exec(base, 'on-b')).toMatchObject({ status: 500, body: { message: 'error dialing backend: dial tcp [fd00::3]:10250: connect: connection refused' } })
    stopped.clear()
    expect(await exec(base, 'on-a')).toEqual({ stdout: 'hi\n' })
  })
})
