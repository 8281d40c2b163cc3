/**
 * The per-node kube-proxy loop: list+watch, change tracking, rate-limited syncs through a
 * RuleExecutor, and the sync metrics. The only stateful part of proxy/.
 */
export * from './proxier.js'
export { type SkippedService, type NextSync } from './proxier-state.js'
export { NftProxierSync, type NftNextSync } from './nft-proxier-sync.js'
export { ClusterRulesSync, type BuildClusterRules, type ClusterRules, type ClusterSync } from './cluster-rules-sync.js'
export { Histogram, histogramLines, networkProgrammingBucketsSeconds, type HistogramSnapshot } from './histogram.js'
