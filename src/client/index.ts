/** The list+watch client node agents read objects through: the ObjectSource contract, the relisting ListWatcher, and an in-memory source for tests. */
export * from './object-source.js'
export * from './memory-source.js'
export * from './list-watch.js'
export * from './selected-source.js'
export * from './kubeconfig.js'
export * from './rest-client.js'
