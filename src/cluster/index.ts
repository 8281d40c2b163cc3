/**
 * The cluster: its configuration file (KpeCluster) and the function that starts a control plane
 * (store + API server + admission allocators + controllers) from it.
 */
export * from './cluster-config.js'
export { bootstrapCluster, kubernetesService, nodeObject } from './bootstrap.js'
export { openEtcdClusterStore, type EtcdConnection } from './open-etcd-store.js'
export { startControlPlane, openClusterStore, storeDirOf, admissionHooks, kubeconfigFileName, serverInfoFileName, type ControlPlane, type StartControlPlaneOptions, type ServerInfo } from './start-control-plane.js'
export { applyManifestDocuments, parseManifestDocuments, type ManifestDocument } from './apply-manifests.js'
export { scaleNodeConfigs, scaleNodeName, withScaleNodes, scaleNodeAddressRange } from './scale-nodes.js'
