/**
 * meta.k8s.io/v1 Table rendering: column definitions and formatted cells per resource, after
 * kube-apiserver's printers (pkg/printers/internalversion/printers.go). Wide-only columns carry
 * priority 1. Pure apart from the `now` it is given for AGE.
 */
import { storedAs } from './versions/conversion.js'
import type { KubeObject } from '../store/index.js'
import { humanDuration } from './human-duration.js'
import { customResourcePrinter } from './crd/printer-columns.js'
import type { ResourceInfo } from '../api/index.js'
import { age, ageCol, arr, at, col, containerImages, containerNames, formatLabelSelector, formatSelector, nameCol, num, str, summarize, type IncludeObject, type Obj, type Printer } from './table-cells.js'
import { storedKindPrinters } from './tables-stored-kinds.js'

export { age, type ColumnDefinition, type IncludeObject } from './table-cells.js'

function servicePorts(o: KubeObject): string {
  const ports = arr(o, 'spec', 'ports').map((p) => {
    const np = p['nodePort'] ? `:${num(p['nodePort'])}` : ''
    return `${num(p['port'])}${np}/${str(p['protocol'], 'TCP')}`
  })
  return ports.length ? ports.join(',') : '<none>'
}

function externalIPs(o: KubeObject): string {
  const type = str(at(o, 'spec', 'type'), 'ClusterIP')
  const external = (at(o, 'spec', 'externalIPs') as string[] | undefined) ?? []
  const lb = arr(o, 'status', 'loadBalancer', 'ingress').map((i) => str(i['ip']) || str(i['hostname'])).filter((x) => x)
  switch (type) {
    case 'ClusterIP': case 'NodePort': return external.length ? external.join(',') : '<none>'
    case 'LoadBalancer': {
      const all = [...lb, ...external]
      return all.length ? all.join(',') : '<pending>'
    }
    case 'ExternalName': return str(at(o, 'spec', 'externalName'))
    default: return '<unknown>'
  }
}

function podReadyAndStatus(o: KubeObject): { ready: string; status: string; restarts: number; lastRestart: number | undefined } {
  const containers = arr(o, 'spec', 'containers')
  const statuses = arr(o, 'status', 'containerStatuses')
  let reason = str(at(o, 'status', 'reason')) || str(at(o, 'status', 'phase'), 'Pending')
  let ready = 0
  let restarts = 0
  /** Latest lastState.terminated.finishedAt, for upstream's "N (AGE ago)". */
  let lastRestart: number | undefined
  for (const cs of statuses) {
    restarts += num(cs['restartCount'])
    const finished = Date.parse(str(at(cs, 'lastState', 'terminated', 'finishedAt')))
    if (!Number.isNaN(finished) && (lastRestart === undefined || finished > lastRestart)) lastRestart = finished
    if (cs['ready'] === true) ready++
    const waiting = str(at(cs, 'state', 'waiting', 'reason'))
    const terminated = str(at(cs, 'state', 'terminated', 'reason'))
    if (waiting) reason = waiting
    else if (terminated) reason = terminated
  }
  if (o.metadata.deletionTimestamp) reason = 'Terminating'
  return { ready: `${ready}/${containers.length}`, status: reason, restarts, lastRestart }
}

function nodeStatus(o: KubeObject): string {
  const ready = arr(o, 'status', 'conditions').find((c) => c['type'] === 'Ready')
  const base = ready ? (ready['status'] === 'True' ? 'Ready' : 'NotReady') : 'Unknown'
  return at(o, 'spec', 'unschedulable') === true ? `${base},SchedulingDisabled` : base
}

function nodeRoles(o: KubeObject): string {
  const roles = Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length))
  return roles.length ? roles.sort().join(',') : '<none>'
}

function nodeAddress(o: KubeObject, type: string): string {
  return str(arr(o, 'status', 'addresses').find((a) => a['type'] === type)?.['address'], '<none>')
}

function endpointsSummary(o: KubeObject): string {
  const list: string[] = []
  for (const subset of arr(o, 'subsets')) {
    const ports = arr(subset, 'ports')
    for (const a of arr(subset, 'addresses')) {
      if (ports.length === 0) list.push(str(a['ip']))
      for (const p of ports) list.push(`${str(a['ip'])}:${num(p['port'])}`)
    }
  }
  return summarize(list)
}

