import { describe, expect, it } from 'vitest'
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../../src/apiserver/index.js'

/** Patch bodies as JSON.parse makes them: "__proto__" is an own key there. */
const parsed = (text: string): unknown => JSON.parse(text)

function expectClean(out: unknown): void {
  expect(({} as Record<string, unknown>)['unschedulable']).toBeUndefined()
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return
    if (!Array.isArray(v)) expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
    // only an own member may answer: nothing inherited
    if (!Object.hasOwn(v, 'unschedulable')) expect((v as Record<string, unknown>)['unschedulable']).toBeUndefined()
    for (const x of Object.values(v)) walk(x)
  }
  walk(out)
}

describe('patch engines never reach a prototype', () => {
  it('JSON patch: /__proto__/x is a missing path, /__proto__ an own member', () => {
    expect(() => applyJsonPatch({ data: {} }, [{ op: 'add', path: '/__proto__/unschedulable', value: true }])).toThrow(/does not exist/)
    expect(() => applyJsonPatch({ data: {} }, [{ op: 'add', path: '/data/__proto__/unschedulable', value: true }])).toThrow(/does not exist/)
    const out = applyJsonPatch({ data: {} }, [{ op: 'add', path: '/data/__proto__', value: { unschedulable: true } }]) as { data: object }
    expect(Object.hasOwn(out.data, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>)['unschedulable']).toBeUndefined()
  })

  it('merge patch: a "__proto__" key is merged as an own member', () => {
    const out = applyMergePatch({ spec: {} }, parsed('{"__proto__":{"unschedulable":true},"spec":{"__proto__":{"unschedulable":true}}}'))
    expectClean(out)
    expect(Object.hasOwn(out as object, '__proto__')).toBe(true)
  })

  it('strategic merge patch: "__proto__" and "constructor" keys are own members, in maps and merged lists', () => {
    const original = { spec: { containers: [{ name: 'c', image: 'i' }] } }
    const patch = parsed('{"__proto__":{"unschedulable":true},"constructor":{"unschedulable":true},"spec":{"__proto__":{"unschedulable":true},"containers":[{"name":"c","__proto__":{"unschedulable":true}}]}}')
    expectClean(applyStrategicMergePatch('Pod', original, patch))
    expectClean(applyStrategicMergePatch('Pod', original, patch, { nullDeletes: false }))
  })
})
