/**
 * ConfigMap and Secret validation: key syntax and kube-apiserver's 1 MiB limit on the data an
 * object carries (MaxSecretSize, which ConfigMaps share).
 */
import { FieldErrors, isObject } from './field-errors.js'

export const maxConfigDataBytes = 1024 * 1024
const configKey = /^[-._a-zA-Z0-9]+$/

type Encoding = 'text' | 'base64'

/** Checks the keys of one data map (and across maps, via `seen`); returns the bytes its values hold. */
function validateData(errs: FieldErrors, path: string, data: unknown, encoding: Encoding, seen: Set<string>): number {
  if (!isObject(data)) return 0
  let size = 0
  for (const [k, v] of Object.entries(data)) {
    if (k === '.' || k.startsWith('..')) errs.invalid(path, k, "must not be '.' or '..', or start with '..'")
    else if (k.length > 253 || !configKey.test(k)) errs.invalid(path, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
    else if (seen.has(k)) errs.invalid(path, k, 'duplicate of key present in another data field')
    seen.add(k)
    if (typeof v === 'string') size += encoding === 'text' ? Buffer.byteLength(v) : base64Bytes(v)
  }
  return size
}

export function validateConfigMap(errs: FieldErrors, obj: Record<string, unknown>): void {
  const seen = new Set<string>()
  const size = validateData(errs, 'data', obj['data'], 'text', seen) + validateData(errs, 'binaryData', obj['binaryData'], 'base64', seen)
  if (size > maxConfigDataBytes) errs.tooLong('', maxConfigDataBytes)
}

export function validateSecret(errs: FieldErrors, obj: Record<string, unknown>): void {
  const size = validateData(errs, 'data', obj['data'], 'base64', new Set()) + validateData(errs, 'stringData', obj['stringData'], 'text', new Set())
  if (size > maxConfigDataBytes) errs.tooLong('data', maxConfigDataBytes)
}

/** Decoded size of a base64 value (the bytes kube-apiserver counts). */
function base64Bytes(v: string): number {
  const clean = v.replace(/[\r\n]/g, '')
  return Math.floor((clean.length * 3) / 4) - (clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0)
}
