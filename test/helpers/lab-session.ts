/**
 * A lab for tests: plans, brings up and always takes down a kernel lab from a manifest set,
 * with its state under a per-process temporary directory and a per-process prefix.
 */
import { rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ManifestSet } from '../../src/api/index.js'
import { buildLabRules, labDown, labFamilies, labStateDir, labUp, planLab, syncLabProxiers, type IptablesBackend, type LabPlan, type LabState, type NodeRules } from '../../src/lab/index.js'
import { clusterObjects, type NodeConfigSource } from '../../src/proxy/model/index.js'
import { labRootless } from './root.js'

export const labTestStateRoot = join(tmpdir(), `kpe-lab-test-${process.pid}`)

/** A prefix unique to this process and purpose (1 letter tag + pid). */
export function testLabPrefix(tag: string): string {
  return `k${tag}${process.pid % 100000}`.slice(0, 8)
}

export function configOf(manifests: ManifestSet): NodeConfigSource | undefined {
  const kpc = manifests.kubeProxyConfigurations[0]?.object
  return kpc ? { kubeProxyConfiguration: kpc } : undefined
}

export interface TestLab {
  readonly state: LabState
  readonly plan: LabPlan
  readonly rules: readonly NodeRules[]
  readonly manifests: ManifestSet
}

export async function withLab<T>(manifests: ManifestSet, opts: { prefix: string; backend: IptablesBackend; rootless?: boolean }, fn: (lab: TestLab) => Promise<T>): Promise<T> {
  const config = configOf(manifests)
  const rules = buildLabRules(manifests, config)
  const objects = clusterObjects(manifests)
  const plan = planLab(
    { nodes: objects.nodes, pods: manifests.pods.map((l) => l.object), endpointSlices: objects.endpointSlices },
    { prefix: opts.prefix, localhostNodePorts: rules.some((r) => r.input.config.localhostNodePorts) },
  )
  const stateDir = labStateDir(labTestStateRoot, opts.prefix)
  const mode = config?.kubeProxyConfiguration?.mode === 'nftables' ? 'nftables' : 'iptables'
  const state = await labUp({ plan, backend: opts.backend, mode, rootless: opts.rootless ?? labRootless, families: labFamilies(config), stateDir, program: (s) => syncLabProxiers(s, { manifests, config }) })
  try {
    return await fn({ state, plan, rules, manifests })
  } finally {
    await labDown(stateDir)
    removeEmptyStateRoot()
  }
}

/** The per-process state root, once no lab of this process is left in it. */
export function removeEmptyStateRoot(): void {
  try {
    rmdirSync(labTestStateRoot)
  } catch {
    // not empty (another lab of this process is up) or already gone
  }
}
