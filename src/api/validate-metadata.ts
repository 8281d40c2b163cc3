/**
 * ObjectMeta, label maps and label selectors, with kube-apiserver's field paths and messages.
 * Inputs are structurally decoded already (maps hold strings); these check syntax and limits.
 */
import { FieldErrors, isObject } from './field-errors.js'
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedName } from './validate-names.js'

export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035' | 'path-segment'

const nameMessages: Readonly<Record<NameRule, string>> = {
  'dns1123-subdomain': "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  'dns1123-label': "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  'path-segment': "may not be '.' or '..' and may not contain '/' or '%'",
  dns1035: "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
}

const nameCheck: Readonly<Record<NameRule, (s: string) => boolean>> = {
  'dns1123-subdomain': isDns1123Subdomain,
  'dns1123-label': isDns1123Label,
  dns1035: isDns1035Label,
  'path-segment': (s) => s !== '.' && s !== '..' && !/[/%]/.test(s),
}

/** The name syntax kube-apiserver requires of each kind. */
export function nameRuleFor(kind: string): NameRule {
  switch (kind) {
    case 'Namespace': return 'dns1123-label'
    case 'Service': return 'dns1035'
    case 'Role': case 'RoleBinding': case 'ClusterRole': case 'ClusterRoleBinding': return 'path-segment'
    default: return 'dns1123-subdomain'
  }
}

export function validateName(errs: FieldErrors, path: string, name: string, rule: NameRule): void {
  if (!nameCheck[rule](name)) errs.invalid(path, name, nameMessages[rule])
}

/** kube-apiserver's TotalAnnotationSizeLimitB. */
export const maxAnnotationsBytes = 256 * 1024

const qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
const labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

export function validateMetadata(errs: FieldErrors, meta: unknown, opts: { kind: string; namespaced: boolean }): void {
  if (!isObject(meta)) return errs.required('metadata')
  const name = meta['name']
  if (typeof name !== 'string' || name === '') {
    if (typeof meta['generateName'] !== 'string' || meta['generateName'] === '') errs.required('metadata.name', 'Required value: name or generateName is required')
  } else validateName(errs, 'metadata.name', name, nameRuleFor(opts.kind))
  const ns = meta['namespace']
  if (opts.namespaced && typeof ns === 'string' && ns !== '') validateName(errs, 'metadata.namespace', ns, 'dns1123-label')
  validateLabels(errs, 'metadata.labels', meta['labels'])
  validateAnnotations(errs, 'metadata.annotations', meta['annotations'])
}

/** A label map: qualified-name keys (reported at `path`) and label values (at `path.key`). */
export function validateLabels(errs: FieldErrors, path: string, labels: unknown): void {
  if (labels === undefined) return
  if (!isObject(labels)) return errs.invalid(path, labels, 'must be a map of string keys to string values')
  for (const [k, v] of Object.entries(labels)) {
    if (!isQualifiedName(k)) errs.invalid(path, k, qualifiedNameMessage)
    if (typeof v !== 'string' || !isLabelValue(v)) errs.invalid(`${path}.${k}`, v, labelValueMessage)
  }
}

export function validateAnnotations(errs: FieldErrors, path: string, annotations: unknown): void {
  if (annotations === undefined) return
  if (!isObject(annotations)) return errs.invalid(path, annotations, 'must be a map of string keys to string values')
  let size = 0
  for (const [k, v] of Object.entries(annotations)) {
    if (!isQualifiedName(k.toLowerCase())) errs.invalid(path, k, qualifiedNameMessage)
    if (typeof v !== 'string') errs.invalid(`${path}.${k}`, v, 'must be a string')
    size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0)
  }
  if (size > maxAnnotationsBytes) errs.tooLong(path, maxAnnotationsBytes)
}

const selectorOperators = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const

/** A LabelSelector (matchLabels and matchExpressions), as Deployments and ReplicaSets carry. */
export function validateLabelSelector(errs: FieldErrors, path: string, selector: unknown): void {
  if (!isObject(selector)) return
  validateLabels(errs, `${path}.matchLabels`, selector['matchLabels'])
  const exprs = selector['matchExpressions']
  if (!Array.isArray(exprs)) return
  exprs.forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`
    if (!isObject(e)) return errs.invalid(p, e, 'must be an object')
    const key = e['key']
    if (typeof key !== 'string' || key === '') errs.required(`${p}.key`)
    else if (!isQualifiedName(key)) errs.invalid(`${p}.key`, key, qualifiedNameMessage)
    const op = e['operator']
    const values = Array.isArray(e['values']) ? e['values'] : []
    if (!selectorOperators.includes(op as never)) return errs.notSupported(`${p}.operator`, op, selectorOperators)
    if ((op === 'In' || op === 'NotIn') && values.length === 0) errs.required(`${p}.values`, 'Required value: must be specified when `operator` is \'In\' or \'NotIn\'')
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) errs.forbidden(`${p}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\'')
    values.forEach((v, j) => {
      if (typeof v !== 'string' || !isLabelValue(v)) errs.invalid(`${p}.values[${j}]`, v, labelValueMessage)
    })
  })
}
