/**
 * The toolbox shell's grammar: lists joined by `;`, `&&`, `||` and newlines, pipelines with
 * `|`, words with single and double quotes, backslash escapes, `$VAR`, `${VAR}` and `$?`,
 * `NAME=value` assignments and the redirections `<`, `>`, `>>`, `2>`, `2>>`, `2>&1`. Parsing is
 * pure and total: a script either parses or names the first thing it cannot parse.
 */

/** A word before expansion: literal text and variable references, quoted or not. */
export type WordPart =
  | { readonly kind: 'text'; readonly text: string; readonly quoted: boolean }
  | { readonly kind: 'var'; readonly name: string; readonly quoted: boolean }

export type Word = readonly WordPart[]

export type Redirect =
  | { readonly fd: 0 | 1 | 2; readonly op: '<' | '>' | '>>'; readonly target: Word }
  | { readonly fd: 2; readonly op: '>&1' }
  | { readonly fd: 1; readonly op: '>&2' }

export interface SimpleCommand {
  readonly assignments: readonly { readonly name: string; readonly value: Word }[]
  readonly words: readonly Word[]
  readonly redirects: readonly Redirect[]
}

/** Commands joined by `|`. */
export type Pipeline = readonly SimpleCommand[]

/** Pipelines joined by `&&` and `||`; `op` is how each joins the one before it. */
export type AndOr = readonly { readonly op: '&&' | '||' | undefined; readonly pipeline: Pipeline }[]

export type Script = readonly AndOr[]

export class ShellSyntaxError extends Error {}

type Token =
  | { readonly kind: 'word'; readonly word: Word }
  | { readonly kind: 'op'; readonly op: ';' | '&&' | '||' | '|' | '&' | '<' | '>' | '>>' | '2>' | '2>>' | '2>&1' | '>&2' }

const operators = ['2>&1', '1>&2', '>&2', '1>>', '1>', '2>>', '&&', '||', '>>', '2>', ';', '\n', '|', '&', '<', '>'] as const
const nameStart = /[A-Za-z_]/
const nameChar = /[A-Za-z0-9_]/

function readVar(src: string, at: number, quoted: boolean): { part: WordPart; next: number } {
  // at points just after '$'
  const c = src[at]
  if (c === '{') {
    const end = src.indexOf('}', at)
    if (end < 0) throw new ShellSyntaxError('missing "}" after "${"')
    const name = src.slice(at + 1, end)
    if (!/^([A-Za-z_][A-Za-z0-9_]*|\?)$/.test(name)) throw new ShellSyntaxError(`\${${name}}: bad substitution`)
    return { part: { kind: 'var', name, quoted }, next: end + 1 }
  }
  if (c === '?') return { part: { kind: 'var', name: '?', quoted }, next: at + 1 }
  if (c === '(') throw new ShellSyntaxError('command substitution $(...) is not supported by the kpe toolbox shell')
  if (c !== undefined && nameStart.test(c)) {
    let end = at
    while (end < src.length && nameChar.test(src[end]!)) end++
    return { part: { kind: 'var', name: src.slice(at, end), quoted }, next: end }
  }
  return { part: { kind: 'text', text: '$', quoted }, next: at }
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue }
    if (c === '#') { while (i < src.length && src[i] !== '\n') i++; continue }
    if (c === '`') throw new ShellSyntaxError('command substitution `...` is not supported by the kpe toolbox shell')
    const op = operators.find((o) => src.startsWith(o, i))
    // "2>" is an operator only at the start of a word.
    if (op !== undefined) {
      tokens.push({ kind: 'op', op: op === '\n' ? ';' : op === '1>&2' ? '>&2' : op === '1>>' ? '>>' : op === '1>' ? '>' : op })
      i += op.length
      continue
    }
    const parts: WordPart[] = []
    const text = (t: string, quoted: boolean): void => {
      const last = parts[parts.length - 1]
      if (last?.kind === 'text' && last.quoted === quoted) parts[parts.length - 1] = { kind: 'text', text: last.text + t, quoted }
      else parts.push({ kind: 'text', text: t, quoted })
    }
    while (i < src.length) {
      const d = src[i]!
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === ';' || d === '&' || d === '|' || d === '<' || d === '>') break
      if (d === '`') throw new ShellSyntaxError('command substitution `...` is not supported by the kpe toolbox shell')
      if (d === '\\') {
        if (i + 1 < src.length && src[i + 1] !== '\n') text(src[i + 1]!, true)
        i += 2
      } else if (d === "'") {
        const end = src.indexOf("'", i + 1)
        if (end < 0) throw new ShellSyntaxError('unterminated quoted string')
        text(src.slice(i + 1, end), true)
        i = end + 1
      } else if (d === '"') {
        i++
        text('', true)
        for (;;) {
          if (i >= src.length) throw new ShellSyntaxError('unterminated quoted string')
          const e = src[i]!
          if (e === '"') { i++; break }
          if (e === '`') throw new ShellSyntaxError('command substitution `...` is not supported by the kpe toolbox shell')
          if (e === '\\' && i + 1 < src.length && '$`"\\\n'.includes(src[i + 1]!)) {
            if (src[i + 1] !== '\n') text(src[i + 1]!, true)
            i += 2
          } else if (e === '$') {
            const v = readVar(src, i + 1, true)
            if (v.part.kind === 'text') text(v.part.text, true)
            else parts.push(v.part)
            i = v.next
          } else {
            text(e, true)
            i++
          }
        }
      } else if (d === '$') {
        const v = readVar(src, i + 1, false)
        if (v.part.kind === 'text') text(v.part.text, false)
        else parts.push(v.part)
        i = v.next
      } else {
        text(d, false)
        i++
      }
    }
    tokens.push({ kind: 'word', word: parts })
  }
  return tokens
}

