/** One node's agents assembled: kubelet, proxier and userspace dataplane sharing one interpreter executor. */
export * from './node-agents.js'
export * from './lightweight-rules.js'
