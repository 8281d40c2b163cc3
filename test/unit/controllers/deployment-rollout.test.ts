import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { computePodTemplateHash, deploymentStatus, planRollout, resolveFenceposts, type ReplicaSetState, type Strategy } from '../../../src/controllers/index.js'

function rs(name: string, replicas: number, available = replicas): ReplicaSetState {
  return { name, replicas, actual: replicas, available }
}

/**
 * Drives planRollout to completion: after each step the ReplicaSets' Pods match spec.replicas and
 * new Pods become available one step later (old ones were available already).
 */
function simulate(desired: number, strategy: Strategy, oldReplicas: number, check: (all: ReplicaSetState[]) => void): number {
  let newRS = rs('new', 0)
  let old = [rs('old', oldReplicas)]
  for (let step = 1; step < 500; step++) {
    const plan = planRollout({ desired, strategy, newRS, oldRSes: old })
    const scaled = (r: ReplicaSetState): ReplicaSetState => {
      const n = plan.get(r.name) ?? r.replicas
      return { name: r.name, replicas: n, actual: n, available: Math.min(r.available, n) }
    }
    newRS = scaled(newRS)
    old = old.map(scaled)
    check([newRS, ...old])
    newRS = { ...newRS, available: newRS.actual }
    if (plan.size === 0 && newRS.replicas === desired && old.every((r) => r.replicas === 0)) return step
  }
  throw new Error('rollout did not converge')
}

describe('rolling update planner', () => {
  it('resolves maxSurge up and maxUnavailable down, never both zero', () => {
    expect(resolveFenceposts('25%', '25%', 10)).toEqual({ surge: 3, unavailable: 2 })
    expect(resolveFenceposts(0, 0, 3)).toEqual({ surge: 0, unavailable: 1 })
    expect(resolveFenceposts(1, 0, 3)).toEqual({ surge: 1, unavailable: 0 })
  })

  it('scales a lone ReplicaSet straight to the desired count (a scaling event)', () => {
    expect([...planRollout({ desired: 5, strategy: { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0 }, newRS: rs('new', 2), oldRSes: [rs('old', 0)] })]).toEqual([['new', 5]])
  })

  it('with maxSurge 1 / maxUnavailable 0 surges one Pod, then retires one old Pod once it is available', () => {
    const strategy: Strategy = { type: 'RollingUpdate', maxSurge: 1, maxUnavailable: 0 }
    expect([...planRollout({ desired: 3, strategy, newRS: rs('new', 0), oldRSes: [rs('old', 3)] })]).toEqual([['new', 1]])
    expect([...planRollout({ desired: 3, strategy, newRS: rs('new', 1, 0), oldRSes: [rs('old', 3)] })]).toEqual([])
    expect([...planRollout({ desired: 3, strategy, newRS: rs('new', 1, 1), oldRSes: [rs('old', 3)] })]).toEqual([['old', 2]])
  })

  it('Recreate scales the old ReplicaSets to zero before starting new Pods', () => {
    const strategy: Strategy = { type: 'Recreate' }
    expect([...planRollout({ desired: 2, strategy, newRS: rs('new', 0), oldRSes: [rs('old', 2)] })]).toEqual([['old', 0]])
    expect([...planRollout({ desired: 2, strategy, newRS: rs('new', 0), oldRSes: [{ name: 'old', replicas: 0, actual: 1, available: 0 }] })]).toEqual([])
    expect([...planRollout({ desired: 2, strategy, newRS: rs('new', 0), oldRSes: [rs('old', 0)] })]).toEqual([['new', 2]])
  })

  it('stays within maxSurge and maxUnavailable and converges, for any sizes (property)', () => {
    const intOrPercent = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`))
    fc.assert(fc.property(fc.integer({ min: 0, max: 12 }), intOrPercent, intOrPercent, (desired, maxSurge, maxUnavailable) => {
      const { surge, unavailable } = resolveFenceposts(maxSurge, maxUnavailable, desired)
      simulate(desired, { type: 'RollingUpdate', maxSurge, maxUnavailable }, desired, (all) => {
        expect(all.reduce((n, r) => n + r.replicas, 0)).toBeLessThanOrEqual(desired + surge)
        expect(all.reduce((n, r) => n + r.available, 0)).toBeGreaterThanOrEqual(Math.min(desired, desired - unavailable))
      })
    }))
  })
})

describe('deployment status', () => {
  it('reports a finished rollout the way kubectl rollout status expects', () => {
    const s = deploymentStatus({
      generation: 3, desired: 2, maxUnavailable: 0, now: '2025-01-01T00:00:00Z', previousConditions: [],
      newRS: { ...rs('web-abc', 2), ready: 2 }, oldRSes: [{ ...rs('web-old', 0), ready: 0 }],
    })
    expect(s).toMatchObject({ observedGeneration: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2, unavailableReplicas: 0 })
    expect(s['conditions']).toContainEqual(expect.objectContaining({ type: 'Progressing', reason: 'NewReplicaSetAvailable' }))
  })

  it('counts old Pods still running as pending termination', () => {
    const s = deploymentStatus({
      generation: 1, desired: 2, maxUnavailable: 0, now: 'x', previousConditions: [],
      newRS: { ...rs('n', 2), ready: 2 }, oldRSes: [{ name: 'o', replicas: 0, actual: 1, available: 1, ready: 1 }],
    })
    expect(s).toMatchObject({ replicas: 3, updatedReplicas: 2 })
  })
})

describe('pod-template-hash', () => {
  it('is stable, ignores its own label, and changes with the template', () => {
    const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } }
    const h = computePodTemplateHash(t)
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/)
    expect(computePodTemplateHash({ ...t, metadata: { labels: { app: 'web', 'pod-template-hash': h } } })).toBe(h)
    expect(computePodTemplateHash({ spec: t.spec, metadata: t.metadata })).toBe(h)
    expect(computePodTemplateHash({ ...t, spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } })).not.toBe(h)
  })
})
