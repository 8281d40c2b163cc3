/**
 * DATA_DIR/kernel.json: where `kpe node exec` finds the namespaces of a running `kpe up
 * --dataplane kernel`: the user namespace's identity and, per node and per pod, the PID of the
 * process holding its network namespace. Written by kpe up on every change; read and checked here.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InputError, NotFoundError } from '../errors.js'

export const kernelStateFileName = 'kernel.json'

export interface KernelState {
  readonly version: 1
  /** The kpe up process that owns the namespaces. */
  readonly pid: number
  /** `/proc/PID/ns/user` of the user namespace every holder must be in. */
  readonly userNs: string
  /** Node name -> holder PID. */
  readonly nodes: Readonly<Record<string, number>>
  /** `namespace/name` -> holder PID. */
  readonly pods: Readonly<Record<string, number>>
}

export function kernelStatePath(dataDir: string): string {
  return join(dataDir, kernelStateFileName)
}

function pidMap(v: unknown, field: string, file: string): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError({ file, field: field }, 'must be an object of PIDs')
  // No prototype: a node named "__proto__" or "toString" is a key like any other.
  const out: Record<string, number> = Object.create(null) as Record<string, number>
  for (const [k, pid] of Object.entries(v)) {
    if (!Number.isInteger(pid) || (pid as number) <= 1) throw new InputError({ file, field: `${field}.${k}` }, `not a PID: ${JSON.stringify(pid)}`)
    out[k] = pid as number
  }
  return out
}

/** Parses and checks the state text; every field error names the file and the field. */
export function parseKernelState(text: string, file: string): KernelState {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    throw new InputError({ file }, `not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (typeof raw !== 'object' || raw === null) throw new InputError({ file }, 'must be an object')
  const o = raw as Record<string, unknown>
  if (o['version'] !== 1) throw new InputError({ file, field: 'version' }, `unsupported version ${JSON.stringify(o['version'])}`)
  if (!Number.isInteger(o['pid']) || (o['pid'] as number) <= 1) throw new InputError({ file, field: 'pid' }, 'not a PID')
  if (typeof o['userNs'] !== 'string' || !/^user:\[\d+\]$/.test(o['userNs'])) throw new InputError({ file, field: 'userNs' }, 'not a user namespace identity (user:[N])')
  return { version: 1, pid: o['pid'] as number, userNs: o['userNs'], nodes: pidMap(o['nodes'], 'nodes', file), pods: pidMap(o['pods'], 'pods', file) }
}

/** The running kernel dataplane's state, or a NotFoundError saying why there is none. */
export function readKernelState(dataDir: string): KernelState {
  const file = kernelStatePath(dataDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new NotFoundError(`no kernel dataplane in ${dataDir} (${file} is missing)`, { hint: 'start one with `kpe up --dataplane kernel`, or pass its --data-dir' })
  }
  return parseKernelState(text, file)
}
