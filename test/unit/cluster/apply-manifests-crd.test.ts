/**
 * `kpe up -f` with a CustomResourceDefinition followed by objects of it: the manifests go
 * through the API server's own catalogue and admission chain, so the custom resources are
 * applied (after the CRD is served), validated against its schema, and pruned.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { applyManifestDocuments, parseManifestDocuments, startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'
import { InputError } from '../../../src/errors.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function controlPlane(): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-crd-manifests-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const cp = await startControlPlane({ dataDir: dir, port: 0 })
  cleanups.push(() => cp.stop())
  return cp
}

const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: crontabs.stable.example.com }
spec:
  group: stable.example.com
  scope: Namespaced
  names: { plural: crontabs, singular: crontab, kind: CronTab }
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec: { type: string }
              replicas: { type: integer, minimum: 1, default: 1 }
`

function cronTab(name: string, spec: string): string {
  return `---\napiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: { name: ${name}, namespace: default }\nspec: ${spec}\n`
}

describe('kpe up -f with CRDs', () => {
  it('applies a CRD, then its custom resources, with schema defaults and pruning', async () => {
    const cp = await controlPlane()
    const docs = parseManifestDocuments(crd + cronTab('a', '{ cronSpec: "* * * * */5", extra: x }') + cronTab('b', '{ cronSpec: "0 * * * *", replicas: 3 }'), 'm.yaml')
    expect(await applyManifestDocuments(cp.client, docs)).toEqual(['customresourcedefinition/crontabs.stable.example.com applied', 'crontab/a applied', 'crontab/b applied'])
    const info = cp.client.findByKind('stable.example.com/v1', 'CronTab')!
    const stored = cp.store.list(`${info.resource}.${info.group}`).items.map((o) => [o.metadata.name, o['spec']])
    expect(stored).toEqual([['a', { cronSpec: '* * * * */5', replicas: 1 }], ['b', { cronSpec: '0 * * * *', replicas: 3 }]])
  })

  it('rejects a custom resource that breaks the CRD schema, naming the document and field', async () => {
    const cp = await controlPlane()
    const docs = parseManifestDocuments(crd + cronTab('bad', '{ replicas: 0 }'), 'm.yaml')
    const err = await applyManifestDocuments(cp.client, docs).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InputError)
    expect((err as Error).message).toContain('m.yaml, document 2 (CronTab default/bad)')
    expect((err as Error).message).toContain('spec.cronSpec: Required value')
    expect((err as Error).message).toContain('spec.replicas: Invalid value: 0')
  })

  it('still refuses a kind that no CRD in the run defines, without waiting', async () => {
    const cp = await controlPlane()
    const started = Date.now()
    const docs = parseManifestDocuments(cronTab('a', '{ cronSpec: x }'), 'm.yaml')
    await expect(applyManifestDocuments(cp.client, docs)).rejects.toThrow(/kind CronTab \(stable\.example\.com\/v1\) is not served/)
    expect(Date.now() - started).toBeLessThan(2_000)
  })
})
