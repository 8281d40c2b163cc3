/**
 * Records the test file's uncaught exceptions (a server that throws out of a socket or request
 * handler would end a real kpe process), so a test can assert that none happened.
 */
import { afterAll, beforeAll } from 'vitest'

/** The list the file's uncaught exceptions are pushed to, from its first test to its last. */
export function recordUncaught(): unknown[] {
  const uncaught: unknown[] = []
  const record = (e: unknown): void => { uncaught.push(e) }
  beforeAll(() => { process.on('uncaughtException', record) })
  afterAll(() => { process.off('uncaughtException', record) })
  return uncaught
}
