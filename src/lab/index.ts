/**
 * The kernel lab: throwaway network namespaces and real iptables tools run inside them.
 * Shell code that needs root; nothing in the pure core imports it.
 */
export {
  createNetns,
  deleteNetns,
  iptablesRestoreTest,
  isOnPath,
  listNetns,
  missingLabPrerequisites,
  parseRestoreFailedLine,
  restoreCommand,
  restoreRejectionError,
  runInNetns,
  withNetns,
} from './netns.js'
export type { ExecResult, IptablesBackend, RestoreTestOptions, RestoreTestResult, RunOptions } from './netns.js'
export { runCommand } from './netns.js'
export { KernelExecutor } from './kernel-executor.js'
export type { KernelExecutorOptions } from './kernel-executor.js'
export { iptablesCommand, normalizeSaveText, saveNodeRules } from './node-rules.js'
export type { IptablesTool, NetnsRunner } from './node-rules.js'
export { assertLabPrefix, planPodNetwork, clientPodNamespace, defaultLabPrefix, externalClientKinds, labPrefixPattern, nodeNetnsName, planLab, podNetnsName } from './lab-plan.js'
export type { PodNetworkPlan, AddressPlan, ExternalClient, ExternalClientKind, RoutingRulePlan, LabCluster, LabExternal, LabNode, LabPlan, LabPod, LabPort, LinkPlan, PlanOptions, ProcessPlan, RoutePlan, SysctlPlan } from './lab-plan.js'
export { buildLabRules, labFamilies } from './lab-rules.js'
export type { NodeRules } from './lab-rules.js'
export { hasLabState, labStateDir, readLabState, stateFilePath, writeLabState } from './lab-state.js'
export type { LabProcess, LabProxyMode, LabState } from './lab-state.js'
export { syncLabNftables } from './lab-nft-sync.js'
export { applyLinks, applySysctls, labDown, labExec, labRunner, labUp, podServerFile, probeFile, resolveTarget } from './lab-executor.js'
export { syncLabProxiers } from './lab-proxier.js'
export type { LabNodeSync, LabSyncRequest } from './lab-proxier.js'
export type { LabDownReport, LabNamespaces, LabUpOptions } from './lab-executor.js'
export { flushConntrack, flushRecentLists, labProbe, labProbeBatch } from './lab-probe.js'
export type { ProbeRequest, ProbeResult } from './lab-probe.js'
export { podServerScript, probeScript } from './lab-scripts.js'
export { NftKernelExecutor, fullSyncTransaction } from './nft-kernel-executor.js'
export { isInUserNamespace, nsenterArgv, rootlessUnavailable, startNetnsHolder, startUserNamespace } from './userns-holders.js'
export { notHolderOf } from './holder-provenance.js'
export type { HolderOptions, UserNamespaceHolder } from './userns-holders.js'
export type { LabRootless } from './lab-state.js'
export { labCommandArgv } from './lab-executor.js'
