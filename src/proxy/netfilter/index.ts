/** Typed netfilter rules: the AST, its renderers and parsers, and the interpreter that executes it. */
export * from './types.js'
export * from './render-iptables.js'
export * from './render-saved.js'
export * from './parse-iptables.js'
export * from './tokenize-restore.js'
export * from './interpreter/index.js'
export * from './executor/index.js'
export * from './nft/index.js'
