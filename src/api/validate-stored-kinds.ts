/**
 * Semantic checks for the built-in kinds kpe stores without running their controller (Jobs,
 * RBAC, policy, networking, autoscaling, storage, ...): the required fields and value rules of
 * kube-apiserver's validation that clients meet in practice, with its field paths.
 */
import { FieldErrors, isObject } from './field-errors.js'
import { validatePodSpec, validateWorkload, type PodRules } from './validate-pod.js'
import { validateLabels, validateLabelSelector } from './validate-metadata.js'
import { oneOf } from './validate-service.js'

type Obj = Record<string, unknown>
const objAt = (o: unknown, key: string): Obj | undefined => (isObject(o) && isObject(o[key]) ? o[key] : undefined)
const listAt = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
const present = (v: unknown): boolean => v !== undefined && v !== ''

function nonNegative(errs: FieldErrors, path: string, v: unknown): void {
  if (typeof v === 'number' && v < 0) errs.invalid(path, v, 'must be greater than or equal to 0')
}

/** A Job's spec at `path` ("spec", or "spec.jobTemplate.spec" in a CronJob). */
function validateJobSpec(errs: FieldErrors, path: string, spec: Obj | undefined, rules: PodRules): void {
  if (!spec) return errs.required(path)
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished']) nonNegative(errs, `${path}.${f}`, spec[f])
  if (spec['selector'] !== undefined) validateLabelSelector(errs, `${path}.selector`, spec['selector'])
  const template = objAt(spec, 'template')
  if (!template) return errs.required(`${path}.template`)
  validateLabels(errs, `${path}.template.metadata.labels`, objAt(template, 'metadata')?.['labels'])
  const podSpec = objAt(template, 'spec')
  validatePodSpec(errs, `${path}.template.spec`, podSpec, rules)
  // A Job's pods must end: kube-apiserver refuses the pod default "Always", set or defaulted.
  if (podSpec) oneOf(errs, `${path}.template.spec.restartPolicy`, podSpec['restartPolicy'] ?? 'Always', ['OnFailure', 'Never'])
}

/** A ReplicationController: a plain label map selects, and must match the template's labels. */
function validateReplicationController(errs: FieldErrors, obj: Obj, rules: PodRules): void {
  const spec = objAt(obj, 'spec')
  if (!spec) return errs.required('spec')
  nonNegative(errs, 'spec.replicas', spec['replicas'])
  nonNegative(errs, 'spec.minReadySeconds', spec['minReadySeconds'])
  const template = objAt(spec, 'template')
  if (!template) return errs.required('spec.template')
  const labels = objAt(objAt(template, 'metadata'), 'labels') ?? {}
  const selector = objAt(spec, 'selector') ?? labels
  if (Object.keys(selector).length === 0) errs.required('spec.selector')
  validateLabels(errs, 'spec.selector', selector)
  if (Object.entries(selector).some(([k, v]) => labels[k] !== v)) errs.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`')
  validateLabels(errs, 'spec.template.metadata.labels', labels)
  validatePodSpec(errs, 'spec.template.spec', objAt(template, 'spec'), rules)
}

function validateCronJob(errs: FieldErrors, obj: Obj, rules: PodRules): void {
  const spec = objAt(obj, 'spec')
  if (!spec) return errs.required('spec')
  if (!present(spec['schedule'])) errs.required('spec.schedule')
  oneOf(errs, 'spec.concurrencyPolicy', spec['concurrencyPolicy'], ['Allow', 'Forbid', 'Replace'])
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) nonNegative(errs, `spec.${f}`, spec[f])
  validateJobSpec(errs, 'spec.jobTemplate.spec', objAt(objAt(spec, 'jobTemplate'), 'spec'), rules)
}

function validateBinding(errs: FieldErrors, obj: Obj, roleKinds: readonly string[]): void {
  const ref = objAt(obj, 'roleRef')
  if (!ref) return errs.required('roleRef')
  if (!present(ref['name'])) errs.required('roleRef.name')
  if (!present(ref['kind'])) errs.required('roleRef.kind')
  else oneOf(errs, 'roleRef.kind', ref['kind'], roleKinds)
  listAt(obj['subjects']).forEach((s, i) => {
    const p = `subjects[${i}]`
    if (!isObject(s)) return
    if (!present(s['name'])) errs.required(`${p}.name`)
    if (!present(s['kind'])) errs.required(`${p}.kind`)
    else oneOf(errs, `${p}.kind`, s['kind'], ['ServiceAccount', 'User', 'Group'])
    if (s['kind'] === 'ServiceAccount' && !present(s['namespace']) && roleKinds.length === 1) errs.required(`${p}.namespace`)
  })
}

function validatePolicyRules(errs: FieldErrors, obj: Obj): void {
  listAt(obj['rules']).forEach((r, i) => {
    if (!isObject(r)) return
    if (listAt(r['verbs']).length === 0) errs.required(`rules[${i}].verbs`, 'Required value: verbs must contain at least one value')
  })
}

function validatePodDisruptionBudget(errs: FieldErrors, obj: Obj): void {
  const spec = objAt(obj, 'spec')
  if (!spec) return
  if (spec['minAvailable'] !== undefined && spec['maxUnavailable'] !== undefined) {
    errs.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set')
  }
  validateLabelSelector(errs, 'spec.selector', spec['selector'])
}

function validateIngress(errs: FieldErrors, obj: Obj): void {
  const spec = objAt(obj, 'spec')
  if (!spec) return
  listAt(spec['rules']).forEach((rule, i) => {
    listAt(objAt(rule, 'http')?.['paths']).forEach((path, j) => {
      const p = `spec.rules[${i}].http.paths[${j}]`
      if (!isObject(path)) return
      if (path['pathType'] === undefined) errs.required(`${p}.pathType`, 'Required value: pathType must be specified')
      else oneOf(errs, `${p}.pathType`, path['pathType'], ['Exact', 'Prefix', 'ImplementationSpecific'])
      if (!objAt(path, 'backend')) errs.required(`${p}.backend`)
    })
  })
}

function validateAutoscaler(errs: FieldErrors, obj: Obj): void {
  const spec = objAt(obj, 'spec')
  if (!spec) return errs.required('spec')
  const ref = objAt(spec, 'scaleTargetRef')
  if (!ref) errs.required('spec.scaleTargetRef')
  else {
    if (!present(ref['kind'])) errs.required('spec.scaleTargetRef.kind')
    if (!present(ref['name'])) errs.required('spec.scaleTargetRef.name')
  }
  const min = spec['minReplicas']
  const max = spec['maxReplicas']
  if (typeof min === 'number' && min < 1) errs.invalid('spec.minReplicas', min, 'must be greater than or equal to 1')
  if (typeof max !== 'number' || max < 1) errs.invalid('spec.maxReplicas', max ?? 0, 'must be greater than or equal to 1')
  else if (typeof min === 'number' && max < min) errs.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`')
}

