/** The real clock, randomness and timers behind small interfaces, so everything else can run on fakes. Leaf: imports nothing from kpe. */
export * from './system-sources.js'
