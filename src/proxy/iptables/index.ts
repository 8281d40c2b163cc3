/** kube-proxy's iptables mode as a pure builder: model + node config -> RuleTable. */
export * from './chains.js'
export * from './plan.js'
export * from './build.js'
export * from './sort-rules.js'
export * from './saved-view.js'
export * from './rule-diff.js'
export * from './service-port-rules.js'
export * from './incremental-build.js'
