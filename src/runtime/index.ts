/** The clock, randomness and timers behind small interfaces, with their one real implementation each. Leaf: imports nothing from kpe. */
export * from './clock.js'
export * from './random.js'
export * from './timers.js'
export * from './rebuild-pacer.js'
export * from './repeating-task.js'
