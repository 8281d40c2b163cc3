/**
 * The v1 Binding a scheduler posts to bind a Pod to a Node: its type, and its validation at the
 * door (upstream's ValidatePodBinding, pkg/apis/core/validation, plus a node-name syntax check
 * and kube-apiserver's annotation rules). Pure: the body is structurally decoded already.
 */
import { FieldErrors, isObject } from './field-errors.js'
import { validateAnnotations, validateName } from './validate-metadata.js'

export interface Binding {
  readonly apiVersion: 'v1'
  readonly kind: 'Binding'
  readonly metadata: {
    readonly name: string
    readonly namespace?: string
    /** Preconditions on the Pod, as upstream's BindingREST reads them. */
    readonly uid?: string
    readonly resourceVersion?: string
    /** Copied onto the Pod. */
    readonly annotations?: Readonly<Record<string, string>>
  }
  readonly target: { readonly kind?: string; readonly name: string }
}

/** upstream: target.kind may be empty or Node ("<empty>" is how its error lists the empty value). */
const supportedTargetKinds = ['Node', '<empty>'] as const

/**
 * The field errors of a decoded Binding body. target.name must also be a node name (a DNS-1123
 * subdomain): upstream stores any non-empty name, kpe refuses one no Node can carry
 * (docs/differences.md).
 */
export function validateBinding(body: Readonly<Record<string, unknown>>): FieldErrors {
  const errs = new FieldErrors()
  const meta = isObject(body['metadata']) ? body['metadata'] : {}
  const name = meta['name']
  if (typeof name !== 'string' || name === '') errs.required('metadata.name')
  validateAnnotations(errs, 'metadata.annotations', meta['annotations'])
  const target = isObject(body['target']) ? body['target'] : {}
  const kind = target['kind']
  if (kind !== undefined && kind !== '' && kind !== 'Node') errs.notSupported('target.kind', kind, supportedTargetKinds)
  const node = target['name']
  if (typeof node !== 'string' || node === '') errs.required('target.name')
  else validateName(errs, 'target.name', node, 'dns1123-subdomain')
  return errs
}

/** The Binding of a body validateBinding accepted. */
export function toBinding(body: Readonly<Record<string, unknown>>): Binding {
  const meta = isObject(body['metadata']) ? body['metadata'] : {}
  const target = isObject(body['target']) ? body['target'] : {}
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
  const [namespace, uid, resourceVersion] = [text(meta['namespace']), text(meta['uid']), text(meta['resourceVersion'])]
  const annotations = isObject(meta['annotations']) ? meta['annotations'] as Record<string, string> : undefined
  return {
    apiVersion: 'v1', kind: 'Binding',
    metadata: {
      name: String(meta['name'] ?? ''),
      ...(namespace ? { namespace } : {}), ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    },
    target: { ...(text(target['kind']) ? { kind: 'Node' } : {}), name: String(target['name'] ?? '') },
  }
}
