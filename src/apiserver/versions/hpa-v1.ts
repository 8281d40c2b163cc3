/**
 * HorizontalPodAutoscaler between autoscaling/v1 and its storage version autoscaling/v2, with
 * the facts of kube-apiserver's conversion: the CPU utilization target maps to a Resource cpu
 * Utilization metric, and what v1 cannot hold travels in `autoscaling.alpha.kubernetes.io/*`
 * annotations (JSON, v1 metric shapes) so that a v2 → v1 → v2 round trip loses nothing.
 */
type Obj = Record<string, unknown>

const prefix = 'autoscaling.alpha.kubernetes.io/'
export const hpaV1Annotations = {
  metrics: `${prefix}metrics`,
  currentMetrics: `${prefix}current-metrics`,
  conditions: `${prefix}conditions`,
  behavior: `${prefix}behavior`,
} as const

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
function obj(v: unknown): Obj {
  return isObj(v) ? v : {}
}
/** Copies only the keys whose value is defined, so absent fields stay absent. */
function defined(o: Obj): Obj {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}
function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

// v2 metric target/current ↔ v1's flat target fields, per source type.
type Flat = Readonly<Record<string, string>>
const specFields: Record<string, Flat> = {
  Object: { value: 'targetValue', averageValue: 'averageValue' },
  Pods: { averageValue: 'targetAverageValue' },
  Resource: { averageUtilization: 'targetAverageUtilization', averageValue: 'targetAverageValue' },
  ContainerResource: { averageUtilization: 'targetAverageUtilization', averageValue: 'targetAverageValue' },
  External: { value: 'targetValue', averageValue: 'targetAverageValue' },
}
const statusFields: Record<string, Flat> = {
  Object: { value: 'currentValue', averageValue: 'averageValue' },
  Pods: { averageValue: 'currentAverageValue' },
  Resource: { averageUtilization: 'currentAverageUtilization', averageValue: 'currentAverageValue' },
  ContainerResource: { averageUtilization: 'currentAverageUtilization', averageValue: 'currentAverageValue' },
  External: { value: 'currentValue', averageValue: 'currentAverageValue' },
}

/** v2 `metric: {name, selector}` and named sources ↔ v1 `metricName`/`selector` fields. */
function identityToV1(type: string, src: Obj): Obj {
  const metric = obj(src['metric'])
  switch (type) {
    case 'Object': return defined({ target: src['describedObject'], metricName: metric['name'], selector: metric['selector'] })
    case 'Pods': return defined({ metricName: metric['name'], selector: metric['selector'] })
    case 'External': return defined({ metricName: metric['name'], metricSelector: metric['selector'] })
    default: return defined({ name: src['name'], container: src['container'] })
  }
}
function identityToV2(type: string, src: Obj): Obj {
  const metric = (selector: unknown): Obj => ({ metric: defined({ name: src['metricName'], selector }) })
  switch (type) {
    case 'Object': return defined({ describedObject: src['target'], ...metric(src['selector']) })
    case 'Pods': return metric(src['selector'])
    case 'External': return metric(src['metricSelector'])
    default: return defined({ name: src['name'], container: src['container'] })
  }
}

function metricToV1(m: Obj, fields: Record<string, Flat>, valueKey: 'target' | 'current'): Obj {
  const type = String(m['type'] ?? '')
  const key = lowerFirst(type)
  const src = obj(m[key])
  const flat = fields[type] ?? {}
  const value = obj(src[valueKey])
  const out: Obj = identityToV1(type, src)
  for (const [v2, v1] of Object.entries(flat)) if (value[v2] !== undefined) out[v1] = value[v2]
  return { type, [key]: out }
}

function metricToV2(m: Obj, fields: Record<string, Flat>, valueKey: 'target' | 'current'): Obj {
  const type = String(m['type'] ?? '')
  const key = lowerFirst(type)
  const src = obj(m[key])
  const value: Obj = {}
  for (const [v2, v1] of Object.entries(fields[type] ?? {})) if (src[v1] !== undefined) value[v2] = src[v1]
  // A v2 target names its kind; v1 implies it by which field is set.
  if (valueKey === 'target') value['type'] = value['averageUtilization'] !== undefined ? 'Utilization' : value['averageValue'] !== undefined ? 'AverageValue' : 'Value'
  return { type, [key]: { ...identityToV2(type, src), [valueKey]: value } }
}

function isCpuUtilization(m: Obj, valueKey: 'target' | 'current'): boolean {
  const r = obj(m['resource'])
  return m['type'] === 'Resource' && r['name'] === 'cpu' && obj(r[valueKey])['averageUtilization'] !== undefined
}

function parseAnnotation(annotations: Obj, key: string): unknown {
  const text = annotations[key]
  if (typeof text !== 'string') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined // upstream ignores an annotation it cannot read
  }
}

