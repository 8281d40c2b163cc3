/** One node's agents assembled: kubelet, proxier and userspace dataplane sharing one interpreter executor (and, in the kernel dataplane, the node's kernel). */
export * from './node-agents.js'
export * from './kernel-hooks.js'
export * from './kernel-first-executor.js'
export * from './lightweight-rules.js'
