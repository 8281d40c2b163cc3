/**
 * Runs a container's readiness probe on injected timers: first after initialDelay, then every
 * period, reporting each readiness change. The probe itself is an injected function; the
 * real one (`loopbackProber`) reaches the pod only through the pod network table.
 */
import { request } from 'node:http'
import { connect } from 'node:net'
import { isLoopback, parseIP } from '../net/index.js'
import type { Timers, TimerHandle } from '../runtime/index.js'
import type { PodNetworkTable } from './pod-network-table.js'
import { initialProbeState, nextProbeState, type ProbeAction, type ProbeSpec, type ProbeState } from './readiness.js'

export type Prober = (action: ProbeAction, podIP: string, timeoutMs: number) => Promise<boolean>

export class ProbeRunner {
  readonly #spec: ProbeSpec
  readonly #probe: () => Promise<boolean>
  readonly #timers: Timers
  readonly #onChange: (ready: boolean) => void
  readonly #onFailure: (() => void) | undefined
  #state: ProbeState = initialProbeState
  #timer: TimerHandle | undefined
  #stopped = false

  /** `onFailure` hears every failed probe (the kubelet records an Unhealthy event for each). */
  constructor(spec: ProbeSpec, probe: () => Promise<boolean>, timers: Timers, onChange: (ready: boolean) => void, opts: { initial?: ProbeState; onFailure?: () => void } = {}) {
    this.#spec = spec
    this.#state = opts.initial ?? initialProbeState
    this.#probe = probe
    this.#timers = timers
    this.#onChange = onChange
    this.#onFailure = opts.onFailure
  }

  get ready(): boolean {
    return this.#state.ready
  }

  start(): void {
    this.#schedule(this.#spec.initialDelayMs)
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) this.#timers.clearTimeout(this.#timer)
  }

  #schedule(ms: number): void {
    if (this.#stopped) return
    this.#timer = this.#timers.setTimeout(() => void this.#tick(), ms)
  }

  async #tick(): Promise<void> {
    this.#timer = undefined
    let passed: boolean
    try {
      passed = await this.#probe()
    } catch {
      passed = false
    }
    if (this.#stopped) return
    if (!passed) this.#onFailure?.()
    const before = this.#state.ready
    this.#state = nextProbeState(this.#spec, this.#state, passed)
    if (this.#state.ready !== before) this.#onChange(this.#state.ready)
    this.#schedule(this.#spec.periodMs)
  }
}

/** httpGet (2xx/3xx passes) and tcpSocket probes against the pod's loopback address. */
export function loopbackProber(table: PodNetworkTable): Prober {
  return (action, podIP, timeoutMs) => {
    if (action.kind === 'assumed-passing') return Promise.resolve(true)
    const entry = table.lookup(podIP, action.port, 'tcp')
    const ip = entry ? parseIP(entry.local.address) : undefined
    if (!entry || ip === undefined || !isLoopback(ip)) return Promise.resolve(false)
    return new Promise<boolean>((resolve) => {
      if (action.kind === 'tcp') {
        const s = connect({ host: entry.local.address, port: entry.local.port, timeout: timeoutMs })
        s.once('connect', () => { s.destroy(); resolve(true) })
        s.once('timeout', () => { s.destroy(); resolve(false) })
        s.once('error', () => resolve(false))
        return
      }
      const req = request({ host: entry.local.address, port: entry.local.port, path: action.path, method: 'GET', timeout: timeoutMs, agent: false, headers: { 'user-agent': 'kube-probe/1.33' } }, (res) => {
        res.resume()
        resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400)
      })
      req.once('timeout', () => { req.destroy(); resolve(false) })
      req.once('error', () => resolve(false))
      req.end()
    })
  }
}
