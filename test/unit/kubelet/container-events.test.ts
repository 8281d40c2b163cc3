/** The kubelet's container start events and the image pull policy that decides Pulling vs "already present". */
import { describe, expect, it } from 'vitest'
import { containerEvents, effectivePullPolicy, probeFailureNote } from '../../../src/kubelet/index.js'

describe('container events', () => {
  it.each([
    ['nginx', undefined, 'Always'],
    ['nginx:latest', undefined, 'Always'],
    ['nginx:1.27', undefined, 'IfNotPresent'],
    ['localhost:5000/app', undefined, 'Always'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.53', undefined, 'IfNotPresent'],
    ['nginx@sha256:abc', undefined, 'IfNotPresent'],
    ['nginx:1.27', 'Always', 'Always'],
  ])('%s with policy %s pulls %s', (image, policy, want) => {
    expect(effectivePullPolicy(image, policy)).toBe(want)
  })

  it('pulls an image the node has not seen, then finds it present', () => {
    expect(containerEvents('web', 'nginx:1.27', { present: false, pullPolicy: undefined }).map((e) => `${e.reason}: ${e.note}`)).toEqual([
      'Pulling: Pulling image "nginx:1.27"',
      'Pulled: Successfully pulled image "nginx:1.27" in 0s (0s including waiting). Image size: 0 bytes.',
      'Created: Created container: web',
      'Started: Started container web',
    ])
    expect(containerEvents('web', 'nginx:1.27', { present: true, pullPolicy: undefined })[0]).toEqual({ reason: 'Pulled', note: 'Container image "nginx:1.27" already present on machine', action: 'Pulled' })
    expect(containerEvents('web', 'nginx', { present: true, pullPolicy: undefined })[0]?.reason).toBe('Pulling')
  })

  it('says which probe failed', () => {
    expect(probeFailureNote({ kind: 'http', path: '/healthz', port: 8080 }, '10.244.0.2')).toBe('Readiness probe failed: Get "http://10.244.0.2:8080/healthz": no successful answer')
    expect(probeFailureNote({ kind: 'tcp', port: 53 }, '10.244.0.2')).toBe('Readiness probe failed: dial tcp 10.244.0.2:53: no connection')
  })
})
