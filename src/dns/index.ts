/** Cluster DNS: the zone and resolver core (pure), the wire edge and the servers. */
export * from './dns-records.js'
export * from './dns-zone.js'
export * from './answer-question.js'
export * from './host-lookup.js'
export * from './dns-message.js'
export * from './dns-server.js'
export * from './cluster-dns.js'
