/**
 * The Kubernetes REST surface over the store: what kubectl and client-node need (version,
 * discovery, OpenAPI stub, CRUD, Tables, watch, PATCH flavours, scale/status, the proxy and
 * portforward subresources), plus the admission seam controllers register with.
 */
export { ApiServer, randomIds, defaultApiServerLimits, type ApiServerOptions, type ApiServerLimits } from './api-server.js'
export type { AdmissionHook, AdmissionContext, AdmissionResult } from './admission.js'
export { ApiError, invalid, alreadyExists, conflict, notFound, badRequest, type Status, type StatusCause, type StatusReason } from './api-error.js'
export type { IdSource } from './object-meta.js'
export { servedResources, findResource, findByKind, storageResource, apiVersionOf, ResourceCatalogue, builtInCatalogue, type ResourceInfo } from '../api/index.js'
export { renderKubeconfig, type KubeconfigOptions } from './kubeconfig.js'
export {
  applyJsonPatch, applyMergePatch, applyStrategicMergePatch, listStrategy, fieldsV1Of, PatchError,
} from './patch/index.js'
export { parseLabelSelector, matchesLabels, parseFieldSelector, matchesFields } from './selectors.js'
export { buildTable } from './tables.js'
export { humanDuration } from './human-duration.js'
export { LocalApiClient, type LocalClientOptions, type LocalDeleteOptions } from './local-client.js'
export type { AdmissionOutcome } from './admission.js'
export { parseProxyPath, splitSchemeNamePort, type ProxyPath, type ProxyKind, type ParsedProxyPath } from './proxy-path.js'
export { serviceProxyLocation, podProxyLocation, type ProxyTarget, type EndpointsLike, type LocationInput } from './proxy-location.js'
export { endToEndHeaders, type ServiceProxyBackend } from './service-proxy.js'
export { servePortForward, validatePortForwardStream, type PortForwardBackend, type PortForwardPod, type PortForwardOptions } from './port-forward.js'
export { handlePodLog, parsePodLogQuery, podLogContainer, type PodLogBackend, type PodLogPod, type PodLogRequest } from './pod-log.js'
export { PortForwardUpgrader, portForwardProtocol, portForwardWebSocketProtocol } from './port-forward-upgrade.js'
export { checkLocalRequest, localAuthority, type LocalAuthority } from './local-origin.js'
export { parseTokenFile, TokenFileError, type StaticTokens, type TokenUser } from './token-file.js'
export { loadOrCreateServingCertificates, createServingCertificates, type ServingCertificates } from './serving-certificates.js'
