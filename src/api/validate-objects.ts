/**
 * The one semantic validator for every kind kpe stores, used by the API server's write pipeline,
 * manifest loading (`kpe rules -f`) and the startup check of a data dir. Its input is already
 * structurally decoded (decode-object.ts), so field types are right; this checks values.
 */
import { FieldErrors } from './field-errors.js'
import { validateConfigMap, validateSecret } from './validate-config-data.js'
import { validateEndpoints, validateEndpointSlice } from './validate-endpoints.js'
import type { IPForms } from './validate-ip.js'
import { validateMetadata } from './validate-metadata.js'
import { validateNode } from './validate-node.js'
import { validatePodSpec, validatePodStatus, validateWorkload, type PodRules } from './validate-pod.js'
import { validateServiceSpec } from './validate-service.js'
import { clusterScopedStoredKinds, validateStoredKind } from './validate-stored-kinds.js'

/**
 * `apiserver`: what kube-apiserver requires of new objects. `rules-input`: manifests read by
 * `kpe rules`/`kpe trace`, which keep kube-proxy's leniency for legacy IPv4 forms (leading
 * zeros, as upstream's vectors use) and do not require fields rule building never reads.
 */
export type ValidationProfile = 'apiserver' | 'rules-input'

const clusterScoped = new Set(['Namespace', 'Node'])

export function validateObjectFields(kind: string, obj: Record<string, unknown>, profile: ValidationProfile): FieldErrors {
  const errs = new FieldErrors()
  const forms: IPForms = profile === 'rules-input' ? 'legacy' : 'strict'
  const pod: PodRules = { forms, requireImages: profile === 'apiserver' }
  validateMetadata(errs, obj['metadata'], { kind, namespaced: !clusterScoped.has(kind) && !clusterScopedStoredKinds.has(kind) })
  switch (kind) {
    case 'Service': validateServiceSpec(errs, obj, forms); break
    case 'Pod':
      validatePodSpec(errs, 'spec', obj['spec'], pod)
      validatePodStatus(errs, obj['status'], forms)
      break
    case 'Node': validateNode(errs, obj, forms); break
    case 'EndpointSlice': validateEndpointSlice(errs, obj, forms); break
    case 'Endpoints': validateEndpoints(errs, obj, forms); break
    case 'Deployment': case 'ReplicaSet': validateWorkload(errs, obj, pod); break
    case 'ConfigMap': validateConfigMap(errs, obj); break
    case 'Secret': validateSecret(errs, obj); break
    default: validateStoredKind(errs, kind, obj, pod); break
  }
  return errs
}
