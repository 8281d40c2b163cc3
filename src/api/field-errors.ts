/**
 * Field-level validation results, shaped like kube-apiserver's field.ErrorList: a path such as
 * `spec.ports[0].port` and a message. Shared by manifest loading (kpe rules) and the API server.
 */

export interface FieldError {
  readonly field: string
  readonly type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueDuplicate' | 'FieldValueNotSupported' | 'FieldValueForbidden'
    | 'FieldValueTooLong' | 'FieldValueTooMany'
  readonly message: string
}

/** Values longer than this are cut in messages, so a huge bad value cannot make a huge answer. */
const maxShownValue = 256

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > maxShownValue ? `${text.slice(0, maxShownValue)}... (truncated)` : text
}

export class FieldErrors {
  readonly list: FieldError[] = []
  invalid(field: string, value: unknown, why: string): void {
    this.list.push({ field, type: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${why}` })
  }
  required(field: string, why = 'Required value'): void {
    this.list.push({ field, type: 'FieldValueRequired', message: why })
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ field, type: 'FieldValueDuplicate', message: `Duplicate value: ${show(value)}` })
  }
  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    this.list.push({
      field,
      type: 'FieldValueNotSupported',
      message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
    })
  }
  forbidden(field: string, why: string): void {
    this.list.push({ field, type: 'FieldValueForbidden', message: `Forbidden: ${why}` })
  }
  tooLong(field: string, max: number, unit = 'bytes'): void {
    this.list.push({ field, type: 'FieldValueTooLong', message: `Too long: must have at most ${max} ${unit}` })
  }
  tooMany(field: string, actual: number, max: number): void {
    this.list.push({ field, type: 'FieldValueTooMany', message: `Too many: ${actual}: must have at most ${max} items` })
  }
  unknownField(field: string): void {
    this.list.push({ field, type: 'FieldValueNotSupported', message: 'unknown field' })
  }
  get ok(): boolean {
    return this.list.length === 0
  }
}

/** Reports every key of `obj` that is not in `known`, as `path.key`. */
export function checkKnownFields(errs: FieldErrors, path: string, obj: unknown, known: readonly string[]): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) errs.unknownField(path ? `${path}.${key}` : key)
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}
