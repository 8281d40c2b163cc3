/**
 * The query of pods/NAME/exec and pods/NAME/attach, checked as kube-apiserver and the kubelet
 * check it (PodExecOptions / PodAttachOptions), and the container it names. Pure: reads the
 * query and the Pod only.
 */
import type { Pod } from '../../api/index.js'
import { ApiError } from '../api-error.js'

export type RemoteCommandKind = 'exec' | 'attach'

export interface RemoteCommandOptions {
  readonly kind: RemoteCommandKind
  /** exec only: the argv, one `command` parameter per word. */
  readonly command: readonly string[]
  readonly container: string
  readonly stdin: boolean
  readonly stdout: boolean
  readonly stderr: boolean
  readonly tty: boolean
}

/** Go's strconv.ParseBool, which the query decoder uses (the Python client sends `True`). */
export function parseQueryBool(params: URLSearchParams, name: string): boolean {
  const v = params.get(name)
  if (v === null || v === '') return false
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  throw new ApiError(400, 'BadRequest', `invalid value for query parameter ${name}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`)
}

/** The container a request names, or the only one when it names none (kube-apiserver's rule). */
export function resolveContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata.name ?? ''
  const containers = (pod.spec?.containers ?? []).map((c) => c.name)
  if (requested === null || requested === '') {
    if (containers.length === 1) return containers[0]!
    throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`)
  }
  if (containers.includes(requested)) return requested
  // initContainers is not in kpe's typed PodSpec; it is read as stored.
  const init = (pod.spec as { initContainers?: readonly { name?: unknown }[] } | undefined)?.initContainers
  if (Array.isArray(init) && init.some((c) => c?.name === requested)) throw new ApiError(400, 'BadRequest', `container ${requested} is an init container of pod ${name}; it is not running`)
  throw new ApiError(400, 'BadRequest', `container ${requested} is not valid for pod ${name}`)
}

export function parseRemoteCommandOptions(kind: RemoteCommandKind, params: URLSearchParams, pod: Pod): RemoteCommandOptions {
  const command = kind === 'exec' ? params.getAll('command') : []
  if (kind === 'exec' && command.length === 0) throw new ApiError(400, 'BadRequest', 'you must specify at least 1 command')
  const stdin = parseQueryBool(params, 'stdin')
  const stdout = parseQueryBool(params, 'stdout')
  const stderr = parseQueryBool(params, 'stderr')
  const tty = parseQueryBool(params, 'tty')
  if (!stdin && !stdout && !stderr) throw new ApiError(400, 'BadRequest', 'you must specify at least 1 of stdin, stdout, stderr')
  // A terminal has one output: the kubelet drops stderr when tty is set.
  return { kind, command, container: resolveContainer(pod, params.get('container')), stdin, stdout, stderr: stderr && !tty, tty }
}
