import { describe, expect, it } from 'vitest'
import type { Container } from '../../../src/api/index.js'
import { nextProbeState, ProbeRunner, readinessProbeSpec, initialProbeState, type ProbeSpec } from '../../../src/kubelet/index.js'
import { FakeTimers } from './fake-timers.js'

const container = (probe: unknown): Container => ({ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: probe })

describe('readiness probe spec', () => {
  it('resolves a named httpGet port and applies upstream defaults', () => {
    expect(readinessProbeSpec(container({ httpGet: { path: '/ready', port: 'http' } }))).toEqual({
      action: { kind: 'http', path: '/ready', port: 8080 }, initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000, successThreshold: 1, failureThreshold: 3,
    })
  })

  it('reads tcpSocket and the timing fields', () => {
    const spec = readinessProbeSpec(container({ tcpSocket: { port: 8080 }, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 2 }))
    expect(spec).toMatchObject({ action: { kind: 'tcp', port: 8080 }, initialDelayMs: 2000, periodMs: 1000, failureThreshold: 2 })
  })

  it('counts exec probes as passing, and says so', () => {
    expect(readinessProbeSpec(container({ exec: { command: ['true'] } }))?.action).toEqual({ kind: 'assumed-passing', what: 'exec probe' })
  })

  it('a container without a probe has no spec', () => {
    expect(readinessProbeSpec({ name: 'c' })).toBeUndefined()
  })
})

const spec: ProbeSpec = { action: { kind: 'tcp', port: 1 }, initialDelayMs: 5000, periodMs: 1000, timeoutMs: 100, successThreshold: 2, failureThreshold: 3 }

describe('probe thresholds', () => {
  it('becomes ready after successThreshold successes and unready after failureThreshold failures', () => {
    let s = initialProbeState
    s = nextProbeState(spec, s, true)
    expect(s.ready).toBe(false)
    s = nextProbeState(spec, s, true)
    expect(s.ready).toBe(true)
    s = nextProbeState(spec, nextProbeState(spec, s, false), false)
    expect(s.ready).toBe(true)
    s = nextProbeState(spec, s, false)
    expect(s.ready).toBe(false)
  })
})

describe('ProbeRunner on fake timers', () => {
  it('waits initialDelay, then probes every period and reports each readiness change', async () => {
    const timers = new FakeTimers()
    const results = [true, true, false, false, false, true, true]
    const calls: number[] = []
    const changes: boolean[] = []
    const runner = new ProbeRunner(spec, async () => {
      calls.push(timers.now)
      return results.shift() ?? true
    }, timers, (ready) => changes.push(ready))
    runner.start()
    await timers.advance(4999)
    expect(calls).toEqual([])
    await timers.advance(1)
    expect(calls).toEqual([5000])
    await timers.advance(1000)
    expect(changes).toEqual([true])
    await timers.advance(3000)
    expect(calls).toEqual([5000, 6000, 7000, 8000, 9000])
    expect(changes).toEqual([true, false])
    await timers.advance(2000)
    expect(changes).toEqual([true, false, true])
    runner.stop()
    expect(timers.pending).toBe(0)
  })
})
