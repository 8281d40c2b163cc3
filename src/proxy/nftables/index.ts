/** kube-proxy's nftables mode as a pure builder: model + node config -> NftRuleset -> `nft -f` text. */
export * from './types.js'
export * from './names.js'
export * from './plan.js'
export * from './build.js'
export * from './render.js'
export * from './sort-dump.js'
export { nodePortIPs, serviceCIDRsOfFamily } from './setup.js'
