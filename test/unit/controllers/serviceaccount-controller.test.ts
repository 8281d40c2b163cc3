import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startControlPlane, type ControlPlane } from '../../../src/cluster/index.js'
import { resources } from '../../../src/controllers/index.js'
import { findResource } from '../../../src/apiserver/index.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function controlPlane(): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'kpe-sa-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const cp = await startControlPlane({ dataDir: dir, port: 0 })
  cleanups.push(() => cp.stop())
  return cp
}

const sa = (cp: ControlPlane, namespace: string) => cp.store.get({ resource: 'serviceaccounts', namespace, name: 'default' })

describe('the ServiceAccount controller', () => {
  it('gives every namespace, built-in or new, a default ServiceAccount and recreates it when deleted', async () => {
    const cp = await controlPlane()
    await cp.controllers.idle()
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) expect(sa(cp, ns), ns).toBeDefined()
    await cp.client.create(findResource('', 'v1', 'namespaces')!, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } })
    await cp.controllers.idle()
    expect(sa(cp, 'shop')?.metadata.uid).toBeTruthy()
    await cp.client.delete(resources.serviceAccounts, 'shop', 'default')
    await cp.controllers.idle()
    expect(sa(cp, 'shop')).toBeDefined()
  })
})