const printers: Readonly<Record<string, Printer>> = {
  ...storedKindPrinters,
  pods: {
    columns: [nameCol, col('Ready'), col('Status'), col('Restarts', { type: 'string' }), ageCol, col('IP', { wide: true }), col('Node', { wide: true }), col('Nominated Node', { wide: true }), col('Readiness Gates', { wide: true })],
    cells: (o, now) => {
      const s = podReadyAndStatus(o)
      const gates = arr(o, 'spec', 'readinessGates')
      return [o.metadata.name ?? '', s.ready, s.status, s.restarts !== 0 && s.lastRestart !== undefined ? `${s.restarts} (${humanDuration(now - s.lastRestart)} ago)` : String(s.restarts), age(o, now), str(at(o, 'status', 'podIP'), '<none>'),
        str(at(o, 'spec', 'nodeName'), '<none>'), str(at(o, 'status', 'nominatedNodeName'), '<none>'), gates.length ? `0/${gates.length}` : '<none>']
    },
  },
  services: {
    columns: [nameCol, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), ageCol, col('Selector', { wide: true })],
    cells: (o, now) => [o.metadata.name ?? '', str(at(o, 'spec', 'type'), 'ClusterIP'), str(at(o, 'spec', 'clusterIP'), '<none>') || '<none>',
      externalIPs(o), servicePorts(o), age(o, now), formatSelector(at(o, 'spec', 'selector'))],
  },
  nodes: {
    columns: [nameCol, col('Status'), col('Roles'), ageCol, col('Version'), col('Internal-IP', { wide: true }), col('External-IP', { wide: true }),
      col('OS-Image', { wide: true }), col('Kernel-Version', { wide: true }), col('Container-Runtime', { wide: true })],
    cells: (o, now) => [o.metadata.name ?? '', nodeStatus(o), nodeRoles(o), age(o, now), str(at(o, 'status', 'nodeInfo', 'kubeletVersion')),
      nodeAddress(o, 'InternalIP'), nodeAddress(o, 'ExternalIP'), str(at(o, 'status', 'nodeInfo', 'osImage'), '<unknown>'),
      str(at(o, 'status', 'nodeInfo', 'kernelVersion'), '<unknown>'), str(at(o, 'status', 'nodeInfo', 'containerRuntimeVersion'), '<unknown>')],
  },
  deployments: {
    columns: [nameCol, col('Ready'), col('Up-to-date', { type: 'integer' }), col('Available', { type: 'integer' }), ageCol,
      col('Containers', { wide: true }), col('Images', { wide: true }), col('Selector', { wide: true })],
    cells: (o, now) => [o.metadata.name ?? '', `${num(at(o, 'status', 'readyReplicas'))}/${num(at(o, 'spec', 'replicas'))}`,
      num(at(o, 'status', 'updatedReplicas')), num(at(o, 'status', 'availableReplicas')), age(o, now), containerNames(o), containerImages(o),
      formatLabelSelector(at(o, 'spec', 'selector'))],
  },
  replicasets: {
    columns: [nameCol, col('Desired', { type: 'integer' }), col('Current', { type: 'integer' }), col('Ready', { type: 'integer' }), ageCol,
      col('Containers', { wide: true }), col('Images', { wide: true }), col('Selector', { wide: true })],
    cells: (o, now) => [o.metadata.name ?? '', num(at(o, 'spec', 'replicas')), num(at(o, 'status', 'replicas')), num(at(o, 'status', 'readyReplicas')),
      age(o, now), containerNames(o), containerImages(o), formatLabelSelector(at(o, 'spec', 'selector'))],
  },
  endpointslices: {
    columns: [nameCol, col('AddressType'), col('Ports'), col('Endpoints'), ageCol],
    cells: (o, now) => {
      const ports = arr(o, 'ports').map((p) => (p['port'] === undefined || p['port'] === null ? '<unset>' : String(num(p['port']))))
      const addrs = arr(o, 'endpoints').flatMap((e) => (Array.isArray(e['addresses']) ? (e['addresses'] as string[]) : []))
      return [o.metadata.name ?? '', str(o['addressType']), ports.length ? ports.join(',') : '<unset>', summarize(addrs), age(o, now)]
    },
  },
  endpoints: {
    columns: [nameCol, col('Endpoints'), ageCol],
    cells: (o, now) => [o.metadata.name ?? '', endpointsSummary(o), age(o, now)],
  },
  namespaces: {
    columns: [nameCol, col('Status'), ageCol],
    cells: (o, now) => [o.metadata.name ?? '', str(at(o, 'status', 'phase'), 'Active'), age(o, now)],
  },
  configmaps: {
    columns: [nameCol, col('Data', { type: 'integer' }), ageCol],
    cells: (o, now) => [o.metadata.name ?? '', Object.keys((o['data'] as Obj | undefined) ?? {}).length + Object.keys((o['binaryData'] as Obj | undefined) ?? {}).length, age(o, now)],
  },
  secrets: {
    columns: [nameCol, col('Type'), col('Data', { type: 'integer' }), ageCol],
    cells: (o, now) => [o.metadata.name ?? '', str(o['type'], 'Opaque'), Object.keys((o['data'] as Obj | undefined) ?? {}).length, age(o, now)],
  },
  events: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message'), nameCol],
    cells: (o, now) => {
      // Core v1 and events.k8s.io/v1 Events print alike; the latter names the fields differently.
      const last = str(o['lastTimestamp']) || str(o['deprecatedLastTimestamp']) || str(o['eventTime']) || o.metadata.creationTimestamp || ''
      const io = (o['involvedObject'] ?? o['regarding'] ?? {}) as Obj
      return [last ? humanDuration(now - Date.parse(last)) : '<unknown>', str(o['type']), str(o['reason']),
        `${str(io['kind']).toLowerCase()}/${str(io['name'])}`, str(o['message']) || str(o['note']), o.metadata.name ?? '']
    },
  },
}

const defaultPrinter: Printer = { columns: [nameCol, ageCol], cells: (o, now) => [o.metadata.name ?? '', age(o, now)] }

function rowObject(o: KubeObject, include: IncludeObject): unknown {
  switch (include) {
    case 'None': return undefined
    case 'Object': return o
    case 'Metadata': return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }
  }
}

export interface TableOptions {
  readonly now: number
  readonly includeObject: IncludeObject
  readonly resourceVersion?: string
}

export function buildTable(r: ResourceInfo, objects: readonly KubeObject[], opts: TableOptions): unknown {
  const p = r.custom ? customResourcePrinter(r.custom.printerColumns) : printers[r.resource] ?? defaultPrinter
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1',
    metadata: opts.resourceVersion === undefined ? {} : { resourceVersion: opts.resourceVersion },
    columnDefinitions: p.columns,
    rows: objects.map((o) => {
      const object = rowObject(o, opts.includeObject)
      // Columns read the storage version, as kube-apiserver prints from its internal version.
      return { cells: p.cells(storedAs(r, o), opts.now), ...(object === undefined ? {} : { object }) }
    }),
  }
}

export function parseIncludeObject(v: string | null): IncludeObject {
  return v === 'Object' || v === 'None' ? v : 'Metadata'
}
