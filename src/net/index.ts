/** Addresses, ports, protocols and the upstream chain-name hash. Leaf: imports nothing from kpe. */
export * from './types.js'
export * from './ip.js'
export * from './cidr.js'
export * from './chain-hash.js'
export * from './http-server-guard.js'
export * from './listen.js'
export * from './pod-ip.js'
