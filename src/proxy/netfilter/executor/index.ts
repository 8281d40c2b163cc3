/** Executors of restore text: the RuleExecutor seam, iptables-restore's merge as a pure function, and the in-memory (interpreter) executor. */
export * from './rule-executor.js'
export * from './restore-merge.js'
export * from './interpreter-executor.js'
export * from './nft-executor.js'
