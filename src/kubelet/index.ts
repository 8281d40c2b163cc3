/** Node agents' kubelet: pods as local servers on loopback, the pod network table, readiness, status. */
export * from './pod-network-table.js'
export * from './seen-source-table.js'
export * from './pod-behaviour.js'
export * from './pod-replies.js'
export * from './pod-server.js'
export * from './readiness.js'
export * from './probe-runner.js'
export * from './kubelet.js'
