/**
 * The events a kubelet records while it starts a container, as values: Pulling and Pulled (or
 * "already present" when the node has the image and the policy allows it), Created, Started;
 * and the note of a failed readiness probe. Notes follow kubelet 1.33's wording.
 */
import type { ProbeAction } from './readiness.js'

export interface ContainerEvent {
  readonly reason: string
  readonly note: string
  readonly action: string
}

export interface ImageFacts {
  /** This node has started a container of the image before. */
  readonly present: boolean
  readonly pullPolicy: string | undefined
}

/** Kubernetes' default pull policy: Always for `:latest` or untagged images, else IfNotPresent. */
export function effectivePullPolicy(image: string, policy: string | undefined): string {
  if (policy) return policy
  const last = image.split('/').pop() ?? ''
  const tagged = last.includes(':') && !last.endsWith(':latest')
  return tagged || image.includes('@') ? 'IfNotPresent' : 'Always'
}

export function containerEvents(container: string, image: string, facts: ImageFacts): ContainerEvent[] {
  // kpe fetches no image: a "pull" takes no time and no bytes (docs/differences.md).
  const pull: ContainerEvent[] = facts.present && effectivePullPolicy(image, facts.pullPolicy) !== 'Always'
    ? [{ reason: 'Pulled', note: `Container image "${image}" already present on machine`, action: 'Pulled' }]
    : [
      { reason: 'Pulling', note: `Pulling image "${image}"`, action: 'Pulling' },
      { reason: 'Pulled', note: `Successfully pulled image "${image}" in 0s (0s including waiting). Image size: 0 bytes.`, action: 'Pulled' },
    ]
  return [
    ...pull,
    { reason: 'Created', note: `Created container: ${container}`, action: 'Created' },
    { reason: 'Started', note: `Started container ${container}`, action: 'Started' },
  ]
}

/** What the Unhealthy event says about a failed readiness probe (the prober reports no detail). */
export function probeFailureNote(action: ProbeAction, podIP: string): string {
  switch (action.kind) {
    case 'http': return `Readiness probe failed: Get "http://${podIP}:${action.port}${action.path}": no successful answer`
    case 'tcp': return `Readiness probe failed: dial tcp ${podIP}:${action.port}: no connection`
    case 'assumed-passing': return `Readiness probe failed: ${action.what}`
  }
}
