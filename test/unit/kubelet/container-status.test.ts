/** Container status records and the pod phase, as the kubelet reports them. */
import { describe, expect, it } from 'vitest'
import { containerIDOf, containerStatusOf, imageIDOf, podPhase, type ContainerState } from '../../../src/kubelet/index.js'

const ended = (exitCode: number): ContainerState => ({ kind: 'terminated', exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: 0, finishedAt: 1000, containerID: 'kpe://x' })
const running: ContainerState = { kind: 'running', startedAt: 0 }

describe('container status', () => {
  it('names images and instances with stable kpe:// identifiers, a new one per instance', () => {
    expect(imageIDOf('nginx:1.27')).toMatch(/^kpe:\/\/image@sha256:[0-9a-f]{64}$/)
    expect(imageIDOf('nginx:1.27')).toBe(imageIDOf('nginx:1.27'))
    expect(containerIDOf('u', 'web', 0)).not.toBe(containerIDOf('u', 'web', 1))
  })

  it('reports a waiting container as not started, with its last termination', () => {
    const s = containerStatusOf({ name: 'web', image: 'nginx', restartCount: 2, state: { kind: 'waiting', reason: 'CrashLoopBackOff', message: 'back-off 20s' }, lastTerminated: ended(137) as never, containerID: 'kpe://y', ready: true })
    expect(s).toMatchObject({ ready: false, started: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } }, lastState: { terminated: { exitCode: 137, finishedAt: '1970-01-01T00:00:01Z', containerID: 'kpe://x' } } })
  })

  it('gives the pod phase kubelet gives once containers end for good', () => {
    expect(podPhase([ended(0), running], 'Never')).toBe('Running')
    expect(podPhase([ended(0), ended(0)], 'Never')).toBe('Succeeded')
    expect(podPhase([ended(0), ended(1)], 'Never')).toBe('Failed')
    expect(podPhase([ended(0)], 'OnFailure')).toBe('Succeeded')
    expect(podPhase([ended(2)], 'OnFailure')).toBe('Running')
    expect(podPhase([ended(0)], undefined)).toBe('Running')
  })
})
