/** The nft interpreter: nftables semantics over a parsed ruleset, in explore and sample modes. */
export type { NftHop, NftOutcome, NftRuleLocation, NftSetEffect, NftUnmodelled } from './types.js'
export { compileNft } from './program.js'
export type { NftProgram } from './program.js'
export { exploreNft, sampleNft } from './modes.js'
export type { NftExploreOptions, NftSampleOptions } from './modes.js'
export { createNftSetState, type NftSetState } from './set-state.js'
export { NftRuleLoopError } from './walk.js'
