/** Kubernetes object types, manifest loading, validation, and the EndpointSlice controller's pure core. */
export * from './types.js'
export * from './field-errors.js'
export * from './validate-names.js'
export * from './validate-objects.js'
export * from './validate-kube-proxy-config.js'
export * from './manifests.js'
export * from './endpoint-slices.js'
export * from './proxier-config-file.js'
