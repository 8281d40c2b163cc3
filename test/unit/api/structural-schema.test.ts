import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FieldErrors } from '../../../src/api/field-errors.js'
import { applySchemaDefaults, pruneUnknownFields, validateAgainstSchema, type StructuralSchema } from '../../../src/api/structural/structural-schema.js'

const crontab: StructuralSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', pattern: '^(\\S+ ){4}\\S+$' },
        image: { type: 'string', maxLength: 20 },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
        mode: { type: 'string', enum: ['Fast', 'Slow'], default: 'Slow' },
        port: { 'x-kubernetes-int-or-string': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
        items: { type: 'array', maxItems: 2, items: { type: 'object', properties: { n: { type: 'integer', default: 7 } } } },
      },
    },
    status: { type: 'object', properties: { ready: { type: 'boolean' } } },
  },
}

function errorsOf(o: unknown): { field: string; message: string }[] {
  const errs = new FieldErrors()
  validateAgainstSchema(crontab, o, errs)
  return errs.list.map((e) => ({ field: e.field, message: e.message }))
}

describe('pruning', () => {
  it('drops unspecified fields, keeps the object frame, preserved and embedded objects', () => {
    const o = {
      apiVersion: 'x/v1', kind: 'CronTab', metadata: { name: 'a' }, junk: 1,
      spec: {
        cronSpec: '* * * * *', bogus: true, labels: { a: 'b' }, extra: { anything: { deep: 1 } },
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {}, nope: 1 },
        items: [{ n: 1, x: 2 }],
      },
    }
    const dropped = pruneUnknownFields(crontab, o)
    expect(dropped.sort()).toEqual(['junk', 'spec.bogus', 'spec.items[0].x', 'spec.template.nope'])
    expect(o).toEqual({
      apiVersion: 'x/v1', kind: 'CronTab', metadata: { name: 'a' },
      spec: {
        cronSpec: '* * * * *', labels: { a: 'b' }, extra: { anything: { deep: 1 } },
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} }, items: [{ n: 1 }],
      },
    })
  })
})

describe('defaults', () => {
  it('fills absent fields at every depth, never present ones', () => {
    const o: Record<string, unknown> = { spec: { cronSpec: '* * * * *', mode: 'Fast', items: [{}, { n: 3 }] } }
    applySchemaDefaults(crontab, o)
    expect(o).toEqual({ spec: { cronSpec: '* * * * *', mode: 'Fast', replicas: 1, items: [{ n: 7 }, { n: 3 }] } })
  })
})

describe('validation', () => {
  it('accepts a valid object', () => {
    expect(errorsOf({ apiVersion: 'x/v1', kind: 'CronTab', metadata: {}, spec: { cronSpec: '* * * * *', replicas: 3, port: 'http', mode: 'Fast' } })).toEqual([])
  })

  it('names the field of each error', () => {
    const errs = errorsOf({ spec: { replicas: 'three', image: 'a'.repeat(21), mode: 'Medium', port: 1.5, items: [{}, {}, {}] }, status: { ready: 'yes' } })
    expect(errs.map((e) => e.field).sort()).toEqual(['spec.cronSpec', 'spec.image', 'spec.items', 'spec.mode', 'spec.port', 'spec.replicas', 'status.ready'])
    expect(errs.find((e) => e.field === 'spec.replicas')?.message).toBe('Invalid value: "three": spec.replicas in body must be of type integer: "string"')
    expect(errs.find((e) => e.field === 'spec.mode')?.message).toBe('Unsupported value: "Medium": supported values: "Fast", "Slow"')
    expect(errs.find((e) => e.field === 'spec.cronSpec')?.message).toBe('Required value')
  })

  it('checks bounds, patterns and simple formats', () => {
    expect(errorsOf({ spec: { cronSpec: 'bad', replicas: 0 } }).map((e) => e.message)).toEqual([
      'Invalid value: "bad": spec.cronSpec in body should match \'^(\\S+ ){4}\\S+$\'',
      'Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
    ])
    const errs = new FieldErrors()
    validateAgainstSchema({ type: 'object', properties: { at: { type: 'string', format: 'date-time' } } }, { at: 'yesterday' }, errs)
    expect(errs.list.map((e) => e.field)).toEqual(['at'])
  })

  it('property: an integer passes exactly when it lies within minimum and maximum', () => {
    fc.assert(fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: -100, max: 100 }), (a, b, v) => {
      const [min, max] = a <= b ? [a, b] : [b, a]
      const errs = new FieldErrors()
      validateAgainstSchema({ type: 'object', properties: { v: { type: 'integer', minimum: min, maximum: max } } }, { v }, errs)
      expect(errs.ok).toBe(v >= min && v <= max)
    }), { seed: 12, numRuns: 300 })
  })

  it('property: pruning leaves only specified fields, and a pruned valid object still validates', () => {
    const value = fc.oneof(fc.integer(), fc.string(), fc.boolean())
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), value), fc.integer({ min: 1, max: 10 }), (junk, replicas) => {
      const o: Record<string, unknown> = { spec: { ...junk, cronSpec: '* * * * *', replicas } }
      pruneUnknownFields(crontab, o)
      const spec = o['spec'] as Record<string, unknown>
      for (const k of Object.keys(spec)) expect(Object.keys(crontab.properties!['spec']!.properties!)).toContain(k)
      expect(spec['cronSpec']).toBe('* * * * *')
      expect(spec['replicas']).toBe(replicas)
    }), { seed: 12, numRuns: 200 })
  })
})
