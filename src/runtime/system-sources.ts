/**
 * The real clock, randomness and timers, for the shell that starts the node agents (kpe up).
 * Nothing below the shell reads them directly; tests pass seeded and fake ones instead.
 */
import { realTimers, type Timers } from '../kubelet/index.js'
import type { Clock, RandomSource } from '../proxy/netfilter/index.js'

export const systemClock: Clock = { now: () => Date.now() }

export const mathRandomSource: RandomSource = { next: () => Math.random() }

export const systemTimers: Timers = realTimers
