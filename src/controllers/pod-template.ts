/**
 * A Pod made from a workload's template, as every workload controller makes it: the template's
 * labels and annotations (plus the controller's own), its spec, and a controller ownerReference
 * to the workload (blockOwnerDeletion, so foreground deletion waits for it). Pure.
 */
import type { KubeObject } from '../store/index.js'

type Obj = Record<string, unknown>

export interface PodTemplateOptions {
  /** A fixed name (StatefulSet ordinals) or a generateName prefix. */
  readonly name?: string
  readonly generateName?: string
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
  /** Fields the controller sets on the Pod's spec (hostname, affinity, ...). */
  readonly spec?: Readonly<Obj>
}

export function templateOf(owner: KubeObject): { metadata?: Obj; spec?: Obj } {
  return ((((owner['spec'] as Obj | undefined)?.['template']) ?? {}) as { metadata?: Obj; spec?: Obj })
}

export function podFromTemplate(owner: KubeObject, template: { metadata?: Obj; spec?: Obj }, opts: PodTemplateOptions): KubeObject {
  const annotations = { ...((template.metadata?.['annotations'] as Record<string, string> | undefined) ?? {}), ...(opts.annotations ?? {}) }
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      ...(opts.name ? { name: opts.name } : { generateName: opts.generateName ?? `${owner.metadata.name ?? ''}-` }),
      namespace: owner.metadata.namespace ?? 'default',
      labels: { ...((template.metadata?.['labels'] as Record<string, string> | undefined) ?? {}), ...(opts.labels ?? {}) },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ownerReferences: [{ apiVersion: String(owner.apiVersion ?? ''), kind: String(owner.kind ?? ''), name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...structuredClone(template.spec ?? {}), ...(opts.spec ? structuredClone(opts.spec) : {}) },
  }
}
