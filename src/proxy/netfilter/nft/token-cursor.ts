/**
 * A cursor over nft tokens for the recursive-descent parsers: peek, take, expect, and errors
 * that name the source, line, column and the offending token (or the end of the text).
 */
import { ParseError } from '../../../errors.js'
import type { NftToken } from './tokenize-nft.js'

export class TokenCursor {
  #i = 0
  constructor(
    readonly tokens: readonly NftToken[],
    readonly source: string,
  ) {}

  get atEnd(): boolean {
    return this.#i >= this.tokens.length
  }

  peek(ahead = 0): NftToken | undefined {
    return this.tokens[this.#i + ahead]
  }

  /** The next token's text unless it is quoted (a keyword never is). */
  peekWord(ahead = 0): string | undefined {
    const t = this.tokens[this.#i + ahead]
    return t === undefined || t.quoted ? undefined : t.text
  }

  take(what: string): NftToken {
    const t = this.tokens[this.#i]
    if (t === undefined || t.newline) throw this.error(`expected ${what}`)
    this.#i++
    return t
  }

  takeWord(what: string): string {
    const t = this.take(what)
    if (t.quoted || t.text === '{' || t.text === '}' || t.text === ';' || t.text === ',') throw this.error(`expected ${what}`, t)
    return t.text
  }

  takeString(what: string): string {
    const t = this.take(what)
    if (!t.quoted) throw this.error(`expected ${what} (a quoted string)`, t)
    return t.text
  }

  takeInt(what: string): number {
    const t = this.takeWord(what)
    if (!/^-?\d+$/.test(t)) throw this.error(`expected ${what} (an integer)`, this.tokens[this.#i - 1])
    return Number(t)
  }

  /** The token just taken (for errors about it). */
  previous(): NftToken | undefined {
    return this.tokens[this.#i - 1]
  }

  /** Takes the next token if its text is `text`. */
  accept(text: string): boolean {
    const t = this.tokens[this.#i]
    if (t !== undefined && !t.quoted && t.text === text) {
      this.#i++
      return true
    }
    return false
  }

  expect(text: string): void {
    const t = this.tokens[this.#i]
    if (t === undefined || t.quoted || t.text !== text) throw this.error(`expected "${text === '\n' ? 'end of line' : text}"`)
    this.#i++
  }

  skipNewlines(): void {
    while (this.tokens[this.#i]?.newline) this.#i++
  }

  /** Newlines and `;` between statements. */
  skipSeparators(): void {
    while (this.tokens[this.#i]?.newline || (this.tokens[this.#i]?.text === ';' && !this.tokens[this.#i]?.quoted)) this.#i++
  }

  /** True at a newline, `;`, `}` or the end: where a statement stops. */
  atStatementEnd(): boolean {
    const t = this.tokens[this.#i]
    return t === undefined || t.newline === true || (!t.quoted && (t.text === ';' || t.text === '}'))
  }

  line(): number {
    return (this.tokens[this.#i] ?? this.tokens[this.tokens.length - 1])?.line ?? 1
  }

  error(reason: string, at: NftToken | undefined = this.tokens[this.#i]): ParseError {
    if (at === undefined || at.newline) {
      const last = at ?? this.tokens[this.tokens.length - 1]
      return new ParseError(last?.line ?? 1, `${reason}, got ${at ? 'end of line' : 'end of input (truncated?)'}`, { source: this.source })
    }
    return new ParseError(at.line, `${reason}, got ${at.quoted ? JSON.stringify(at.text) : `"${at.text}"`} at column ${at.col}`, { source: this.source })
  }
}