function literal(word: Word): string | undefined {
  return word.every((p) => p.kind === 'text') ? word.map((p) => (p as { text: string }).text).join('') : undefined
}

export function parseScript(src: string): Script {
  const tokens = tokenize(src)
  let i = 0
  const script: AndOr[] = []
  const parseCommand = (): SimpleCommand => {
    const assignments: { name: string; value: Word }[] = []
    const words: Word[] = []
    const redirects: Redirect[] = []
    for (; i < tokens.length; i++) {
      const t = tokens[i]!
      if (t.kind === 'word') {
        const first = t.word[0]
        const m = words.length === 0 && first?.kind === 'text' && !first.quoted ? /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text) : null
        if (m) {
          const rest: WordPart[] = [{ kind: 'text', text: first!.kind === 'text' ? first!.text.slice(m[0].length) : '', quoted: false }, ...t.word.slice(1)]
          assignments.push({ name: m[1]!, value: rest })
        } else words.push(t.word)
        continue
      }
      if (t.op === '2>&1') { redirects.push({ fd: 2, op: '>&1' }); continue }
      if (t.op === '>&2') { redirects.push({ fd: 1, op: '>&2' }); continue }
      if (t.op === '<' || t.op === '>' || t.op === '>>' || t.op === '2>' || t.op === '2>>') {
        const target = tokens[i + 1]
        if (target?.kind !== 'word') throw new ShellSyntaxError(`syntax error: missing file name after "${t.op}"`)
        i++
        const fd = t.op === '<' ? 0 : t.op.startsWith('2') ? 2 : 1
        const op = t.op === '<' ? '<' : t.op.endsWith('>>') ? '>>' : '>'
        redirects.push({ fd, op, target: target.word } as Redirect)
        continue
      }
      break
    }
    return { assignments, words, redirects }
  }
  while (i < tokens.length) {
    const andOr: { op: '&&' | '||' | undefined; pipeline: Pipeline }[] = []
    let op: '&&' | '||' | undefined
    for (;;) {
      const pipeline: SimpleCommand[] = []
      for (;;) {
        const cmd = parseCommand()
        if (cmd.words.length === 0 && cmd.assignments.length === 0 && cmd.redirects.length === 0) {
          const t = tokens[i]
          throw new ShellSyntaxError(`syntax error: unexpected "${t?.kind === 'op' ? t.op : 'end of input'}"`)
        }
        pipeline.push(cmd)
        const t = tokens[i]
        if (t?.kind === 'op' && t.op === '|') { i++; continue }
        break
      }
      andOr.push({ op, pipeline })
      const t = tokens[i]
      if (t?.kind === 'op' && (t.op === '&&' || t.op === '||')) { op = t.op; i++; continue }
      break
    }
    script.push(andOr)
    const t = tokens[i]
    if (t === undefined) break
    if (t.kind === 'op' && (t.op === ';' || t.op === '&')) {
      i++
      // Empty lines and a trailing ';' are fine.
      while (tokens[i]?.kind === 'op' && ((tokens[i] as { op: string }).op === ';')) i++
      continue
    }
    throw new ShellSyntaxError(`syntax error: unexpected "${t.kind === 'op' ? t.op : literal(t.word) ?? 'word'}"`)
  }
  return script
}

/** Expands a word: variables from `lookup`; unquoted expansions split on whitespace, as sh does. */
export function expandWord(word: Word, lookup: (name: string) => string | undefined): string[] {
  const fields: string[] = []
  let current = ''
  let has = false
  for (const p of word) {
    if (p.kind === 'text') { current += p.text; has = has || p.text !== '' || p.quoted; continue }
    const value = lookup(p.name) ?? ''
    if (p.quoted) { current += value; has = true; continue }
    const pieces = value.split(/[ \t\n]+/)
    for (let k = 0; k < pieces.length; k++) {
      if (k > 0) {
        if (has || current !== '') fields.push(current)
        current = ''
        has = false
      }
      current += pieces[k]
      has = has || pieces[k] !== ''
    }
  }
  if (has || current !== '') fields.push(current)
  return fields
}
