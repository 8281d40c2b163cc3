/**
 * The import-rule checker: every import of every module under `src/` (static, `import type`,
 * re-exports, `import()` and `import('…').T` types), read with the TypeScript compiler, judged
 * against an ImportLayout. Pure: it takes file texts and returns violations naming file, import and rule.
 */
import path from 'node:path'
import ts from 'typescript'
import type { ImportLayout } from './layout.js'

/** One import as written: its specifier (undefined when computed) and the names it takes ('*' for all). */
export interface ImportRef {
  readonly specifier: string | undefined
  readonly names: readonly string[] | '*'
  readonly line: number
}

export interface SourceText {
  /** Path under `src/`, with forward slashes (`proxy/model/index.ts`). */
  readonly path: string
  readonly text: string
}

export type RuleName = 'layout' | 'order' | 'index' | 'forbidden' | 'computed' | 'outside'

export interface Violation {
  readonly file: string
  readonly line: number
  readonly specifier: string
  readonly rule: RuleName
  readonly message: string
}

/** Every import and re-export of one module, with the names it takes. */
export function extractImports(fileName: string, text: string): ImportRef[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const refs: ImportRef[] = []
  const lineOf = (node: ts.Node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1
  const literal = (node: ts.Node | undefined) => (node && ts.isStringLiteralLike(node) ? node.text : undefined)
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      refs.push({ specifier: literal(node.moduleSpecifier), names: importedNames(node.importClause), line: lineOf(node) })
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const names = node.exportClause && ts.isNamedExports(node.exportClause)
        ? node.exportClause.elements.map((e) => (e.propertyName ?? e.name).text)
        : '*'
      refs.push({ specifier: literal(node.moduleSpecifier), names, line: lineOf(node) })
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      refs.push({ specifier: literal(node.moduleReference.expression), names: '*', line: lineOf(node) })
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      refs.push({ specifier: literal(node.arguments[0]), names: '*', line: lineOf(node) })
    } else if (ts.isImportTypeNode(node)) {
      const arg = ts.isLiteralTypeNode(node.argument) ? node.argument.literal : undefined
      const names = node.qualifier ? [leftmost(node.qualifier)] : '*'
      refs.push({ specifier: literal(arg), names, line: lineOf(node) })
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return refs
}

function importedNames(clause: ts.ImportClause | undefined): readonly string[] | '*' {
  if (!clause) return [] // a side-effect import takes no names
  const names: string[] = []
  if (clause.name) names.push('default')
  const bindings = clause.namedBindings
  if (bindings && ts.isNamespaceImport(bindings)) return '*'
  if (bindings) for (const e of bindings.elements) names.push((e.propertyName ?? e.name).text)
  return names
}

function leftmost(name: ts.EntityName): string {
  return ts.isIdentifier(name) ? name.text : leftmost(name.left)
}

/** The layer a path under `src/` belongs to: the longest layer path it starts with. */
export function layerOf(layout: ImportLayout, file: string): string | undefined {
  let best: string | undefined
  for (const layer of layout.layers) {
    const holds = layer.endsWith('/') ? file.startsWith(layer) : file === layer
    if (holds && (best === undefined || layer.length > best.length)) best = layer
  }
  return best
}

/** A relative specifier resolved to a path under `src/` (`.js` read as the `.ts` it is built from). */
function resolveSpecifier(from: string, specifier: string): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier))
  return joined.endsWith('.js') ? `${joined.slice(0, -3)}.ts` : joined
}

const startsWith = (file: string, prefix: string) => (prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix)

/** Every import in `files` that breaks `layout`, in file order. */
export function checkImports(files: readonly SourceText[], layout: ImportLayout): Violation[] {
  const order = new Map(layout.layers.map((layer, i) => [layer, i]))
  const out: Violation[] = []
  for (const file of files) {
    const from = layerOf(layout, file.path)
    if (from === undefined) {
      out.push({ file: file.path, line: 1, specifier: '', rule: 'layout', message: `${file.path} is in no layer of the layout; add its folder to the layer list (and docs/architecture.md)` })
      continue
    }
    for (const ref of extractImports(file.path, file.text)) {
      const v = (rule: RuleName, message: string): Violation => ({ file: file.path, line: ref.line, specifier: ref.specifier ?? '<computed>', rule, message: `${file.path}:${ref.line} imports ${ref.specifier ?? 'a computed specifier'}: ${message}` })
      if (ref.specifier === undefined) {
        out.push(v('computed', 'an import with a computed specifier cannot be checked; import a literal path'))
        continue
      }
      if (!ref.specifier.startsWith('.')) continue // a package or node: built-in
      const target = resolveSpecifier(file.path, ref.specifier)
      if (target.startsWith('../')) {
        out.push(v('outside', 'src/ must not import files outside src/'))
        continue
      }
      const to = layerOf(layout, target)
      if (to === undefined) {
        out.push(v('layout', `${target} is in no layer of the layout`))
        continue
      }
      if (to === from) continue
      if (order.get(to)! > order.get(from)!) {
        out.push(v('order', `${from} may import only layers listed above it, and ${to} is listed below`))
      }
      if (to.endsWith('/') && target !== `${to}index.ts`) {
        out.push(v('index', `${from} reaches past ${to}index.ts into ${target}; export it from ${to}index.ts`))
      }
      for (const rule of layout.forbidden) {
        if (rule.from !== '*' && !startsWith(file.path, rule.from)) continue
        if (rule.to !== '*' && !startsWith(target, rule.to)) continue
        if (rule.to === '*' && rule.from !== '*' && startsWith(target, rule.from)) continue
        const allowed = rule.allowNames
        const taken = ref.names
        if (allowed && taken !== '*' && taken.every((n) => allowed.includes(n))) continue
        const names = taken === '*' ? 'everything' : taken.filter((n) => !allowed?.includes(n)).join(', ')
        out.push(v('forbidden', `${rule.from} -> ${rule.to} is forbidden (${rule.why}); takes ${names}`))
      }
    }
  }
  return out
}

/**
 * The layer list docs/architecture.md draws in the code block under "Layout and the import rule":
 * `  name/` at two spaces is a top-level folder (or module), `    name/` at four a folder under the
 * last top-level one; deeper lines continue a description.
 */
export function layersInDoc(markdown: string): string[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Layout and the import rule'))
  const block = section?.split('```')[1]
  if (block === undefined) return []
  const layers: string[] = []
  let parent = ''
  for (const line of block.split('\n')) {
    const m = /^( {2}| {4})(\S+)/.exec(line)
    if (!m) continue
    const [, indent, name] = m
    if (!name!.endsWith('/') && !name!.endsWith('.ts')) continue
    if (indent === '  ') {
      parent = name!
      layers.push(name!)
    } else {
      if (layers.at(-1) === parent) layers.pop() // a folder with layers under it is not a layer itself
      layers.push(parent + name!)
    }
  }
  return layers
}
