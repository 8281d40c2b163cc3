import { describe, expect, it } from 'vitest'
import { renderIptablesRestore } from '../../src/proxy/netfilter/render-iptables.js'
import { fixtureNames, fixtureRenders, renderFixture } from '../helpers/fixtures.js'

// Golden files under rules/ are the rendered restore input for each fixture, node and family.
// Regenerate them with `npm run rules:update` and read the diff like code.
describe('lesson fixtures render to their golden rules', () => {
  it('has at least twelve lessons', () => {
    expect(fixtureNames().length).toBeGreaterThanOrEqual(12)
  })

  it.each(fixtureRenders().map((r) => [`${r.fixture}/${r.node} ${r.family}`, r] as const))('%s', async (_name, r) => {
    const text = renderIptablesRestore(renderFixture(r).table)
    await expect(text).toMatchFileSnapshot(r.goldenPath)
  })
})
