/**
 * Gate for tests that need root, `ip netns` and iptables tools: outside CI they skip with a
 * printed reason; with CI set a missing prerequisite is a loud failure, never a silent skip.
 */
import { describe, expect, it } from 'vitest'
import { missingLabPrerequisites, rootlessUnavailable } from '../../src/lab/index.js'

const ciValue = process.env['CI']
export const isCI = ciValue !== undefined && ciValue !== '' && ciValue !== '0' && ciValue !== 'false'

/**
 * Lab tests build rootless labs (one user namespace, no root) when not root or when
 * KPE_LAB_ROOTLESS=1, as CI's second pass does under a non-root uid.
 */
export const labRootless = process.env['KPE_LAB_ROOTLESS'] === '1' || (typeof process.getuid === 'function' && process.getuid() !== 0)

/** Returns true when the suite may run; otherwise registers the CI failure or prints the skip. */
export function requireLab(suite: string, commands: readonly string[]): boolean {
  const missing = missingLabPrerequisites({ commands: labRootless ? [...commands, 'unshare', 'nsenter'] : commands, rootless: labRootless })
  return requireUserNamespace(suite, missing ?? (labRootless ? rootlessUnavailable() : undefined))
}

/** As requireLab, for tests that need only a user+network namespace (no root): `why` is the reason it cannot run, or undefined. */
export function requireUserNamespace(suite: string, why: string | undefined): boolean {
  if (why === undefined) return true
  if (isCI) {
    describe(`${suite}: prerequisites`, () => {
      it('are present when CI is set', () => {
        expect.fail(`prerequisites missing while CI=${ciValue}: ${why}`)
      })
    })
  } else console.warn(`[${suite}] skipped: ${why}`)
  return false
}
