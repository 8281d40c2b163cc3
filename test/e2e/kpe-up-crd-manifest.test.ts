/**
 * Issue 12 item 4 through `kpe up -f`: one manifest file holding a CustomResourceDefinition and
 * two objects of it starts the cluster (the objects wait for their kind to be served), and the
 * real kubectl then lists them by the CRD's plural.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasKubectl, startKpeUp, type KpeUp } from './kpe-up-process.js'

const manifests = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.org
spec:
  group: example.org
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - { name: Size, type: integer, jsonPath: .spec.size }
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: { type: integer, default: 1 }
---
apiVersion: example.org/v1
kind: Widget
metadata: { name: small, namespace: default }
spec: {}
---
apiVersion: example.org/v1
kind: Widget
metadata: { name: large, namespace: default }
spec: { size: 9 }
`

let up: KpeUp
let dir: string

beforeAll(async () => {
  if (!hasKubectl) return
  dir = mkdtempSync(join(tmpdir(), 'kpe-crd-manifest-'))
  const file = join(dir, 'widgets.yaml')
  writeFileSync(file, manifests)
  up = await startKpeUp([file])
}, 40_000)

afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!hasKubectl)('kpe up -f with a CRD and its objects', () => {
  it('starts, and kubectl get <plural> lists the objects with their printer columns', async () => {
    const r = await up.kubectl('get', 'widgets', '--no-headers', '-o', 'custom-columns=NAME:.metadata.name,SIZE:.spec.size')
    expect(r.stderr).toBe('')
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([['large', '9'], ['small', '1']])
    const table = await up.kubectl('get', 'widgets.example.org', 'large')
    expect(table.stdout).toMatch(/^NAME\s+SIZE\s*\nlarge\s+9\s*$/m)
  }, 30_000)
})
