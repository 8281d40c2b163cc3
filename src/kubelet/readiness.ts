/**
 * Readiness and liveness probes as data and a state machine: the probe spec read from a container (named
 * ports resolved, upstream's defaults applied) and the success/failure threshold logic.
 * Pure; probe-runner.ts runs them on timers.
 */
import type { Container } from '../api/index.js'

export type ProbeAction =
  | { readonly kind: 'http'; readonly path: string; readonly port: number }
  | { readonly kind: 'tcp'; readonly port: number }
  /** exec and grpc probes are not run: they count as passing (docs/userspace.md). */
  | { readonly kind: 'assumed-passing'; readonly what: string }

export interface ProbeSpec {
  readonly action: ProbeAction
  readonly initialDelayMs: number
  readonly periodMs: number
  readonly timeoutMs: number
  readonly successThreshold: number
  readonly failureThreshold: number
}

export interface ProbeState {
  readonly ready: boolean
  readonly successes: number
  readonly failures: number
}

/** Until the first success a probed container is not ready (upstream's initial readiness). */
export const initialProbeState: ProbeState = { ready: false, successes: 0, failures: 0 }

interface RawProbe {
  httpGet?: { path?: string; port?: number | string }
  tcpSocket?: { port?: number | string }
  exec?: unknown
  grpc?: unknown
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  successThreshold?: number
  failureThreshold?: number
}

function resolvePort(c: Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port
  if (port === undefined) return undefined
  if (/^\d+$/.test(port)) return Number(port)
  return c.ports?.find((p) => p.name === port)?.containerPort
}

const positive = (v: number | undefined, fallback: number): number => (typeof v === 'number' && v > 0 ? v : fallback)

/** The container's readinessProbe, or undefined when it has none (ready as soon as it runs). */
export function readinessProbeSpec(c: Container): ProbeSpec | undefined {
  return probeSpec(c, 'readinessProbe')
}

/** The container's livenessProbe, or undefined when it has none (never restarted for health). */
export function livenessProbeSpec(c: Container): ProbeSpec | undefined {
  return probeSpec(c, 'livenessProbe')
}

/** A liveness probe counts as passing until it fails (upstream's initial liveness result). */
export const initialLivenessState: ProbeState = { ready: true, successes: 0, failures: 0 }

function probeSpec(c: Container, field: 'readinessProbe' | 'livenessProbe'): ProbeSpec | undefined {
  const raw = c[field] as RawProbe | undefined
  if (!raw || typeof raw !== 'object') return undefined
  let action: ProbeAction
  if (raw.httpGet) {
    const port = resolvePort(c, raw.httpGet.port)
    action = port === undefined ? { kind: 'assumed-passing', what: `httpGet port ${String(raw.httpGet.port)} names no container port` } : { kind: 'http', path: raw.httpGet.path ?? '/', port }
  } else if (raw.tcpSocket) {
    const port = resolvePort(c, raw.tcpSocket.port)
    action = port === undefined ? { kind: 'assumed-passing', what: `tcpSocket port ${String(raw.tcpSocket.port)} names no container port` } : { kind: 'tcp', port }
  } else {
    action = { kind: 'assumed-passing', what: raw.exec ? 'exec probe' : raw.grpc ? 'grpc probe' : 'probe without a handler' }
  }
  return {
    action,
    initialDelayMs: (raw.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(raw.periodSeconds, 10) * 1000,
    timeoutMs: positive(raw.timeoutSeconds, 1) * 1000,
    successThreshold: positive(raw.successThreshold, 1),
    failureThreshold: positive(raw.failureThreshold, 3),
  }
}

/** One probe result applied: ready after successThreshold successes in a row, unready after failureThreshold failures. */
export function nextProbeState(spec: ProbeSpec, state: ProbeState, passed: boolean): ProbeState {
  if (passed) {
    const successes = state.successes + 1
    return { ready: state.ready || successes >= spec.successThreshold, successes, failures: 0 }
  }
  const failures = state.failures + 1
  return { ready: state.ready && failures < spec.failureThreshold, successes: 0, failures }
}
