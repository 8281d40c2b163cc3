/** kube-proxy's backend-independent model: Service ports, endpoints, categorization, proxier config. */
export * from './service-port.js'
export * from './endpoint.js'
export * from './categorize-endpoints.js'
export * from './proxier-config.js'
export * from './proxy-state.js'
export * from './traffic-plan.js'
export * from './incremental-proxy-state.js'
export * from './health-checks.js'
