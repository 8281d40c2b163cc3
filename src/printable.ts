/**
 * Client-supplied text (SOCKS hostnames, Host headers, request targets) on its way into a log
 * line or `kpe connections`: control characters are written as JSON-style escapes, so a value
 * can neither start a forged log line nor drive the terminal (ANSI escapes). Leaf module.
 */

/** C0 and C1 controls, DEL, line/paragraph separators and bidi overrides (Trojan Source). */
const unprintable = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const short: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** The text with every unprintable character escaped (`\n`, `\u001b`); idempotent. */
export function printable(text: string): string {
  return text.replace(unprintable, (c) => short[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
