import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeObject, validateObjectFields, type Node, type Pod, type Service } from '../../src/api/index.js'
import { apiVersionOf, buildTable, servedResources } from '../../src/apiserver/index.js'
import type { KubeObject } from '../../src/store/index.js'
import { buildClusterIndex } from '../../src/proxy/userspace/cluster-index.js'
import { mutate, mutationArb, samples } from '../helpers/sample-objects.js'

describe('whatever passes decoding and validation is safe for the readers (tables, the userspace cluster index)', () => {
  it.each(servedResources.filter((r) => Object.hasOwn(samples, r.kind)).map((r) => [r.kind, r] as const))('%s', (kind, info) => {
    const sample = samples[kind]!
    const apiVersion = apiVersionOf(info)
    expect(validateObjectFields(kind, decodeObject(apiVersion, kind, sample)!.object, 'apiserver').list).toEqual([])
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (mutations) => {
        const decoded = decodeObject(apiVersion, kind, mutations.reduce(mutate, sample))!
        if (decoded.typeErrors.length > 0 || !decoded.nullItems.ok) return
        if (!validateObjectFields(kind, decoded.object, 'apiserver').ok) return
        const o = decoded.object as KubeObject
        buildTable(info, [o], { now: Date.parse('2026-12-06T01:00:00Z'), includeObject: 'Object' })
        buildClusterIndex({
          services: kind === 'Service' ? [o as unknown as Service] : [],
          pods: kind === 'Pod' ? [o as unknown as Pod] : [],
          nodes: kind === 'Node' ? [o as unknown as Node] : [],
        })
      }),
      { seed: 61206, numRuns: Number(process.env['KPE_FUZZ_RUNS'] ?? 500), interruptAfterTimeLimit: 10_000 },
    )
  })
})