/** An autoscaling/v2 HPA as autoscaling/v1 shows it; pure. */
export function hpaV2ToV1(v2: Obj): Obj {
  const metadata = { ...obj(v2['metadata']) }
  const annotations: Obj = { ...obj(metadata['annotations']) }
  const spec = obj(v2['spec'])
  const status = isObj(v2['status']) ? v2['status'] : undefined

  let targetCPU: unknown
  const otherMetrics: Obj[] = []
  for (const m of Array.isArray(spec['metrics']) ? spec['metrics'].map(obj) : []) {
    if (targetCPU === undefined && isCpuUtilization(m, 'target')) targetCPU = obj(obj(m['resource'])['target'])['averageUtilization']
    else otherMetrics.push(metricToV1(m, specFields, 'target'))
  }
  if (otherMetrics.length > 0) annotations[hpaV1Annotations.metrics] = JSON.stringify(otherMetrics)
  if (spec['behavior'] !== undefined) annotations[hpaV1Annotations.behavior] = JSON.stringify(spec['behavior'])

  let v1Status: Obj | undefined
  if (status) {
    let currentCPU: unknown
    const otherCurrent: Obj[] = []
    for (const m of Array.isArray(status['currentMetrics']) ? status['currentMetrics'].map(obj) : []) {
      if (currentCPU === undefined && isCpuUtilization(m, 'current')) currentCPU = obj(obj(m['resource'])['current'])['averageUtilization']
      else otherCurrent.push(metricToV1(m, statusFields, 'current'))
    }
    if (otherCurrent.length > 0) annotations[hpaV1Annotations.currentMetrics] = JSON.stringify(otherCurrent)
    if (Array.isArray(status['conditions']) && status['conditions'].length > 0) annotations[hpaV1Annotations.conditions] = JSON.stringify(status['conditions'])
    v1Status = defined({
      observedGeneration: status['observedGeneration'], lastScaleTime: status['lastScaleTime'],
      currentReplicas: status['currentReplicas'], desiredReplicas: status['desiredReplicas'], currentCPUUtilizationPercentage: currentCPU,
    })
  }
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations
  return defined({
    ...v2, apiVersion: 'autoscaling/v1', metadata,
    spec: defined({ scaleTargetRef: spec['scaleTargetRef'], minReplicas: spec['minReplicas'], maxReplicas: spec['maxReplicas'], targetCPUUtilizationPercentage: targetCPU }),
    status: v1Status,
  })
}

/** An autoscaling/v1 HPA in its storage version autoscaling/v2 (the annotations consumed); pure. */
export function hpaV1ToV2(v1: Obj): Obj {
  const metadata = { ...obj(v1['metadata']) }
  const annotations: Obj = { ...obj(metadata['annotations']) }
  const spec = obj(v1['spec'])
  const status = isObj(v1['status']) ? v1['status'] : undefined

  const metrics: Obj[] = []
  if (spec['targetCPUUtilizationPercentage'] !== undefined && spec['targetCPUUtilizationPercentage'] !== null) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec['targetCPUUtilizationPercentage'] } } })
  }
  const other = parseAnnotation(annotations, hpaV1Annotations.metrics)
  if (Array.isArray(other)) metrics.push(...other.map((m) => metricToV2(obj(m), specFields, 'target')))
  const behavior = parseAnnotation(annotations, hpaV1Annotations.behavior)

  let v2Status: Obj | undefined
  if (status) {
    const current: Obj[] = []
    if (status['currentCPUUtilizationPercentage'] !== undefined && status['currentCPUUtilizationPercentage'] !== null) {
      current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status['currentCPUUtilizationPercentage'] } } })
    }
    const otherCurrent = parseAnnotation(annotations, hpaV1Annotations.currentMetrics)
    if (Array.isArray(otherCurrent)) current.push(...otherCurrent.map((m) => metricToV2(obj(m), statusFields, 'current')))
    const conditions = parseAnnotation(annotations, hpaV1Annotations.conditions)
    v2Status = defined({
      observedGeneration: status['observedGeneration'], lastScaleTime: status['lastScaleTime'],
      currentReplicas: status['currentReplicas'], desiredReplicas: status['desiredReplicas'],
      currentMetrics: current.length > 0 ? current : undefined, conditions: Array.isArray(conditions) ? conditions : undefined,
    })
  }
  for (const key of Object.values(hpaV1Annotations)) delete annotations[key]
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations
  else delete metadata['annotations']
  return defined({
    ...v1, apiVersion: 'autoscaling/v2', metadata,
    spec: defined({ scaleTargetRef: spec['scaleTargetRef'], minReplicas: spec['minReplicas'], maxReplicas: spec['maxReplicas'], metrics: metrics.length > 0 ? metrics : undefined, behavior: isObj(behavior) ? behavior : undefined }),
    status: v2Status,
  })
}
