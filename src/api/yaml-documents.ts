/**
 * Multi-document YAML (or JSON) text to plain values, one per document, with every failure an
 * InputError naming file and document: syntax errors with line and column, aliases to missing
 * anchors, and alias expansion beyond a fixed budget (a "billion laughs" document).
 */
import { parseAllDocuments } from 'yaml'
import { InputError } from '../errors.js'

/** Aliases one document may expand; enough for any real manifest, far below an exponential bomb. */
export const maxYamlAliases = 100

export interface YamlDocument {
  /** 1-based document index in the file. */
  readonly document: number
  readonly value: unknown
}

export function parseYamlDocuments(text: string, file: string): YamlDocument[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true })
  if (!Array.isArray(docs)) throw new InputError({ file }, 'not a YAML stream')
  return docs.map((doc, i) => {
    const document = i + 1
    const err = doc.errors[0]
    if (err) {
      const line = err.linePos?.[0]
      throw new InputError({ file, document }, `malformed YAML${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`)
    }
    try {
      return { document, value: doc.toJS({ maxAliasCount: maxYamlAliases }) as unknown }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e)
      if (/Excessive alias count/.test(message)) {
        throw new InputError({ file, document }, `YAML aliases expand beyond ${maxYamlAliases} references (an alias bomb?)`)
      }
      if (/Unresolved alias/.test(message)) {
        const name = /: (.*)$/.exec(message)?.[1]
        throw new InputError({ file, document }, `malformed YAML: the alias *${name ?? ''} has no anchor &${name ?? ''} before it`)
      }
      throw new InputError({ file, document }, `malformed YAML: ${message.split('\n')[0]}`)
    }
  })
}
