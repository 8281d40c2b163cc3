/** `kpe trace`: resolve a packet from Kubernetes names, explore it through a node's rules, explain. */
export * from './trace-request.js'
export * from './trace.js'
export * from './render-trace.js'
export * from './rule-meaning.js'
export * from './dump-comments.js'
export * from './trace-nft.js'
