/**
 * One node's kubelet: watches the pods bound to its node, runs each as local servers (one per
 * container port, on 127.0.0.1), gives it an IP from the node's pod CIDR, records podIP:port ->
 * loopback address in the pod network table, runs readiness probes and reports status. On
 * graceful deletion the pod keeps serving (terminating) for its grace period, then stops.
 */
import { objectKey, podQOSClass, type Container, type Pod, type PodCondition } from '../api/index.js'
import { assignPodIP, ipFamily, type L4Proto } from '../net/index.js'
import { ListWatcher, selectedObjects, type ObjectSource } from '../client/index.js'
import type { Timers, TimerHandle } from '../runtime/index.js'
import type { ContainerLog, ContainerLogLimits } from './container-log.js'
import { ContainerRunner, killedExitCode } from './container-runner.js'
import { apiTime, containerStatusOf, podPhase } from './container-status.js'
import { backOffMessage, decideRestart, type BackOffEntry } from './crash-loop-backoff.js'
import { discardEvents, type EventRecorder } from '../controllers/index.js'
import { containerEvents, probeFailureNote } from './container-events.js'
import { containerPlan } from './pod-behaviour.js'
import { expandContainerCommand } from './command-expansion.js'
import { containerEnvironment } from './toolbox/service-env.js'
import { podExit, type ContainerExit } from './container-exit.js'
import type { PodNetworkTable } from './pod-network-table.js'
import type { PodIdentity } from './pod-replies.js'
import { ProbeRunner, type Prober } from './probe-runner.js'
import { initialLivenessState, livenessProbeSpec, readinessProbeSpec, type ProbeSpec } from './readiness.js'
import type { SeenSourceTable } from './seen-source-table.js'
import type { PodSandboxes } from './pod-sandbox.js'

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
  /** Bounds of each container instance's log (default: defaultContainerLogLimits). */
  readonly logLimits?: ContainerLogLimits
  /** Where the kubelet records pod events (Pulled, Created, Started, Killing, Unhealthy). */
  readonly events?: EventRecorder
  /** Each pod's network beyond loopback (kpe up --dataplane kernel: a network namespace). */
  readonly sandboxes?: PodSandboxes
}

/** Where a log request is answered from, or why it cannot be (kubelet's wording; 400 as kubelet answers). */
export type ContainerLogLookup =
  | { readonly kind: 'log'; readonly log: ContainerLog }
  | { readonly kind: 'error'; readonly code: 400 | 404; readonly message: string }

type Phase = 'starting' | 'running' | 'terminating' | 'stopped'

interface RunningPod {
  pod: Pod
  phase: Phase
  ip: string
  containers: ContainerRunner[]
  /** Readiness probes, by container name. */
  probes: Map<string, ProbeRunner>
  /** Liveness probes of the running instances, by container name. */
  liveness: Map<string, ProbeRunner>
  backOff: Map<string, BackOffEntry>
  restartTimers: Set<TimerHandle>
  graceTimer: TimerHandle | undefined
  /** Set when every container ends by itself (a Job's): the moment the Pod finishes. */
  exitTimer?: TimerHandle
  /** Serializes start/terminate/stop for one pod. */
  chain: Promise<void>
  /** Set once the sandbox was asked for: teardown removes it. */
  sandbox?: PodIdentity
}

export class Kubelet {
  readonly #o: KubeletOptions
  readonly #pods = new Map<string, RunningPod>()
  readonly #watcher: ListWatcher<Pod>
  /** Images this kubelet has "pulled": later pods find them present, as on a real node. */
  readonly #images = new Set<string>()

