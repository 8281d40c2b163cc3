/**
 * The namespaces of `kpe up --dataplane kernel`, all inside one user namespace: the topology's
 * (built once at start) and one per pod (added and removed as the kubelets ask). Every holder
 * is started to die with kpe (a parent-death SIGKILL), so Ctrl-C, a crash or kill -9 of kpe
 * leaves no process and no namespace behind; nothing is created in the root namespace.
 */
import { readFileSync, rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { NotFoundError } from '../errors.js'
import { writePrivateFile } from '../store/index.js'
import {
  applyLinks, applySysctls, isInUserNamespace, nsenterArgv, runCommand, startNetnsHolder, startUserNamespace,
  type LabNamespaces, type LabPlan, type NetnsRunner, type UserNamespaceHolder,
} from '../lab/index.js'
import type { PodSandboxPlan } from './kernel-topology.js'
import { kernelStatePath, type KernelState } from './kernel-state.js'

function isLive(pid: number): boolean {
  try {
    // A killed holder stays a zombie until its new parent reaps it; it holds no namespace then.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z'
  } catch {
    return false
  }
}

export class KernelNamespaces {
  readonly #user: UserNamespaceHolder
  readonly #topology: LabPlan
  /** prefix, namespace labels and holder PIDs, in the shape the lab's link and sysctl steps take. */
  readonly #ns: { prefix: string; namespaces: string[]; rootless: { userNs: string; holders: Record<string, number> } }
  /** Pod `namespace/name` -> its namespace label. */
  readonly #pods = new Map<string, string>()
  readonly #stateFile: string
  #writes: Promise<void> = Promise.resolve()
  #stopped = false

  private constructor(user: UserNamespaceHolder, topology: LabPlan, dataDir: string) {
    this.#user = user
    this.#topology = topology
    this.#ns = { prefix: topology.prefix, namespaces: [], rootless: { userNs: user.userNs, holders: {} } }
    this.#stateFile = kernelStatePath(dataDir)
  }

  /** Builds the topology: the user namespace, a holder per namespace, links, addresses, routes, sysctls. Undone on failure. */
  static async start(topology: LabPlan, dataDir: string): Promise<KernelNamespaces> {
    const [first, ...rest] = topology.namespaces
    if (first === undefined) throw new NotFoundError('the kernel topology has no namespace')
    const user = await startUserNamespace({ dieWithParent: true })
    const k = new KernelNamespaces(user, topology, dataDir)
    k.#hold(first, user.pid)
    try {
      for (const ns of rest) k.#hold(ns, await startNetnsHolder(user, { dieWithParent: true }))
      await applyLinks(k.#view(), topology)
      await applySysctls(k.#view(), topology)
      await k.#saveState()
      return k
    } catch (err) {
      await k.stop()
      throw err
    }
  }

  get topology(): LabPlan {
    return this.#topology
  }

  get userNs(): string {
    return this.#user.userNs
  }

  /** The holder PID of a node's or pod's namespace (by label), if it is still held. */
  holderOf(netns: string): number | undefined {
    const pid = this.#ns.rootless.holders[netns]
    return pid !== undefined && isInUserNamespace(pid, this.#user.userNs) ? pid : undefined
  }

  /** Runs argv inside one of the namespaces; refuses a label it does not hold. */
  runner(netns: string): NetnsRunner {
    return (argv, opts) => {
      const pid = this.holderOf(netns)
      if (pid === undefined) return Promise.reject(new NotFoundError(`network namespace ${netns} is not held (its pod or node is gone)`))
      return runCommand(nsenterArgv(pid, argv), opts)
    }
  }

  /** A pod's namespace with its veth, address, route and sysctls (the CNI ADD); returns its holder PID. */
  async addPod(key: string, plan: PodSandboxPlan): Promise<number> {
    if (this.#stopped) throw new NotFoundError(`pod ${key}: the kernel dataplane is stopping`)
    await this.removePod(key)
    const pid = await startNetnsHolder(this.#user, { dieWithParent: true })
    this.#hold(plan.netns, pid)
    this.#pods.set(key, plan.netns)
    try {
      await applyLinks(this.#view(), { namespaces: [plan.netns, plan.node.netns], links: plan.links, addresses: plan.addresses, routes: plan.routes, routingRules: [] })
      await applySysctls(this.#view(), plan)
    } catch (err) {
      await this.removePod(key)
      throw err
    }
    await this.#saveState()
    return pid
  }

  /** Ends the pod's holder; its namespace and veth pair go with it (the CNI DEL). */
  async removePod(key: string): Promise<void> {
    const netns = this.#pods.get(key)
    if (netns === undefined) return
    this.#pods.delete(key)
    const pid = this.holderOf(netns)
    delete this.#ns.rootless.holders[netns]
    this.#ns.namespaces = this.#ns.namespaces.filter((n) => n !== netns)
    if (pid !== undefined) await stopHolders([pid])
    await this.#saveState()
  }

  /** Stops every holder: pods, then nodes, the user namespace's own holder last. */
  async stop(): Promise<void> {
    this.#stopped = true
    const holders = this.#ns.rootless.holders
    const first = this.#topology.namespaces[0]!
    const pids = Object.entries(holders).filter(([ns, pid]) => ns !== first && isInUserNamespace(pid, this.#user.userNs)).map(([, pid]) => pid)
    await stopHolders(pids)
    await stopHolders([this.#user.pid])
    this.#pods.clear()
    this.#ns.rootless.holders = {}
    this.#ns.namespaces = []
    // kpe node exec must not find PIDs that are gone (or, later, someone else's).
    await this.#writes.catch(() => {})
    rmSync(this.#stateFile, { force: true })
  }

  #hold(netns: string, pid: number): void {
    this.#ns.rootless.holders[netns] = pid
    if (!this.#ns.namespaces.includes(netns)) this.#ns.namespaces.push(netns)
  }

  #view(): LabNamespaces {
    return this.#ns
  }

  /** Rewrites kernel.json; writes are serialized so the file always ends with the latest state. */
  #saveState(): Promise<void> {
    const holders = this.#ns.rootless.holders
    const state: KernelState = {
      version: 1, pid: process.pid, userNs: this.#user.userNs,
      nodes: Object.fromEntries(this.#topology.nodes.flatMap((n) => (holders[n.netns] === undefined ? [] : [[n.name, holders[n.netns]!]]))),
      pods: Object.fromEntries([...this.#pods].flatMap(([key, ns]) => (holders[ns] === undefined ? [] : [[key, holders[ns]!]])).sort(([a], [b]) => (a! < b! ? -1 : 1))),
    }
    this.#writes = this.#writes.then(() => writePrivateFile(this.#stateFile, `${JSON.stringify(state, null, 2)}\n`))
    return this.#writes
  }
}

/** SIGKILL to each PID (checked by the caller to be the dataplane's own), then waits until they are gone. */
async function stopHolders(pids: readonly number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 5_000
  while (pids.some(isLive) && Date.now() < deadline) await sleep(10)
}
