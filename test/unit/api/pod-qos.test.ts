/** QoS classes as upstream's ComputePodQOS gives them. */
import { describe, expect, it } from 'vitest'
import { podQOSClass, quantityNanos } from '../../../src/api/index.js'

const c = (resources?: object) => ({ name: 'c', ...(resources ? { resources } : {}) })

describe('podQOSClass', () => {
  it('is BestEffort without CPU or memory requests and limits', () => {
    expect(podQOSClass({ containers: [c(), c({ requests: { 'ephemeral-storage': '1Gi' } })] })).toBe('BestEffort')
    expect(podQOSClass(undefined)).toBe('BestEffort')
  })
  it('is Guaranteed when every container limits CPU and memory and requests equal limits by value', () => {
    expect(podQOSClass({ containers: [c({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } })] })).toBe('Guaranteed')
    expect(podQOSClass({ containers: [c({ limits: { cpu: '500m', memory: '128Mi' } })] })).toBe('Guaranteed')
  })
  it('is Burstable otherwise', () => {
    expect(podQOSClass({ containers: [c({ requests: { cpu: '100m' } })] })).toBe('Burstable')
    expect(podQOSClass({ containers: [c({ requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '200m', memory: '1Gi' } })] })).toBe('Burstable')
    expect(podQOSClass({ containers: [c({ limits: { cpu: '1', memory: '1Gi' } }), c()] })).toBe('Burstable')
  })
  it('reads quantities exactly', () => {
    expect(quantityNanos('100m')).toBe(100_000_000n)
    expect(quantityNanos('0.1')).toBe(100_000_000n)
    expect(quantityNanos('1Ki')).toBe(1024n * 1_000_000_000n)
    expect(quantityNanos('1e3')).toBe(1000n * 1_000_000_000n)
    expect(quantityNanos('abc')).toBeUndefined()
  })
})
