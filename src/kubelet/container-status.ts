/**
 * A container's status as the kubelet reports it, from kpe's record of the container: its state
 * (waiting, running, terminated), the last terminated instance, restart count, and the runtime
 * identifiers typed clients require. kpe pulls no images: the image ID is `kpe://image@sha256:`
 * followed by the SHA-256 of the image reference, and a container ID is `kpe://` followed by the
 * SHA-256 of pod UID, container name and instance number (docs/pod-logs.md). Pure.
 */
import { createHash } from 'node:crypto'

export type ContainerState =
  | { readonly kind: 'waiting'; readonly reason: string; readonly message?: string }
  | { readonly kind: 'running'; readonly startedAt: number }
  | { readonly kind: 'terminated'; readonly exitCode: number; readonly reason: string; readonly startedAt: number; readonly finishedAt: number; readonly containerID: string }

export type TerminatedState = Extract<ContainerState, { kind: 'terminated' }>

export interface ContainerRecord {
  readonly name: string
  readonly image: string
  readonly restartCount: number
  readonly state: ContainerState
  readonly lastTerminated: TerminatedState | undefined
  /** The current (or last) instance's ID. */
  readonly containerID: string
  readonly ready: boolean
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex')

export function imageIDOf(image: string): string {
  return `kpe://image@sha256:${sha256(image)}`
}

export function containerIDOf(podUID: string, container: string, instance: number): string {
  return `kpe://${sha256(`${podUID}/${container}/${instance}`)}`
}

/** Seconds precision, as metav1.Time is written. */
export function apiTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')
}

function stateObject(s: ContainerState): Record<string, unknown> {
  switch (s.kind) {
    case 'waiting':
      return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } }
    case 'running':
      return { running: { startedAt: apiTime(s.startedAt) } }
    case 'terminated':
      return { terminated: { exitCode: s.exitCode, reason: s.reason, startedAt: apiTime(s.startedAt), finishedAt: apiTime(s.finishedAt), containerID: s.containerID } }
  }
}

/** One entry of status.containerStatuses (a waiting container has no imageID or containerID yet upstream; kpe always sets both so typed clients read it). */
export function containerStatusOf(r: ContainerRecord): Record<string, unknown> {
  return {
    name: r.name,
    image: r.image,
    imageID: imageIDOf(r.image),
    containerID: r.containerID,
    ready: r.ready && r.state.kind === 'running',
    started: r.state.kind === 'running',
    restartCount: r.restartCount,
    state: stateObject(r.state),
    lastState: r.lastTerminated ? stateObject(r.lastTerminated) : {},
  }
}

/**
 * The phase of a started pod from its containers (kubelet's getPhase): Running while any runs or
 * will run again; once all ended for good, Succeeded when every one exited 0, else Failed.
 */
export function podPhase(states: readonly ContainerState[], restartPolicy: string | undefined): 'Running' | 'Succeeded' | 'Failed' {
  if (states.length === 0 || states.some((s) => s.kind !== 'terminated')) return 'Running'
  const policy = restartPolicy ?? 'Always'
  const allSucceeded = states.every((s) => s.kind === 'terminated' && s.exitCode === 0)
  if (policy === 'Always') return 'Running'
  if (allSucceeded) return 'Succeeded'
  return policy === 'OnFailure' ? 'Running' : 'Failed'
}
