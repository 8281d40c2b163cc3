/**
 * Known-field lists per kind for fieldValidation=Strict: a tiny schema of nested field sets.
 * Subtrees not enumerated here are 'any' (accepted as is), so a gap never rejects a valid
 * manifest; unknown fields are only reported where the list is complete. Pure.
 */

export type FieldSchema = 'any' | { readonly fields: Readonly<Record<string, FieldSchema>> } | { readonly items: FieldSchema } | { readonly values: FieldSchema }

const any = 'any' as const
function obj(fields: Record<string, FieldSchema>): FieldSchema {
  return { fields }
}
function list(items: FieldSchema): FieldSchema {
  return { items }
}
function anyOf(names: readonly string[]): Record<string, FieldSchema> {
  return Object.fromEntries(names.map((n) => [n, any]))
}

const objectMeta = obj(anyOf(['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields']))

const container = obj({
  ...anyOf(['name', 'image', 'command', 'args', 'workingDir', 'envFrom', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts',
    'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy',
    'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty', 'targetContainerName']),
  ports: list(obj(anyOf(['name', 'hostPort', 'containerPort', 'protocol', 'hostIP']))),
  env: list(obj(anyOf(['name', 'value', 'valueFrom']))),
})

const podSpec = obj({
  ...anyOf(['volumes', 'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy', 'nodeSelector',
    'serviceAccountName', 'serviceAccount', 'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC',
    'shareProcessNamespace', 'securityContext', 'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName', 'tolerations',
    'hostAliases', 'priorityClassName', 'priority', 'dnsConfig', 'readinessGates', 'runtimeClassName', 'enableServiceLinks',
    'preemptionPolicy', 'overhead', 'topologySpreadConstraints', 'setHostnameAsFQDN', 'os', 'hostUsers', 'schedulingGates',
    'resourceClaims', 'resources']),
  containers: list(container),
  initContainers: list(container),
  ephemeralContainers: list(container),
})

const podTemplate = obj({ metadata: objectMeta, spec: podSpec })

function top(fields: Record<string, FieldSchema>): FieldSchema {
  return obj({ apiVersion: any, kind: any, metadata: objectMeta, ...fields })
}

export const kindSchemas: Readonly<Record<string, FieldSchema>> = {
  Namespace: top({ spec: obj(anyOf(['finalizers'])), status: any }),
  Node: top({ spec: obj(anyOf(['podCIDR', 'podCIDRs', 'providerID', 'unschedulable', 'taints', 'configSource', 'externalID'])), status: any }),
  Pod: top({ spec: podSpec, status: any }),
  Service: top({
    spec: obj({
      ...anyOf(['selector', 'clusterIP', 'clusterIPs', 'type', 'externalIPs', 'sessionAffinity', 'loadBalancerIP', 'loadBalancerSourceRanges',
        'externalName', 'externalTrafficPolicy', 'healthCheckNodePort', 'publishNotReadyAddresses', 'sessionAffinityConfig', 'ipFamilies',
        'ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy', 'trafficDistribution']),
      ports: list(obj(anyOf(['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort']))),
    }),
    status: any,
  }),
  Endpoints: top({ subsets: any }),
  ConfigMap: top(anyOf(['data', 'binaryData', 'immutable'])),
  Secret: top(anyOf(['data', 'stringData', 'type', 'immutable'])),
  Event: top(anyOf(['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime',
    'series', 'action', 'related', 'reportingComponent', 'reportingInstance'])),
  EndpointSlice: top({
    addressType: any,
    endpoints: list(obj(anyOf(['addresses', 'conditions', 'hostname', 'targetRef', 'deprecatedTopology', 'nodeName', 'zone', 'hints']))),
    ports: list(obj(anyOf(['name', 'protocol', 'port', 'appProtocol']))),
  }),
  Deployment: top({
    spec: obj({ ...anyOf(['replicas', 'selector', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds']), template: podTemplate }),
    status: any,
  }),
  ReplicaSet: top({
    spec: obj({ ...anyOf(['replicas', 'minReadySeconds', 'selector']), template: podTemplate }),
    status: any,
  }),
  Scale: top({ spec: obj(anyOf(['replicas'])), status: any }),
}

/** Paths of fields the schema does not know, in kube-apiserver's spelling ("spec.ports[0].nmae"). */
export function findUnknownFields(value: unknown, schema: FieldSchema, path = ''): string[] {
  if (schema === 'any' || value === null || typeof value !== 'object') return []
  if ('items' in schema) {
    return Array.isArray(value) ? value.flatMap((v, i) => findUnknownFields(v, schema.items, `${path}[${i}]`)) : []
  }
  if ('values' in schema) {
    return Object.entries(value).flatMap(([k, v]) => findUnknownFields(v, schema.values, path ? `${path}.${k}` : k))
  }
  if (Array.isArray(value)) return []
  const out: string[] = []
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k
    const sub = schema.fields[k]
    if (sub === undefined) out.push(p)
    else out.push(...findUnknownFields(v, sub, p))
  }
  return out
}
