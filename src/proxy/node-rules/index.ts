/**
 * One node's rules (and every node's) from a set of manifests, in either mode: the node input
 * handed to a builder, the sync since earlier manifests (planNodeSync), and the two modes side by
 * side. What `kpe rules`, `kpe trace` and the lab compute before rendering.
 */
export * from './node-rules.js'
export * from './all-nodes-rules.js'
export * from './plan-node-sync.js'
export * from './node-sync-rules.js'
export * from './node-nft-sync.js'
export * from './compare-modes.js'
