/**
 * One node's kubelet: watches the pods bound to its node, runs each as local servers (one per
 * container port, on 127.0.0.1), gives it an IP from the node's pod CIDR, records podIP:port ->
 * loopback address in the pod network table, runs readiness probes and reports status. On
 * graceful deletion the pod keeps serving (terminating) for its grace period, then stops.
 */
import { objectKey, type Pod, type PodCondition } from '../api/index.js'
import { assignPodIP, ipFamily, type L4Proto } from '../net/index.js'
import { startExecContainer, type ExecHandle } from './exec-container.js'
import { ListWatcher, type ObjectSource } from '../client/index.js'
import type { Timers, TimerHandle } from '../runtime/index.js'
import { containerPlan } from './pod-behaviour.js'
import { podExit, type ContainerExit } from './container-exit.js'
import type { PodNetworkTable } from './pod-network-table.js'
import type { PodIdentity } from './pod-replies.js'
import { startPodServer, type RunningServer } from './pod-server.js'
import { ProbeRunner, type Prober } from './probe-runner.js'
import { readinessProbeSpec } from './readiness.js'
import type { SeenSourceTable } from './seen-source-table.js'

export type PodSource = ObjectSource<Pod>

export type PodStatus = NonNullable<Pod['status']>

const statusRetryMs = 1000

export interface PodStatusWriter {
  writeStatus(pod: Pod, status: PodStatus): Promise<void>
  /** Every container stopped after a graceful deletion: remove the object (grace period 0). */
  finalizeDeletion(pod: Pod): Promise<void>
}

export interface KubeletNode {
  readonly name: string
  readonly podCIDRs: readonly string[]
  readonly hostIP?: string
}

export interface KubeletOptions {
  readonly node: KubeletNode
  readonly pods: PodSource
  readonly status: PodStatusWriter
  readonly network: PodNetworkTable
  readonly seen: SeenSourceTable
  readonly timers: Timers
  readonly clock: { now(): number }
  readonly prober: Prober
  /** Run manifests' `command` as real processes. Unsafe on shared machines. */
  readonly allowExec?: boolean
  /** Upper bound for graceful termination, in seconds (default: none). */
  readonly maxGracePeriodSeconds?: number
  readonly log?: (line: string) => void
}

type Phase = 'starting' | 'running' | 'terminating' | 'stopped'

interface RunningPod {
  pod: Pod
  phase: Phase
  ip: string
  servers: RunningServer[]
  execs: ExecHandle[]
  probes: ProbeRunner[]
  graceTimer: TimerHandle | undefined
  /** Set when every container ends by itself (a Job's): the moment the Pod finishes. */
  exitTimer?: TimerHandle
  /** Serializes start/terminate/stop for one pod. */
  chain: Promise<void>
}

export class Kubelet {
  readonly #o: KubeletOptions
  readonly #pods = new Map<string, RunningPod>()
  readonly #watcher: ListWatcher<Pod>

  constructor(opts: KubeletOptions) {
    this.#o = opts
    this.#watcher = new ListWatcher(opts.pods, { change: (prev, cur) => this.#onChange(prev, cur), error: (e) => this.#log(`pod watch: ${e instanceof Error ? e.message : String(e)}`) }, { timers: opts.timers, kind: 'Pod' })
  }

  get nodeName(): string {
    return this.#o.node.name
  }

  async start(): Promise<void> {
    await this.#watcher.start()
  }

