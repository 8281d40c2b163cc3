/** nftables text as typed values: parse transactions and listings, apply them as `nft -f` does, print them back. */
export * from './types.js'
export { parseNft } from './parse-nft.js'
export { applyNftCommands, declarationsFirst, emptyNftDocument, nftDocumentOf } from './apply-nft.js'
export { renderNftDocument, renderNftRule, renderNftVerdict } from './render-nft.js'
export * from './interpreter/index.js'
export { NftInterpreterExecutor } from './nft-interpreter-executor.js'
