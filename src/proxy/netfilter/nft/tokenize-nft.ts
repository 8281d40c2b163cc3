/**
 * nft text -> tokens with line and column: words, quoted strings, the punctuation `{ } ; ,`
 * and newlines (a statement separator in both the transaction and the listing form). `#`
 * starts a comment to the end of the line; a trailing `\` joins lines.
 */
import { ParseError } from '../../../errors.js'

export interface NftToken {
  readonly text: string
  readonly line: number
  readonly col: number
  /** A quoted string (its text without quotes). */
  readonly quoted?: true
  /** No whitespace before it: tells `a,b` from `a , b`. */
  readonly glued?: true
  readonly newline?: true
}

const punct = new Set(['{', '}', ';', ','])

export function tokenizeNft(text: string, source: string): NftToken[] {
  const out: NftToken[] = []
  let line = 1
  let col = 1
  let i = 0
  let glued = false
  const push = (t: Omit<NftToken, 'line' | 'col' | 'glued'>, startCol: number): void => {
    out.push({ ...t, line, col: startCol, ...(glued ? { glued: true } : {}) })
    glued = true
  }
  while (i < text.length) {
    const c = text[i]!
    if (c === '\n') {
      out.push({ text: '\n', line, col, newline: true })
      line++
      col = 1
      i++
      glued = false
      continue
    }
    if (c === '\\' && text[i + 1] === '\n') {
      i += 2
      line++
      col = 1
      glued = false
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++
      col++
      glued = false
      continue
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++
      continue
    }
    if (c === '"') {
      const start = col
      let j = i + 1
      let s = ''
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\n') throw new ParseError(line, `unterminated string starting at column ${start}`, { source })
        if (text[j] === '\\' && j + 1 < text.length) j++
        s += text[j]
        j++
      }
      if (j >= text.length) throw new ParseError(line, `unterminated string starting at column ${start}`, { source })
      push({ text: s, quoted: true }, start)
      col += j + 1 - i
      i = j + 1
      continue
    }
    if (punct.has(c)) {
      push({ text: c }, col)
      i++
      col++
      continue
    }
    const start = col
    let j = i
    while (j < text.length && !/[\s{};,#"]/.test(text[j]!)) j++
    push({ text: text.slice(i, j) }, start)
    col += j - i
    i = j
  }
  return out
}
