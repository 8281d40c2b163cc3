/**
 * `kpe up --allow-exec` only: `kubectl exec` into a pod whose container is a real process runs
 * the command on the host with the pod's identity in its environment (kubelet/exec-session.ts).
 * Every other pod keeps the toolbox. Without the flag this is never wired, and nothing else in
 * exec or attach can start a process.
 */
import type { RemoteCommandStreams, RemoteCommandTarget } from '../apiserver/index.js'
import { containerPlan, podIdentityEnv, runHostCommand, type PodProxyPorts } from '../kubelet/index.js'
import type { HostExec } from './pod-exec-backend.js'

export function allowExecHostExec(ports: () => PodProxyPorts): HostExec {
  return (target: RemoteCommandTarget, command: readonly string[], streams: RemoteCommandStreams) => {
    const c = (target.pod.spec.containers ?? []).find((x) => x.name === target.container)
    if (!c || containerPlan(c, { allowExec: true }).behaviour.kind !== 'exec') return undefined
    const identity = { namespace: target.namespace, name: target.name, podIP: target.pod.status?.podIP ?? '', node: target.pod.spec.nodeName ?? '' }
    return runHostCommand(command, podIdentityEnv(identity, ports()), { stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr, signal: streams.signal })
  }
}
