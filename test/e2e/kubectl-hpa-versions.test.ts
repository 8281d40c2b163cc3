/**
 * HorizontalPodAutoscaler through both served versions with the real kubectl against `kpe up`:
 * `kubectl autoscale` writes one object, read back as autoscaling/v1 and v2. Only loopback
 * addresses are dialled; the data dir is removed after.
 */
import { describe, expect, it } from 'vitest'
import { hasKubectl, kpeUpForFile } from './kpe-up-process.js'

const file = kpeUpForFile()
const ok = file.ok

describe.skipIf(!hasKubectl)('HorizontalPodAutoscaler autoscaling/v1 and v2 through kubectl', () => {
  it('shows an autoscale-created HPA as v1 with targetCPUUtilizationPercentage and as v2 with a cpu metric', async () => {
    await ok('create', 'deployment', 'web', '--image', 'nginx')
    await ok('autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=3')
    const v1 = await ok('get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'yaml')
    expect(v1).toContain('apiVersion: autoscaling/v1')
    expect(v1).toMatch(/targetCPUUtilizationPercentage: 50/)
    expect(v1).toMatch(/maxReplicas: 3/)
    const v2 = JSON.parse(await ok('get', 'horizontalpodautoscalers.v2.autoscaling', 'web', '-o', 'json')) as { apiVersion: string; spec: { metrics: unknown[] } }
    expect(v2.apiVersion).toBe('autoscaling/v2')
    expect(v2.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }])
    expect(await ok('get', 'hpa', 'web')).toMatch(/^NAME\s+REFERENCE\s+TARGETS/)
    // Both versions are in the `all` category; kubectl lists the one object once.
    expect((await ok('get', 'all')).match(/horizontalpodautoscaler\.autoscaling\/web/g)).toHaveLength(1)
    await ok('patch', 'horizontalpodautoscalers.v1.autoscaling', 'web', '--type=merge', '-p', '{"spec":{"targetCPUUtilizationPercentage":75}}')
    expect(await ok('get', 'horizontalpodautoscalers.v2.autoscaling', 'web', '-o', 'jsonpath={.spec.metrics[0].resource.target.averageUtilization}')).toBe('75')
    await ok('delete', 'horizontalpodautoscalers.v1.autoscaling', 'web')
  }, 60_000)
})