function requireFields(errs: FieldErrors, obj: Obj, paths: readonly string[]): void {
  for (const path of paths) {
    const parts = path.split('.')
    let cur: unknown = obj
    for (const p of parts) cur = isObject(cur) ? cur[p] : undefined
    if (!present(cur)) errs.required(path)
  }
}

/** Checks of the stored-only kinds; false when `kind` is none of them. */
export function validateStoredKind(errs: FieldErrors, kind: string, obj: Obj, rules: PodRules): boolean {
  switch (kind) {
    case 'StatefulSet': case 'DaemonSet': validateWorkload(errs, obj, rules); return true
    case 'ReplicationController': validateReplicationController(errs, obj, rules); return true
    case 'Job': validateJobSpec(errs, 'spec', objAt(obj, 'spec'), rules); return true
    case 'CronJob': validateCronJob(errs, obj, rules); return true
    case 'RoleBinding': validateBinding(errs, obj, ['Role', 'ClusterRole']); return true
    case 'ClusterRoleBinding': validateBinding(errs, obj, ['ClusterRole']); return true
    case 'Role': case 'ClusterRole': validatePolicyRules(errs, obj); return true
    case 'PodDisruptionBudget': validatePodDisruptionBudget(errs, obj); return true
    case 'Ingress': validateIngress(errs, obj); return true
    case 'HorizontalPodAutoscaler': validateAutoscaler(errs, obj); return true
    case 'StorageClass': requireFields(errs, obj, ['provisioner']); return true
    case 'PriorityClass': requireFields(errs, obj, ['value']); return true
    case 'CertificateSigningRequest': requireFields(errs, obj, ['spec.request', 'spec.signerName']); return true
    case 'IngressClass': requireFields(errs, obj, ['spec.controller']); return true
    case 'ServiceCIDR': if (listAt(objAt(obj, 'spec')?.['cidrs']).length === 0) errs.required('spec.cidrs'); return true
    case 'ControllerRevision': nonNegative(errs, 'revision', obj['revision']); return true
    case 'PersistentVolumeClaim': case 'PersistentVolume': case 'ServiceAccount': case 'LimitRange': case 'ResourceQuota':
    case 'Lease': case 'NetworkPolicy': return true
    default: return false
  }
}

/** The stored-only kinds that are cluster-scoped. */
export const clusterScopedStoredKinds: ReadonlySet<string> = new Set([
  'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'IngressClass',
  'CertificateSigningRequest', 'ServiceCIDR', 'SelfSubjectReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview',
])

/** Kinds whose names are path segments rather than DNS subdomains (RBAC: "system:controller:..."). */
export const pathSegmentNamedKinds: ReadonlySet<string> = new Set(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'])