  /** Stops watching and every pod at once (no grace: the node is going away). */
  async stop(): Promise<void> {
    this.#watcher.stop()
    await Promise.all([...this.#pods.values()].map((rp) => this.#enqueue(rp, () => this.#teardown(rp, 0))))
  }

  /** Resolves when every queued pod operation has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.#pods.values()].map((rp) => rp.chain))
  }

  runningPods(): { pod: string; ip: string; phase: Phase }[] {
    return [...this.#pods.entries()].map(([pod, rp]) => ({ pod, ip: rp.ip, phase: rp.phase }))
  }

  #log(line: string): void {
    this.#o.log?.(`kubelet ${this.#o.node.name}: ${line}`)
  }

  #onChange(_prev: Pod | undefined, cur: Pod | undefined): void {
    const key = objectKey(cur ?? _prev!)
    const rp = this.#pods.get(key)
    if (!cur || cur.spec.nodeName !== this.#o.node.name) {
      if (rp) void this.#enqueue(rp, () => this.#teardown(rp, 0))
      return
    }
    if (!rp) {
      if (cur.metadata.deletionTimestamp !== undefined || cur.status?.phase === 'Succeeded' || cur.status?.phase === 'Failed') return
      const fresh: RunningPod = { pod: cur, phase: 'starting', ip: '', servers: [], execs: [], probes: [], graceTimer: undefined, chain: Promise.resolve() }
      this.#pods.set(key, fresh)
      void this.#enqueue(fresh, () => this.#startPod(fresh))
      return
    }
    rp.pod = cur
    if (cur.metadata.deletionTimestamp !== undefined && rp.phase !== 'terminating' && rp.phase !== 'stopped') {
      void this.#enqueue(rp, () => this.#beginTermination(rp))
    }
  }

  #enqueue(rp: RunningPod, op: () => Promise<void>): Promise<void> {
    rp.chain = rp.chain.then(op).catch((e: unknown) => this.#log(`${objectKey(rp.pod)}: ${e instanceof Error ? e.message : String(e)}`))
    return rp.chain
  }

  #inUseIPs(): Set<string> {
    return new Set([...this.#pods.values()].map((p) => p.ip).filter((ip) => ip !== ''))
  }

  async #startPod(rp: RunningPod): Promise<void> {
    if (rp.phase !== 'starting') return
    const pod = rp.pod
    const cidr = this.#o.node.podCIDRs[0]
    const ip = cidr ? assignPodIP(cidr, this.#inUseIPs(), pod.status?.podIP) : undefined
    if (!ip) {
      this.#log(`${objectKey(pod)}: no free address in pod CIDR ${cidr ?? '(none)'}`)
      rp.phase = 'stopped'
      this.#pods.delete(objectKey(pod))
      return
    }
    rp.ip = ip
    const identity: PodIdentity = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', podIP: ip, node: this.#o.node.name }
    for (const c of pod.spec.containers) {
      const plan = containerPlan(c, { allowExec: this.#o.allowExec ?? false })
      if (plan.behaviour.kind === 'none') continue
      if (plan.behaviour.kind === 'exec') {
        rp.execs.push(startExecContainer(plan.behaviour.argv, identity, {}))
        for (const p of plan.ports) this.#register(ip, p.port, p.proto, { address: '127.0.0.1', port: p.port }, identity)
        continue
      }
      for (const p of plan.ports) {
        const server = await startPodServer({ behaviour: plan.behaviour, proto: p.proto, pod: identity, seen: this.#o.seen })
        rp.servers.push(server)
        this.#register(ip, p.port, p.proto, server.local, identity)
      }
    }
    rp.phase = 'running'
    for (const c of pod.spec.containers) {
      const spec = readinessProbeSpec(c)
      if (!spec) continue
      const runner = new ProbeRunner(spec, () => this.#o.prober(spec.action, ip, spec.timeoutMs), this.#o.timers, () => void this.#enqueue(rp, () => this.#report(rp)))
      rp.probes.push(runner)
      runner.start()
    }
    this.#log(`${objectKey(pod)} running as ${ip}`)
    await this.#report(rp)
    const exit = podExit(pod.spec.containers, pod.spec.restartPolicy as string | undefined)
    if (exit) rp.exitTimer = this.#o.timers.setTimeout(() => void this.#enqueue(rp, () => this.#finish(rp, exit.exits)), exit.afterMs)
    if (pod.metadata.deletionTimestamp !== undefined) await this.#beginTermination(rp)
  }

  #register(ip: string, port: number, proto: L4Proto, local: { address: string; port: number }, pod: PodIdentity): void {
    this.#o.network.set(ip, port, proto, { local, pod: `${pod.namespace}/${pod.name}`, node: pod.node })
  }

  #ready(rp: RunningPod): boolean {
    return rp.phase !== 'stopped' && rp.probes.every((p) => p.ready)
  }

  async #report(rp: RunningPod): Promise<void> {
    if (rp.phase === 'stopped' || rp.phase === 'starting') return
    const now = new Date(this.#o.clock.now()).toISOString()
    const ready = this.#ready(rp)
    // a condition keeps its transition time while its status stays (minReadySeconds counts from it)
    const since = (type: string, status: string): string => {
      const old = rp.pod.status?.conditions?.find((c) => c.type === type)
      return old && old.status === status && typeof old['lastTransitionTime'] === 'string' ? old['lastTransitionTime'] : now
    }
    const cond = (type: string, ok: boolean): PodCondition => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: since(type, ok ? 'True' : 'False') })
    const status: PodStatus = {
      ...(rp.pod.status ?? {}),
      phase: 'Running',
      podIP: rp.ip,
      podIPs: [{ ip: rp.ip }],
      ...(this.#o.node.hostIP ? { hostIP: this.#o.node.hostIP, hostIPs: [{ ip: this.#o.node.hostIP }] } : {}),
      startTime: (rp.pod.status?.['startTime'] as string | undefined) ?? now,
      conditions: [cond('PodReadyToStartContainers', true), cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', true)],
      // imageID and containerID are required of a status by typed clients (the Python client
      // refuses a null imageID); kpe pulls no image, so the image ID stays empty as for a waiting container.
      containerStatuses: rp.pod.spec.containers.map((c) => ({
        name: c.name, image: c.image ?? '', imageID: '', containerID: `kpe://${rp.pod.metadata.uid ?? ''}-${c.name}`,
        ready, started: true, restartCount: 0, state: { running: { startedAt: now } },
      })),
    }
    try {
      await this.#o.status.writeStatus(rp.pod, status)
    } catch (err) {
      // Like the kubelet's status manager: a failed write is retried later, never dropped.
      this.#log(`${objectKey(rp.pod)}: status write failed, retrying in 1s: ${err instanceof Error ? err.message : String(err)}`)
      this.#o.timers.setTimeout(() => void this.#enqueue(rp, () => this.#report(rp)), statusRetryMs)
    }
  }

  /** Every container exited: the Pod is Succeeded (all 0) or Failed, its address freed. */
  async #finish(rp: RunningPod, exits: readonly ContainerExit[]): Promise<void> {
    if (rp.phase !== 'running') return
    const now = new Date(this.#o.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z')
    const ok = exits.every((e) => e.exitCode === 0)
    const started = (rp.pod.status?.['startTime'] as string | undefined) ?? now
    const notReady = (type: string): PodCondition => ({ type, status: 'False', reason: 'PodCompleted', lastTransitionTime: now })
    const status: PodStatus = {
      ...(rp.pod.status ?? {}),
      phase: ok ? 'Succeeded' : 'Failed',
      conditions: [{ type: 'PodReadyToStartContainers', status: 'False', lastTransitionTime: now }, { type: 'Initialized', status: 'True', reason: 'PodCompleted', lastTransitionTime: started }, notReady('Ready'), notReady('ContainersReady'), { type: 'PodScheduled', status: 'True', lastTransitionTime: started }],
      containerStatuses: rp.pod.spec.containers.map((c, i) => {
        const code = exits[i]?.exitCode ?? 0
        return {
          name: c.name, image: c.image ?? '', imageID: '', containerID: `kpe://${rp.pod.metadata.uid ?? ''}-${c.name}`, ready: false, started: false, restartCount: 0,
          state: { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: started, finishedAt: now, containerID: `kpe://${rp.pod.metadata.uid ?? ''}-${c.name}` } },
        }
      }),
    }
    this.#log(`${objectKey(rp.pod)} ${ok ? 'succeeded' : 'failed'} (exit codes ${exits.map((e) => e.exitCode).join(',')})`)
    // the status first: a Pod torn down while the object still said Running would be started again
    await this.#o.status.writeStatus(rp.pod, status)
    await this.#teardown(rp, 0)
  }

  async #beginTermination(rp: RunningPod): Promise<void> {
    if (rp.phase !== 'running') return
    rp.phase = 'terminating'
    const spec = rp.pod.metadata.deletionGracePeriodSeconds ?? rp.pod.spec.terminationGracePeriodSeconds ?? 30
    const grace = Math.min(spec, this.#o.maxGracePeriodSeconds ?? Infinity)
    this.#log(`${objectKey(rp.pod)} terminating, serving for ${grace}s`)
    rp.graceTimer = this.#o.timers.setTimeout(() => void this.#enqueue(rp, async () => {
      await this.#teardown(rp, grace * 1000)
      await this.#o.status.finalizeDeletion(rp.pod)
    }), grace * 1000)
  }

  async #teardown(rp: RunningPod, execGraceMs: number): Promise<void> {
    if (rp.phase === 'stopped') return
    rp.phase = 'stopped'
    if (rp.graceTimer) this.#o.timers.clearTimeout(rp.graceTimer)
    if (rp.exitTimer) this.#o.timers.clearTimeout(rp.exitTimer)
    for (const p of rp.probes) p.stop()
    if (rp.ip) this.#o.network.removeIP(rp.ip)
    await Promise.all([...rp.servers.map((s) => s.close()), ...rp.execs.map((e) => e.stop(execGraceMs))])
    this.#pods.delete(objectKey(rp.pod))
    this.#log(`${objectKey(rp.pod)} stopped`)
  }
}

export function kubeletNodeFrom(node: { metadata: { name?: string }; spec?: { podCIDR?: string; podCIDRs?: string[] }; status?: { addresses?: { type: string; address: string }[] } }): KubeletNode {
  const podCIDRs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])
  const hostIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address
  return { name: node.metadata.name ?? '', podCIDRs: [...podCIDRs].sort((a, b) => (ipFamily(a) === 'IPv4' ? -1 : 0) - (ipFamily(b) === 'IPv4' ? -1 : 0)), ...(hostIP ? { hostIP } : {}) }
}
