/**
 * `kpe up --dataplane kernel`: the cluster's nodes and pods as network namespaces in one user
 * namespace, each node's rules loaded into its kernel, pods reached through namespace agents.
 */
export { kernelDataplane, kernelDataplaneUnavailable } from './kernel-dataplane.js'
export type { KernelDataplaneOptions } from './kernel-dataplane.js'
export { KernelNamespaces } from './kernel-namespaces.js'
export { kernelPrefix, planKernelTopology, planPodSandbox, wantsLocalhostNodePorts } from './kernel-topology.js'
export type { PodSandboxPlan, PodSandboxRequest } from './kernel-topology.js'
export { KernelPodSandboxes, portsOf, tcpPortsOf } from './pod-sandboxes.js'
export type { KernelPodSandboxesOptions } from './pod-sandboxes.js'
export { kernelStateFileName, kernelStatePath, parseKernelState, readKernelState } from './kernel-state.js'
export type { KernelState } from './kernel-state.js'
export type { AgentAddressPort, AgentConnection, AgentListener, AgentUdpSocket, PodAgent, StartPodAgent } from './pod-agent.js'
export { packetCaptureScript, splitTcpdump } from './packet-capture.js'
export type { TcpdumpSplit } from './packet-capture.js'
