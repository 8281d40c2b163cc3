/**
 * The admission hook behind CustomResourceDefinitions: a CRD is defaulted, validated and given
 * its status on every write; a custom resource is pruned, defaulted and validated against the
 * openAPIV3Schema of its version, as kube-apiserver's apiextensions server does.
 */
import { applySchemaDefaults, FieldErrors, formatTimestamp, pruneUnknownFields, type ResourceInfo, validateAgainstSchema } from '../../api/index.js'
import type { KubeObject } from '../../store/index.js'
import type { AdmissionContext, AdmissionHook } from '../admission.js'
import { invalid } from '../api-error.js'
import type { Clock } from '../../runtime/index.js'
import { crdStatus, defaultCrd, validateCrd } from './definition.js'

export const customResourceDefinitionsInfo: ResourceInfo = {
  group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', singular: 'customresourcedefinition',
  kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], categories: ['api-extensions'],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], subresources: ['status'], tracksGeneration: true,
}

function reject(r: ResourceInfo, o: KubeObject, errs: FieldErrors): void {
  if (!errs.ok) throw invalid(r, o.metadata.name ?? '', errs.list.map((e) => ({ reason: e.type, field: e.field, message: e.message })))
}

function admitDefinition(o: KubeObject, ctx: AdmissionContext, clock: Clock): void {
  defaultCrd(o)
  reject(ctx.resource, o, validateCrd(o))
  o['status'] = crdStatus(o, formatTimestamp(clock.now()))
}

function admitCustomResource(o: KubeObject, ctx: AdmissionContext): void {
  const custom = ctx.resource.custom
  if (!custom) return
  pruneUnknownFields(custom.schema, o)
  applySchemaDefaults(custom.schema, o)
  const errs = new FieldErrors()
  validateAgainstSchema(custom.schema, o, errs)
  reject(ctx.resource, o, errs)
}

function admit(o: KubeObject, ctx: AdmissionContext, clock: Clock): void {
  if (ctx.resource === customResourceDefinitionsInfo) admitDefinition(o, ctx, clock)
  else admitCustomResource(o, ctx)
}

export function customResourceAdmission(clock: Clock): AdmissionHook {
  return {
    name: 'customresources',
    beforeCreate: (o, ctx) => admit(o, ctx, clock),
    beforeUpdate: (o, _old, ctx) => admit(o, ctx, clock),
  }
}
