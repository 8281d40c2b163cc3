/**
 * Splits one line of iptables-restore input into arguments the way iptables-restore does
 * (add_param_to_argv): whitespace separates, double quotes group, and inside quotes a backslash
 * escapes the next character. Knows nothing about what the arguments mean.
 */
import { ParseError } from '../../errors.js'

export interface RestoreToken {
  readonly text: string
  /** True when any part of the token was quoted: such a token is never a flag. */
  readonly quoted: boolean
}

export function tokenizeRestoreLine(line: string, lineNo: number, source?: string): RestoreToken[] {
  const out: RestoreToken[] = []
  let buf = ''
  let inToken = false
  let quoted = false
  let inQuote = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (inQuote) {
      if (c === '\\') {
        i++
        if (i >= line.length) break
        buf += line[i]
      } else if (c === '"') {
        // A closing quote ends the argument, as in iptables-restore.
        out.push({ text: buf, quoted: true })
        buf = ''
        inToken = false
        quoted = false
        inQuote = false
      } else buf += c
      continue
    }
    if (c === '"') {
      inQuote = true
      inToken = true
      quoted = true
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inToken) out.push({ text: buf, quoted })
      buf = ''
      inToken = false
      quoted = false
    } else {
      buf += c
      inToken = true
    }
  }
  if (inQuote) throw new ParseError(lineNo, 'unterminated quote', source === undefined ? {} : { source })
  if (inToken) out.push({ text: buf, quoted })
  return out
}
