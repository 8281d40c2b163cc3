/**
 * `kpe up`: one process running the control plane, the node agents and their endpoints, plus the
 * client side of `kpe port-forward`. What the CLI uses; the rest stays inside this folder.
 */
export { agentsInfoFileName, startCluster, type NodeHealthOptions, type RunningCluster, type StartClusterOptions } from './start-cluster.js'
export { renderUpSummary } from './summary.js'
export { ForwardRefusedError, openForward } from './forward-client.js'
export type { ForwardKind } from './port-forward-target.js'
export type { KernelDataplaneContext, KernelDataplaneHandle, StartKernelDataplane } from './kernel-seam.js'
export { podToolboxEntry } from './pod-toolbox.js'
export type { PodNetworkDialer } from './pod-toolbox.js'
