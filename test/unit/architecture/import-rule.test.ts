/**
 * The import rule of docs/architecture.md, held by a test: every module under src/ imports only
 * layers above its own, through their index.ts, and none of the forbidden imports; the doc draws
 * the same layer list. The checker itself is tested on small synthetic trees.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { checkImports, extractImports, layersInDoc, type SourceText } from './import-rule.js'
import { kpeLayout, type ImportLayout } from './layout.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

function readSources(dir: string, under = ''): SourceText[] {
  const out: SourceText[] = []
  for (const entry of fs.readdirSync(path.join(dir, under), { withFileTypes: true })) {
    const rel = under === '' ? entry.name : `${under}/${entry.name}`
    if (entry.isDirectory()) out.push(...readSources(dir, rel))
    else if (entry.name.endsWith('.ts')) out.push({ path: rel, text: fs.readFileSync(path.join(dir, rel), 'utf8') })
  }
  return out
}

describe('the import rule over src/', () => {
  const sources = readSources(path.join(repo, 'src'))

  it('reads the whole tree', () => {
    expect(sources.length).toBeGreaterThan(400)
    expect(sources.some((s) => s.path === 'cli/main.ts')).toBe(true)
  })

  it('every import keeps to the layout', () => {
    const violations = checkImports(sources, kpeLayout)
    expect(violations.map((v) => v.message)).toEqual([])
  })

  it('docs/architecture.md draws the same layers in the same order', () => {
    const doc = fs.readFileSync(path.join(repo, 'docs/architecture.md'), 'utf8')
    expect(layersInDoc(doc)).toEqual(kpeLayout.layers)
  })

  it('every layer of the layout exists in the tree', () => {
    const missing = kpeLayout.layers.filter((layer) => !sources.some((s) => (layer.endsWith('/') ? s.path.startsWith(layer) : s.path === layer)))
    expect(missing).toEqual([])
  })
})

const tiny: ImportLayout = {
  layers: ['leaf/', 'errors.ts', 'model/', 'rules/', 'shell/', 'cli/'],
  forbidden: [
    { from: 'leaf/', to: '*', why: 'leaf' },
    { from: 'shell/', to: 'rules/', allowNames: ['RuleType'], why: 'the shell takes only types from rules/' },
    { from: '*', to: 'cli/', why: 'edge' },
  ],
}

const check = (files: Record<string, string>) =>
  checkImports(Object.entries(files).map(([p, text]) => ({ path: p, text })), tiny)

describe('the import-rule checker', () => {
  it('accepts imports of layers above through their index.ts, and anything inside a layer', () => {
    expect(check({
      'model/a.ts': "import { x } from '../leaf/index.js'\nimport { E } from '../errors.js'\nimport { b } from './deep/b.js'",
      'model/deep/b.ts': "export { y } from '../a.js'",
      'shell/s.ts': "import type { RuleType } from '../rules/index.js'\nimport fs from 'node:fs'",
    })).toEqual([])
  })

  it('names file, import and rule for an import of a layer listed below', () => {
    const [v, ...rest] = check({ 'model/a.ts': "\nimport { r } from '../rules/index.js'" })
    expect(rest).toEqual([])
    expect(v).toMatchObject({ file: 'model/a.ts', line: 2, specifier: '../rules/index.js', rule: 'order' })
    expect(v!.message).toContain('model/a.ts:2 imports ../rules/index.js')
  })

  it('flags a deep import past a folder\'s index.ts, also as import type, re-export, import() and import type node', () => {
    const violations = check({
      'rules/r.ts': [
        "import type { T } from '../model/types.js'",
        "export { u } from '../model/u.js'",
        "const m = await import('../model/lazy.js')",
        "let x: import('../model/t2.js').Deep.T",
      ].join('\n'),
    })
    expect(violations.map((v) => [v.rule, v.line])).toEqual([['index', 1], ['index', 2], ['index', 3], ['index', 4]])
  })

  it('flags the forbidden imports the order allows, and lets the allowed names through', () => {
    const violations = check({
      'shell/ok.ts': "import { type RuleType } from '../rules/index.js'",
      'shell/bad.ts': "import { buildRules, type RuleType } from '../rules/index.js'",
      'shell/star.ts': "import * as rules from '../rules/index.js'",
      'leaf/a.ts': "import { E } from '../errors.js'\nimport { b } from './b.js'",
    })
    expect(violations.map((v) => [v.file, v.rule])).toEqual([
      ['shell/bad.ts', 'forbidden'],
      ['shell/star.ts', 'forbidden'],
      ['leaf/a.ts', 'order'],
      ['leaf/a.ts', 'forbidden'],
    ])
    expect(violations[0]!.message).toContain('takes buildRules')
  })

  it('flags files outside every layer, imports out of src/, and computed specifiers', () => {
    const violations = check({
      'stray/x.ts': "import { a } from '../leaf/index.js'",
      'cli/main.ts': "import { h } from '../../test/helpers.js'\nconst m = await import(name)",
    })
    expect(violations.map((v) => [v.file, v.rule])).toEqual([['stray/x.ts', 'layout'], ['cli/main.ts', 'outside'], ['cli/main.ts', 'computed']])
  })

  it('importing cli/ is flagged by both the order and the forbidden list', () => {
    expect(check({ 'shell/s.ts': "import { main } from '../cli/index.js'" }).map((v) => v.rule)).toEqual(['order', 'forbidden'])
  })

  it('extracts names: default, named with aliases, namespace and side-effect imports', () => {
    const refs = extractImports('a.ts', "import d, { a as b, type C } from './x.js'\nimport * as ns from './y.js'\nimport './z.js'")
    expect(refs.map((r) => r.names)).toEqual([['default', 'a', 'C'], '*', []])
  })

  it('reads the layer list from the doc\'s layout block', () => {
    const doc = [
      '# A', '', '## Layout and the import rule', '', '```', 'src/',
      '  leaf/        values (leaf)', '               continued', '  errors.ts    errors',
      '  proxy/', '    model/     the model', '    node-rules/  rules', '  cli/  commands', '```', '', '## Next', '```', '  other/', '```',
    ].join('\n')
    expect(layersInDoc(doc)).toEqual(['leaf/', 'errors.ts', 'proxy/model/', 'proxy/node-rules/', 'cli/'])
  })
})
