/**
 * The node-failure lab (docs/labs/node-failure.md) against the real `kpe up` with short flags:
 * `kpe node stop` crashes node-b, its Lease stops being renewed, the node turns NotReady with
 * the unreachable taints, its endpoint turns not ready and leaves node-a's rules, its pod is
 * evicted and recreated elsewhere; `kpe node start` brings it back and the taints go. Then the
 * event views with kubectl 1.32 and 1.33: get events, events --for, describe pod and node.
 */
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'
const needs = (what: string, present: boolean): boolean => {
  if (present) return true
  if (process.env['CI']) throw new Error(`${what} is required in CI`)
  console.warn(`skipping node-failure lab: ${what} is missing`)
  return false
}
const ready = needs('/usr/bin/kubectl', hasKubectl) && needs(kubectl133, existsSync(kubectl133))

let up: KpeUp | undefined
beforeAll(async () => {
  if (!ready) return
  up = await startKpeUp([], ['--node-monitor-grace-period', '3s', '--default-unreachable-toleration-seconds', '2'])
}, 40_000)
afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
})

async function ok(...args: string[]): Promise<string> {
  const r = await up!.kubectl(...args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}
async function ok133(...args: string[]): Promise<string> {
  const r = await run(kubectl133, ['--kubeconfig', up!.kubeconfig, ...args])
  if (r.code !== 0) throw new Error(`kubectl 1.33 ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}
async function kpe(...args: string[]): Promise<string> {
  const r = await run(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args, '--data-dir', up!.dataDir])
  if (r.code !== 0) throw new Error(`kpe ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

interface PodRow { name: string; node: string; ip: string; terminating: boolean }
async function webPods(): Promise<PodRow[]> {
  const list = JSON.parse(await ok('get', 'pods', '-l', 'app=web', '-o', 'json')) as { items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { podIP?: string } }[] }
  return list.items.map((p) => ({ name: p.metadata.name, node: p.spec.nodeName ?? '', ip: p.status.podIP ?? '', terminating: p.metadata.deletionTimestamp !== undefined }))
}

describe.runIf(ready)('node-failure lab', () => {
  it('a crashed node goes NotReady, loses its endpoints and pods, and comes back', async () => {
    await ok('create', 'deployment', 'web', '--image=registry.k8s.io/e2e-test-images/agnhost:2.53', '--replicas=3', '--port=8080', '--', '/agnhost', 'netexec', '--http-port=8080')
    await ok('expose', 'deployment', 'web', '--port=80', '--target-port=8080')
    const before = await eventually('three running web pods, one per node', async () => {
      const pods = await webPods()
      return pods.length === 3 && pods.every((p) => p.ip) && new Set(pods.map((p) => p.node)).size === 3 ? pods : undefined
    })
    const victim = before.find((p) => p.node === 'node-b')!
    await eventually("node-a's rules reach the pod on node-b", async () => ((await kpe('rules', '--live', '--node', 'node-a')).includes(`${victim.ip}:8080`) ? true : undefined))
    const renewedBefore = JSON.parse(await ok('get', 'lease', '-n', 'kube-node-lease', 'node-b', '-o', 'json')) as { spec: { renewTime: string; holderIdentity: string } }
    expect(renewedBefore.spec.holderIdentity).toBe('node-b')

    const unknown = await run(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'node', 'stop', 'node-x', '--data-dir', up!.dataDir])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/no such node "node-x"; nodes: node-a, node-b, node-c/)
    expect(await kpe('node', 'stop', 'node-b')).toMatch(/node node-b stopped/)
    expect(await kpe('node', 'list')).toMatch(/node-b\tstopped/)
    // The API server cannot reach node-b's kubelet: exec, port-forward and logs fail as kube-apiserver's dial does.
    const exec = await up!.kubectl('exec', victim.name, '--', 'echo', 'hi')
    expect(exec.code).not.toBe(0)
    expect(exec.stderr).toMatch(/error dialing backend: dial tcp [\d.]+:10250: connect: connection refused/)
    const forward = await up!.kubectl('port-forward', `pod/${victim.name}`, '0:8080')
    expect(forward.code).not.toBe(0)
    expect(forward.stderr).toMatch(/error upgrading connection: error dialing backend: dial tcp [\d.]+:10250: connect: connection refused/)
    const logs = await up!.kubectl('logs', victim.name)
    expect(logs.code).not.toBe(0)
    expect(logs.stderr).toMatch(new RegExp(`Get "https://[\\d.]+:10250/containerLogs/default/${victim.name}/agnhost": dial tcp [\\d.]+:10250: connect: connection refused`))
    // The Lease is no longer renewed...
    await new Promise((r) => setTimeout(r, 1500))
    const renewedAfter = JSON.parse(await ok('get', 'lease', '-n', 'kube-node-lease', 'node-b', '-o', 'json')) as { spec: { renewTime: string } }
    const lease1 = renewedAfter.spec.renewTime
    await new Promise((r) => setTimeout(r, 1200))
    expect((JSON.parse(await ok('get', 'lease', '-n', 'kube-node-lease', 'node-b', '-o', 'json')) as { spec: { renewTime: string } }).spec.renewTime).toBe(lease1)
    // ...so the node turns NotReady (Unknown) with the unreachable taints.
    const node = await eventually('node-b NotReady', async () => {
      const n = JSON.parse(await ok('get', 'node', 'node-b', '-o', 'json')) as { spec: { taints?: { key: string; effect: string }[] }; status: { conditions: { type: string; status: string; message?: string }[] } }
      return n.status.conditions.find((c) => c.type === 'Ready')?.status === 'Unknown' && (n.spec.taints ?? []).length === 2 ? n : undefined
    })
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.message).toBe('Kubelet stopped posting node status.')
    expect(node.spec.taints).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }),
      expect.objectContaining({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }),
    ]))
    expect(await ok('get', 'nodes')).toMatch(/node-b\s+NotReady/)
    // Its endpoint leaves the other nodes' rules, and its pod is replaced on a healthy node.
    await eventually("the pod on node-b gone from node-a's rules", async () => (!(await kpe('rules', '--live', '--node', 'node-a')).includes(`${victim.ip}:8080`) ? true : undefined))
    const after = await eventually('three live web pods on node-a and node-c', async () => {
      const live = (await webPods()).filter((p) => !p.terminating && p.name !== victim.name)
      return live.length === 3 && live.every((p) => p.node !== 'node-b' && p.ip) ? live : undefined
    })
    expect(after.map((p) => p.name)).not.toContain(victim.name)
    const reasons = await ok('get', 'events', '--field-selector', `involvedObject.name=${victim.name}`, '-o', 'jsonpath={.items[*].reason}')
    expect(reasons.split(' ')).toEqual(expect.arrayContaining(['NodeNotReady', 'TaintManagerEviction']))
    expect(await ok('get', 'events', '--field-selector', 'involvedObject.kind=Node,involvedObject.name=node-b,reason=NodeNotReady', '-o', 'jsonpath={.items[*].message}')).toBe('Node node-b status is now: NodeNotReady')

    expect(await kpe('node', 'start', 'node-b')).toMatch(/node node-b started/)
    await eventually('node-b Ready without taints', async () => {
      const n = JSON.parse(await ok('get', 'node', 'node-b', '-o', 'json')) as { spec: { taints?: unknown[] }; status: { conditions: { type: string; status: string }[] } }
      return n.status.conditions.find((c) => c.type === 'Ready')?.status === 'True' && (n.spec.taints ?? []).length === 0 ? true : undefined
    })
    await eventually('the evicted pod removed by the restarted kubelet', async () => ((await webPods()).some((p) => p.name === victim.name) ? undefined : true))
  }, 60_000)

  it.each([['1.32', ok], ['1.33', ok133]] as const)('kubectl %s shows events: get events, events --for, describe pod and node', async (_v, k) => {
    const pod = (await webPods()).find((p) => !p.terminating)!
    expect(await k('get', 'events')).toMatch(/Scheduled\s+pod\/web-/)
    const forPod = await k('events', '--for', `pod/${pod.name}`)
    for (const reason of ['Scheduled', 'Pulled', 'Created', 'Started']) expect(forPod).toMatch(new RegExp(`Normal\\s+${reason}\\s+Pod/${pod.name}`))
    expect(forPod).not.toMatch(/ReplicaSet\//)
    const describePod = await k('describe', 'pod', pod.name)
    expect(describePod).toMatch(new RegExp(`Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned default/${pod.name} to ${pod.node}`))
    expect(describePod).toMatch(/Normal\s+Pulled\s+\S+\s+kubelet\s+/)
    expect(describePod).toMatch(/Normal\s+Started\s+\S+\s+kubelet\s+Started container agnhost/)
    expect(describePod).toMatch(/node\.kubernetes\.io\/unreachable:NoExecute op=Exists for 2s/)
    expect(await k('describe', 'deployment', 'web')).toMatch(/Normal\s+ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set web-[a-z0-9]+ from 0 to 3/)
    expect(await k('describe', 'replicaset', '-l', 'app=web')).toMatch(/Normal\s+SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: web-/)
    const describeNode = await k('describe', 'node', 'node-a')
    expect(describeNode).not.toMatch(/Failed to get lease/)
    expect(describeNode).toMatch(/HolderIdentity:\s+node-a/)
    const year = String(new Date().getUTCFullYear())
    expect(describeNode).toMatch(new RegExp(`RenewTime:\\s+\\w{3}, \\d{2} \\w{3} ${year}`))
    expect(describeNode).toMatch(new RegExp(`Ready\\s+True\\s+\\w{3}, \\d{2} \\w{3} ${year} [\\d:]+ \\+0000\\s+\\w{3}, \\d{2} \\w{3} ${year} [\\d:]+ \\+0000\\s+KubeletReady`))
    expect(describeNode).not.toMatch(/0001/)
    expect(describeNode).toMatch(/RegisteredNode\s+\S+\s+node-controller\s+Node node-a event: Registered Node node-a in Controller/)
  }, 30_000)
})