  constructor(opts: KubeletOptions) {
    this.#o = opts
    // Its own pods only, as a kubelet's watch with spec.nodeName=NODE: at 100,000 pods each real
    // kubelet kept (and was called for) every pod of the cluster.
    const ownPods = selectedObjects(opts.pods, (p) => p.spec?.nodeName === opts.node.name)
    this.#watcher = new ListWatcher(ownPods, { change: (prev, cur) => this.#onChange(prev, cur), error: (e) => this.#log(`pod watch: ${e instanceof Error ? e.message : String(e)}`) }, { timers: opts.timers, kind: 'Pod' })
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
      // A pod deleted while this kubelet was down (evicted from a failed node) runs nothing here:
      // it is removed at once, as a restarted kubelet does, instead of at its grace period's end.
      if (cur.metadata.deletionTimestamp !== undefined) {
        void this.#o.status.finalizeDeletion(cur).catch((e: unknown) => this.#log(`${key}: ${e instanceof Error ? e.message : String(e)}`))
        return
      }
      if (cur.status?.phase === 'Succeeded' || cur.status?.phase === 'Failed') return
      const fresh: RunningPod = { pod: cur, phase: 'starting', ip: '', containers: [], probes: new Map(), liveness: new Map(), backOff: new Map(), restartTimers: new Set(), graceTimer: undefined, chain: Promise.resolve() }
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
    const identity = { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', podIP: ip, node: this.#o.node.name, uid: pod.metadata.uid ?? '' }
    await this.#setUpSandbox(rp, identity)
    // The kubelet has no Service list: $(VAR) in command/args sees the container's own env only.
    const withIP: Pod = { ...pod, status: { ...(pod.status ?? {}), podIP: ip, ...(this.#o.node.hostIP ? { hostIP: this.#o.node.hostIP } : {}) } }
    for (const declared of pod.spec.containers) {
      const c = expandContainerCommand(declared, containerEnvironment({ pod: withIP, container: declared, services: [], hostname: identity.name }))
      this.#recordStart(pod, declared)
      const runner: ContainerRunner = new ContainerRunner({
        container: c, plan: containerPlan(c, { allowExec: this.#o.allowExec ?? false }), pod: identity, seen: this.#o.seen, clock: this.#o.clock,
        register: (port, proto, local) => this.#register(ip, port, proto, local, identity),
        exited: (code) => void this.#enqueue(rp, () => this.#containerDied(rp, runner, `exited with code ${code}`)),
        ...(this.#o.logLimits ? { logLimits: this.#o.logLimits } : {}),
      })
      rp.containers.push(runner)
      await runner.start()
    }
    rp.phase = 'running'
    for (const c of pod.spec.containers) {
      this.#startReadiness(rp, c)
      this.#startLiveness(rp, c)
    }
    this.#log(`${objectKey(pod)} running as ${ip}`)
    await this.#report(rp)
    this.#armExit(rp)
    if (pod.metadata.deletionTimestamp !== undefined) await this.#beginTermination(rp)
  }

  get #events(): EventRecorder {
    return this.#o.events ?? discardEvents
  }

  /** Pulling/Pulled, Created, Started for one container, in the order a kubelet records them. */
  #recordStart(pod: Pod, c: Pod['spec']['containers'][number]): void {
    const image = c.image ?? ''
    const pullPolicy = typeof c['imagePullPolicy'] === 'string' ? c['imagePullPolicy'] : undefined
    for (const e of containerEvents(c.name, image, { present: this.#images.has(image), pullPolicy })) {
      this.#events.recordEvent(containerRef(pod, c.name), e.reason, e.note, 'Normal', e.action)
    }
    this.#images.add(image)
  }

  /**
   * The pod's sandbox before its containers, as a kubelet runs the sandbox first. A failure is a
   * FailedCreatePodSandBox event and the containers still run (reachable on loopback only), so a
   * kernel that refuses one pod's namespace never stops the node.
   */
  async #setUpSandbox(rp: RunningPod, pod: PodIdentity): Promise<void> {
    const sandboxes = this.#o.sandboxes
    if (!sandboxes) return
    rp.sandbox = pod
    try {
      await sandboxes.setUp(pod)
    } catch (err) {
      const message = `Failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`
      this.#log(`${objectKey(rp.pod)}: ${message}`)
      this.#events.recordEvent(podRef(rp.pod), 'FailedCreatePodSandBox', message, 'Warning', 'CreatePodSandbox')
    }
  }

  #register(ip: string, port: number, proto: L4Proto, local: { address: string; port: number }, pod: PodIdentity): void {
    this.#o.network.set(ip, port, proto, { local, pod: `${pod.namespace}/${pod.name}`, node: pod.node })
  }

  /** A container is ready when it runs and its readiness probe (if any) passes. */
  #containerReady(rp: RunningPod, c: ContainerRunner): boolean {
    return rp.phase !== 'stopped' && c.isRunning && (rp.probes.get(c.name)?.ready ?? true)
  }

  #ready(rp: RunningPod): boolean {
    return rp.containers.every((c) => this.#containerReady(rp, c))
  }

  #event(rp: RunningPod, container: string, reason: string, type: 'Normal' | 'Warning', message: string, action: string): void {
    this.#events.recordEvent(containerRef(rp.pod, container), reason, message, type, action)
  }

  /** A readiness probe per running instance: a new instance is unready until its first success, as upstream. */
  #startReadiness(rp: RunningPod, c: Container): void {
    rp.probes.get(c.name)?.stop()
    rp.probes.delete(c.name)
    const spec = readinessProbeSpec(c)
    if (!spec) return
    const runner = new ProbeRunner(spec, () => this.#o.prober(spec.action, rp.ip, spec.timeoutMs), this.#o.timers, () => void this.#enqueue(rp, () => this.#report(rp)), {
      onFailure: () => this.#event(rp, c.name, 'Unhealthy', 'Warning', probeFailureNote(spec.action, rp.ip), 'Probing'),
    })
    rp.probes.set(c.name, runner)
    runner.start()
  }

  /** A liveness probe per running instance; failing it kills the instance (kubelet's probe manager). */
  #startLiveness(rp: RunningPod, c: Container): void {
    const spec: ProbeSpec | undefined = livenessProbeSpec(c)
    const runner = rp.containers.find((r) => r.name === c.name)
    if (!spec || !runner) return
    const probe = new ProbeRunner(spec, () => this.#o.prober(spec.action, rp.ip, spec.timeoutMs), this.#o.timers, (alive) => {
      if (alive) return
      this.#event(rp, c.name, 'Unhealthy', 'Warning', `Liveness probe failed`, 'Probing')
      void this.#enqueue(rp, () => this.#containerDied(rp, runner, 'failed liveness probe, will be restarted'))
    }, { initial: initialLivenessState })
    rp.liveness.set(c.name, probe)
    probe.start()
  }

  /**
   * A container instance ended (its process exited, or its liveness probe failed and it is killed
   * now): record it, then restart per restartPolicy with the crash-loop back-off.
   */
  async #containerDied(rp: RunningPod, runner: ContainerRunner, why: string): Promise<void> {
    if (rp.phase !== 'running') return
    rp.liveness.get(runner.name)?.stop()
    rp.liveness.delete(runner.name)
    this.#log(`${objectKey(rp.pod)}: container ${runner.name} ${why}`)
    if (runner.isRunning) {
      this.#event(rp, runner.name, 'Killing', 'Normal', `Container ${runner.name} ${why}`, 'Killing')
      await runner.kill(killedExitCode, 'Error', (rp.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000)
    }
    const state = runner.state
    const policy = (rp.pod.spec['restartPolicy'] as string | undefined) ?? 'Always'
    const exitCode = state.kind === 'terminated' ? state.exitCode : killedExitCode
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) return this.#report(rp)
    const finishedAt = state.kind === 'terminated' ? state.finishedAt : this.#o.clock.now()
    const decision = decideRestart(rp.backOff.get(runner.name), finishedAt)
    if (decision.waitMs === 0) {
      rp.backOff.set(runner.name, decision.next)
      return this.#restartContainer(rp, runner)
    }
    const message = backOffMessage(decision.waitMs, runner.name, { namespace: rp.pod.metadata.namespace ?? 'default', name: rp.pod.metadata.name ?? '', uid: rp.pod.metadata.uid ?? '' })
    runner.wait('CrashLoopBackOff', message)
    this.#event(rp, runner.name, 'BackOff', 'Warning', `Back-off restarting failed container ${runner.name} in pod ${rp.pod.metadata.name ?? ''}_${rp.pod.metadata.namespace ?? 'default'}(${rp.pod.metadata.uid ?? ''})`, 'BackOff')
    await this.#report(rp)
    const delay = Math.max(0, finishedAt + decision.waitMs - this.#o.clock.now())
    const timer: TimerHandle = this.#o.timers.setTimeout(() => {
      rp.restartTimers.delete(timer)
      void this.#enqueue(rp, async () => {
        rp.backOff.set(runner.name, decision.next)
        await this.#restartContainer(rp, runner)
      })
    }, delay)
    rp.restartTimers.add(timer)
  }

  async #restartContainer(rp: RunningPod, runner: ContainerRunner): Promise<void> {
    if (rp.phase !== 'running') return
    await runner.restart()
    const c = rp.pod.spec.containers.find((x) => x.name === runner.name)
    if (c) {
      this.#recordStart(rp.pod, c)
      if (rp.exitTimer === undefined) this.#armExit(rp)
      this.#startReadiness(rp, c)
      this.#startLiveness(rp, c)
    }
    await this.#report(rp)
  }

  /** The log a `pods/log` request reads, as the kubelet's validateContainerLogStatus chooses it. */
  containerLog(namespace: string, name: string, container: string, previous: boolean): ContainerLogLookup {
    const rp = this.#pods.get(`${namespace}/${name}`)
    const podName = name
    if (!rp || rp.phase === 'stopped') return { kind: 'error', code: 404, message: `pod "${podName}" does not exist` }
    const runner = rp.containers.find((c) => c.name === container)
    if (!runner) {
      if (rp.pod.spec.containers.some((c) => c.name === container)) return { kind: 'error', code: 400, message: `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating` }
      return { kind: 'error', code: 400, message: `container "${container}" in pod "${podName}" is not available` }
    }
    const log = runner.log(previous)
    if (!log) {
      if (previous) return { kind: 'error', code: 400, message: `previous terminated container "${container}" in pod "${podName}" not found` }
      return { kind: 'error', code: 400, message: `container "${container}" in pod "${podName}" is waiting to start: ${runner.state.kind === 'waiting' ? runner.state.reason : 'ContainerCreating'}` }
    }
    return { kind: 'log', log }
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
      phase: podPhase(rp.containers.map((c) => c.state), rp.pod.spec['restartPolicy'] as string | undefined),
      podIP: rp.ip,
      podIPs: [{ ip: rp.ip }],
      ...(this.#o.node.hostIP ? { hostIP: this.#o.node.hostIP, hostIPs: [{ ip: this.#o.node.hostIP }] } : {}),
      startTime: (rp.pod.status?.['startTime'] as string | undefined) ?? apiTime(this.#o.clock.now()),
      qosClass: podQOSClass(rp.pod.spec),
      conditions: [cond('PodReadyToStartContainers', true), cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', true)],
      // imageID and containerID are required of a status by typed clients (the Python client
      // refuses a null imageID): container-status.ts says how kpe makes them up.
      containerStatuses: rp.containers.map((c) => containerStatusOf(c.record(this.#containerReady(rp, c)))),
    }
    try {
      await this.#o.status.writeStatus(rp.pod, status)
    } catch (err) {
      // Like the kubelet's status manager: a failed write is retried later, never dropped.
      this.#log(`${objectKey(rp.pod)}: status write failed, retrying in 1s: ${err instanceof Error ? err.message : String(err)}`)
      this.#o.timers.setTimeout(() => void this.#enqueue(rp, () => this.#report(rp)), statusRetryMs)
    }
  }

  /** Arms the timer of emulated containers that end by themselves (container-exit.ts), if they do. */
  #armExit(rp: RunningPod): void {
    const exit = podExit(rp.pod.spec.containers, rp.pod.spec.restartPolicy as string | undefined)
    if (exit) rp.exitTimer = this.#o.timers.setTimeout(() => void this.#enqueue(rp, () => this.#finish(rp, exit.exits)), exit.afterMs)
  }

  /**
   * Each container instance ends with its exit code. A pod whose restart policy makes that final
   * is Succeeded or Failed and its address freed; OnFailure restarts the failed ones with back-off.
   */
  async #finish(rp: RunningPod, exits: readonly ContainerExit[]): Promise<void> {
    if (rp.phase !== 'running') return
    rp.exitTimer = undefined
    for (const p of [...rp.probes.values(), ...rp.liveness.values()]) p.stop()
    await Promise.all(rp.containers.map((runner, i) => {
      const code = exits[i]?.exitCode ?? 0
      return runner.kill(code, code === 0 ? 'Completed' : 'Error', 0)
    }))
    const restartPolicy = rp.pod.spec.restartPolicy as string | undefined
    const phase = podPhase(rp.containers.map((c) => c.state), restartPolicy)
    this.#log(`${objectKey(rp.pod)} containers exited with ${exits.map((e) => e.exitCode).join(',')}: ${phase}`)
    if (phase === 'Running') {
      for (const runner of rp.containers) if (runner.state.kind === 'terminated' && runner.state.exitCode !== 0) await this.#containerDied(rp, runner, `exited with code ${runner.state.exitCode}`)
      return
    }
    // the status first: a Pod torn down while the object still said Running would be started again
    await this.#report(rp)
    await this.#teardown(rp, 0)
  }

  async #beginTermination(rp: RunningPod): Promise<void> {
    if (rp.phase !== 'running') return
    rp.phase = 'terminating'
    const spec = rp.pod.metadata.deletionGracePeriodSeconds ?? rp.pod.spec.terminationGracePeriodSeconds ?? 30
    const grace = Math.min(spec, this.#o.maxGracePeriodSeconds ?? Infinity)
    this.#log(`${objectKey(rp.pod)} terminating, serving for ${grace}s`)
    for (const c of rp.pod.spec.containers) this.#events.recordEvent(containerRef(rp.pod, c.name), 'Killing', `Stopping container ${c.name}`, 'Normal', 'Killing')
    rp.graceTimer = this.#o.timers.setTimeout(() => void this.#enqueue(rp, async () => {
      await this.#teardown(rp, grace * 1000)
      await this.#o.status.finalizeDeletion(rp.pod)
    }), grace * 1000)
  }

  async #teardown(rp: RunningPod, execGraceMs: number): Promise<void> {
    if (rp.phase === 'stopped') return
    rp.phase = 'stopped'
    if (rp.graceTimer) this.#o.timers.clearTimeout(rp.graceTimer)
    for (const t of rp.restartTimers) this.#o.timers.clearTimeout(t)
    if (rp.exitTimer) this.#o.timers.clearTimeout(rp.exitTimer)
    for (const p of [...rp.probes.values(), ...rp.liveness.values()]) p.stop()
    if (rp.ip) this.#o.network.removeIP(rp.ip)
    await Promise.all(rp.containers.map((c) => c.kill(c.state.kind === 'running' ? 0 : killedExitCode, 'Completed', execGraceMs)))
    if (rp.sandbox) await this.#o.sandboxes?.tearDown(rp.sandbox).catch((e: unknown) => this.#log(`${objectKey(rp.pod)}: removing the pod sandbox: ${e instanceof Error ? e.message : String(e)}`))
    this.#pods.delete(objectKey(rp.pod))
    this.#log(`${objectKey(rp.pod)} stopped`)
  }
}

