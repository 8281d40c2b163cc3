/**
 * HorizontalPodAutoscaler autoscaling/v1 ↔ autoscaling/v2 conversion: the CPU target and
 * current utilization as first-class v1 fields, every other metric, the behavior and the
 * conditions carried in v1's annotations, and a v2 → v1 → v2 round trip that loses nothing.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hpaV1Annotations, hpaV1ToV2, hpaV2ToV1 } from '../../../src/apiserver/versions/hpa-v1.js'

type Obj = Record<string, unknown>
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }

describe('HPA autoscaling/v1 ↔ v2', () => {
  it('maps the v1 CPU target to a Resource cpu Utilization metric and back', () => {
    const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } }
    const v2 = hpaV1ToV2(v1)
    expect(v2).toEqual({
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' },
      spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    })
    expect(hpaV2ToV1(v2)).toEqual(v1)
  })

  it('keeps other metrics, behavior, current metrics and conditions in v1 annotations', () => {
    const pods = { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } }
    const memCurrent = { type: 'Resource', resource: { name: 'memory', current: { averageValue: '100Mi' } } }
    const conditions = [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' }]
    const v2 = {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', annotations: { team: 'a' } },
      spec: { scaleTargetRef: ref, maxReplicas: 5, metrics: [pods], behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
      status: { currentReplicas: 2, desiredReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40, averageValue: '200m' } } }, memCurrent], conditions },
    }
    const v1 = hpaV2ToV1(v2)
    const annotations = (v1['metadata'] as { annotations: Record<string, string> }).annotations
    expect(v1['spec']).toEqual({ scaleTargetRef: ref, maxReplicas: 5 })
    expect(v1['status']).toEqual({ currentReplicas: 2, desiredReplicas: 2, currentCPUUtilizationPercentage: 40 })
    expect(JSON.parse(annotations[hpaV1Annotations.metrics]!)).toEqual([{ type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } }])
    expect(JSON.parse(annotations[hpaV1Annotations.currentMetrics]!)).toEqual([{ type: 'Resource', resource: { name: 'memory', currentAverageValue: '100Mi' } }])
    expect(JSON.parse(annotations[hpaV1Annotations.behavior]!)).toEqual({ scaleDown: { stabilizationWindowSeconds: 60 } })
    expect(JSON.parse(annotations[hpaV1Annotations.conditions]!)).toEqual(conditions)
    expect(annotations['team']).toBe('a')
    // Back in v2 the annotations are consumed; the cpu current value keeps only what v1 holds.
    const back = hpaV1ToV2(v1)
    expect((back['metadata'] as Obj)['annotations']).toEqual({ team: 'a' })
    expect(back['spec']).toEqual(v2.spec)
    expect((back['status'] as Obj)['currentMetrics']).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40 } } }, memCurrent])
  })

  it('ignores an unreadable metrics annotation, as upstream does', () => {
    const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x', annotations: { [hpaV1Annotations.metrics]: '{not json' } }, spec: { scaleTargetRef: ref, maxReplicas: 2 } }
    expect(hpaV1ToV2(v1)).toEqual({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 2 } })
  })
})

// Valid v2 metrics of every source type (targets as v2 validation allows them per type).
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/)
const quantity = fc.integer({ min: 1, max: 5000 }).map((n) => `${n}m`)
const pct = fc.integer({ min: 1, max: 200 })
const selector = fc.option(fc.record({ matchLabels: fc.dictionary(name, name, { maxKeys: 2 }) }), { nil: undefined })
const strip = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
const utilOrAverage = fc.oneof(pct.map((p) => ({ type: 'Utilization', averageUtilization: p })), quantity.map((q) => ({ type: 'AverageValue', averageValue: q })))
const valueOrAverage = fc.oneof(quantity.map((q) => ({ type: 'Value', value: q })), quantity.map((q) => ({ type: 'AverageValue', averageValue: q })))
const metricSpec = fc.oneof(
  fc.record({ n: fc.constantFrom('cpu', 'memory'), t: utilOrAverage }).map(({ n, t }) => ({ type: 'Resource', resource: { name: n, target: t } })),
  fc.record({ n: fc.constantFrom('cpu', 'memory'), c: name, t: utilOrAverage }).map(({ n, c, t }) => ({ type: 'ContainerResource', containerResource: { name: n, container: c, target: t } })),
  fc.record({ n: name, s: selector, q: quantity }).map(({ n, s, q }) => ({ type: 'Pods', pods: { metric: strip({ name: n, selector: s }), target: { type: 'AverageValue', averageValue: q } } })),
  fc.record({ n: name, s: selector, t: valueOrAverage }).map(({ n, s, t }) => ({ type: 'Object', object: { describedObject: ref, metric: strip({ name: n, selector: s }), target: t } })),
  fc.record({ n: name, s: selector, t: valueOrAverage }).map(({ n, s, t }) => ({ type: 'External', external: { metric: strip({ name: n, selector: s }), target: t } })),
)
const hpaV2 = fc.record({
  metrics: fc.array(metricSpec, { maxLength: 4 }),
  min: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  max: fc.integer({ min: 5, max: 50 }),
  behavior: fc.option(fc.record({ scaleUp: fc.record({ stabilizationWindowSeconds: fc.integer({ min: 0, max: 3600 }) }) }), { nil: undefined }),
}).map(({ metrics, min, max, behavior }) => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'default' },
  spec: strip({ scaleTargetRef: ref, minReplicas: min, maxReplicas: max, metrics: metrics.length > 0 ? metrics : undefined, behavior }),
}))

/** v1 holds one CPU utilization target as a field, which comes back first among the metrics. */
function cpuFirst(spec: Obj): Obj {
  const metrics = (spec['metrics'] ?? []) as Obj[]
  const i = metrics.findIndex((m) => m['type'] === 'Resource' && (m['resource'] as Obj)['name'] === 'cpu' && ((m['resource'] as Obj)['target'] as Obj)['type'] === 'Utilization')
  if (i <= 0) return spec
  return { ...spec, metrics: [metrics[i], ...metrics.slice(0, i), ...metrics.slice(i + 1)] }
}

describe('HPA v2 → v1 → v2 (property)', () => {
  it('preserves every spec field, the CPU target moved first', () => {
    fc.assert(fc.property(hpaV2, (v2) => {
      const back = hpaV1ToV2(hpaV2ToV1(v2))
      expect(back).toEqual({ ...v2, spec: cpuFirst(v2.spec) })
    }), { seed: 1206, numRuns: 300, interruptAfterTimeLimit: 10_000 })
  })

  it('v1 → v2 → v1 is the identity on what v1 holds', () => {
    fc.assert(fc.property(hpaV2, (v2) => {
      const v1 = hpaV2ToV1(v2)
      expect(hpaV2ToV1(hpaV1ToV2(v1))).toEqual(v1)
    }), { seed: 1207, numRuns: 300, interruptAfterTimeLimit: 10_000 })
  })
})
