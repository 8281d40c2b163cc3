/**
 * The pure core of pods/binding: the Binding's validation at the door, and the assign decision
 * (upstream's setPodHostAndAnnotations update function with its storage preconditions).
 */
import { describe, expect, it } from 'vitest'
import { toBinding, validateBinding, type Binding, type Pod } from '../../../src/api/index.js'
import { assignPod, updatePodCondition } from '../../../src/apiserver/pod-binding.js'

const now = '2026-12-06T12:00:00Z'
const pod = (over: { spec?: Record<string, unknown>; metadata?: Record<string, unknown>; status?: Record<string, unknown> } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u-1', resourceVersion: '7', ...over.metadata },
  spec: { containers: [{ name: 'c' }], ...over.spec },
  ...(over.status ? { status: over.status } : {}),
}) as Pod
const bindingTo = (node: string, meta: Partial<Binding['metadata']> = {}): Binding => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', ...meta }, target: { kind: 'Node', name: node } })
const fields = (body: Record<string, unknown>): string[] => validateBinding(body).list.map((e) => `${e.field}: ${e.type}`)

describe('validateBinding', () => {
  it('accepts a Binding to a Node, with or without target.kind', () => {
    expect(fields({ metadata: { name: 'p' }, target: { kind: 'Node', name: 'node-a' } })).toEqual([])
    expect(fields({ metadata: { name: 'p' }, target: { name: 'node-a.example' } })).toEqual([])
    expect(fields({ metadata: { name: 'p' }, target: { kind: '', name: 'n' } })).toEqual([])
  })

  it('names each bad field: target.kind, target.name, metadata.name, metadata.annotations', () => {
    expect(fields({ metadata: { name: 'p' }, target: { kind: 'Pod', name: 'n' } })).toEqual(['target.kind: FieldValueNotSupported'])
    expect(fields({ metadata: { name: 'p' }, target: {} })).toEqual(['target.name: FieldValueRequired'])
    expect(fields({ metadata: { name: 'p' } })).toEqual(['target.name: FieldValueRequired'])
    expect(fields({ metadata: { name: 'p' }, target: { name: 'UPPER_case' } })).toEqual(['target.name: FieldValueInvalid'])
    expect(fields({ target: { name: 'n' } })).toEqual(['metadata.name: FieldValueRequired'])
    expect(fields({ metadata: { name: 'p', annotations: { '-bad': 'v' } }, target: { name: 'n' } })).toEqual(['metadata.annotations: FieldValueInvalid'])
  })

  it('toBinding keeps the preconditions and annotations and drops empty values', () => {
    expect(toBinding({ metadata: { name: 'p', uid: 'u', resourceVersion: '', annotations: {} }, target: { name: 'n' } }))
      .toEqual({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', uid: 'u' }, target: { name: 'n' } })
    expect(toBinding({ metadata: { name: 'p', annotations: { a: 'b' } }, target: { kind: 'Node', name: 'n' } }).metadata.annotations).toEqual({ a: 'b' })
  })
})

describe('assignPod', () => {
  it('sets nodeName, merges annotations (the Binding\'s win) and adds PodScheduled=True without changing its input', () => {
    const before = pod({ metadata: { annotations: { a: 'old', keep: 'x' } } })
    const frozen = structuredClone(before)
    const d = assignPod(before, bindingTo('node-a', { annotations: { a: 'new' } }), now)
    expect(d.kind).toBe('assign')
    if (d.kind !== 'assign') return
    expect(d.pod.spec.nodeName).toBe('node-a')
    expect(d.pod.metadata.annotations).toEqual({ a: 'new', keep: 'x' })
    expect(d.pod.status?.conditions).toEqual([{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }])
    expect(before).toEqual(frozen)
  })

  it('refuses, in upstream\'s order: preconditions, deletion, an existing nodeName, scheduling gates', () => {
    const refusal = (p: Pod, b = bindingTo('n')): string => {
      const d = assignPod(p, b, now)
      return d.kind === 'refuse' ? `${d.error.code} ${d.error.message}` : 'assigned'
    }
    expect(refusal(pod(), bindingTo('n', { uid: 'other' }))).toBe('409 Operation cannot be fulfilled on pods "p": Precondition failed: UID in precondition: other, UID in object meta: u-1')
    expect(refusal(pod(), bindingTo('n', { resourceVersion: '6' }))).toBe('409 Operation cannot be fulfilled on pods "p": Precondition failed: ResourceVersion in precondition: 6, ResourceVersion in object meta: 7')
    expect(refusal(pod({ metadata: { deletionTimestamp: now }, spec: { nodeName: 'x' } }))).toBe('409 Operation cannot be fulfilled on pods/binding "p": pod p is being deleted, cannot be assigned to a host')
    expect(refusal(pod({ spec: { nodeName: 'x', schedulingGates: [{ name: 'g' }] } }))).toBe('409 Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "x"')
    expect(refusal(pod({ spec: { schedulingGates: [{ name: 'g' }] } }))).toBe('409 Operation cannot be fulfilled on pods/binding "p": pod p has non-empty .spec.schedulingGates')
    expect(refusal(pod({ spec: { schedulingGates: [] } }), bindingTo('n', { uid: 'u-1', resourceVersion: '7' }))).toBe('assigned')
  })

  it('refuses annotations that pass the 256 KiB limit only together with the Pod\'s, naming metadata.annotations', () => {
    const half = 'x'.repeat(130 * 1024)
    const d = assignPod(pod({ metadata: { annotations: { a: half } } }), bindingTo('n', { annotations: { b: half } }), now)
    expect(d.kind === 'refuse' && d.error).toMatchObject({ code: 422, reason: 'Invalid', details: { kind: 'Binding', causes: [{ field: 'metadata.annotations', reason: 'FieldValueTooLong' }] } })
  })
})

describe('updatePodCondition', () => {
  const old = { type: 'PodScheduled', status: 'False' as const, reason: 'Unschedulable', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z', lastProbeTime: null }
  const ready = { type: 'Ready', status: 'True' as const }
  it('replaces the condition of its type in place, dropping reason and message, stamped now when the status changes', () => {
    expect(updatePodCondition([old, ready], { type: 'PodScheduled', status: 'True' }, now))
      .toEqual([{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }, ready])
  })
  it('keeps the old lastTransitionTime when the status is the same, and appends a new type', () => {
    expect(updatePodCondition([old], { type: 'PodScheduled', status: 'False' }, now)[0]?.['lastTransitionTime']).toBe('2026-01-01T00:00:00Z')
    expect(updatePodCondition([ready], { type: 'PodScheduled', status: 'True' }, now).map((c) => c.type)).toEqual(['Ready', 'PodScheduled'])
  })
})