/** The reference of a pod-level event (no fieldPath), as FailedCreatePodSandBox carries. */
function podRef(pod: Pod): { apiVersion: string; kind: string; namespace?: string; name: string; uid?: string } {
  return { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', ...(pod.metadata.namespace ? { namespace: pod.metadata.namespace } : {}), ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) }
}

/** The reference kubelet events carry: the pod, with the container as fieldPath. */
function containerRef(pod: Pod, container: string): { apiVersion: string; kind: string; namespace?: string; name: string; uid?: string; fieldPath: string } {
  return {
    apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', fieldPath: `spec.containers{${container}}`,
    ...(pod.metadata.namespace ? { namespace: pod.metadata.namespace } : {}), ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
  }
}

export function kubeletNodeFrom(node: { metadata: { name?: string }; spec?: { podCIDR?: string; podCIDRs?: string[] }; status?: { addresses?: { type: string; address: string }[] } }): KubeletNode {
  const podCIDRs = node.spec?.podCIDRs ?? (node.spec?.podCIDR ? [node.spec.podCIDR] : [])
  const hostIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address
  return { name: node.metadata.name ?? '', podCIDRs: [...podCIDRs].sort((a, b) => (ipFamily(a) === 'IPv4' ? -1 : 0) - (ipFamily(b) === 'IPv4' ? -1 : 0)), ...(hostIP ? { hostIP } : {}) }
}
