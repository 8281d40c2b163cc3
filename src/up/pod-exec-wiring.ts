/**
 * Assembles exec and attach for `kpe up`: the toolbox contexts over the store's objects and the
 * backend the API server calls. The store is read lazily (it exists once the control plane runs).
 */
import type { Node, Pod, Service } from '../api/index.js'
import type { ObjectStore } from '../store/index.js'
import type { EphemeralPorts } from './ephemeral-ports.js'
import { PodRemoteCommand, type HostExec } from './pod-exec-backend.js'
import { PodToolboxContexts } from './pod-toolbox.js'

export interface PodExecWiring {
  readonly contexts: PodToolboxContexts
  readonly backend: PodRemoteCommand
}

export function podExecWiring(ports: EphemeralPorts, store: () => ObjectStore, hostExec?: HostExec): PodExecWiring {
  const contexts = new PodToolboxContexts(ports, {
    services: () => store().list('services').items as unknown as Service[],
    node: (name) => store().get({ resource: 'nodes', namespace: '', name }) as unknown as Node | undefined,
    podUIDs: () => new Set((store().list('pods').items as unknown as Pod[]).map((p) => p.metadata.uid ?? '')),
  })
  return { contexts, backend: new PodRemoteCommand(contexts, hostExec) }
}
