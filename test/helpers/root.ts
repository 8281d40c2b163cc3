/**
 * Gate for tests that need root, `ip netns` and iptables tools: outside CI they skip with a
 * printed reason; with CI set a missing prerequisite is a loud failure, never a silent skip.
 */
import { describe, expect, it } from 'vitest'
import { missingLabPrerequisites } from '../../src/lab/index.js'

const ciValue = process.env['CI']
export const isCI = ciValue !== undefined && ciValue !== '' && ciValue !== '0' && ciValue !== 'false'

/** Returns true when the suite may run; otherwise registers the CI failure or prints the skip. */
export function requireLab(suite: string, commands: readonly string[]): boolean {
  const missing = missingLabPrerequisites({ commands })
  if (missing === undefined) return true
  if (isCI) {
    describe(`${suite}: prerequisites`, () => {
      it('are present when CI is set', () => {
        expect.fail(`prerequisites missing while CI=${ciValue}: ${missing}`)
      })
    })
  } else console.warn(`[${suite}] skipped: ${missing}`)
  return false
}
