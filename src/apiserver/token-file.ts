/**
 * kube-apiserver's static token file (`--token-auth-file`), which `kpe up --token-file` reads:
 * CSV lines `token,user,uid[,"group1,group2"]`, at least three columns. Bearer tokens are looked
 * up by their SHA-256, so the lookup's timing says nothing about the secret. Pure apart from
 * hashing.
 */
import { createHash } from 'node:crypto'
import { parse } from 'csv-parse/sync'

export interface TokenUser {
  readonly name: string
  readonly uid: string
  readonly groups: readonly string[]
}

export interface StaticTokens {
  /** The first token in the file: the one the kubeconfig kpe writes carries. */
  readonly first: string
  /** The user a bearer token names, or undefined. */
  lookup(token: string): TokenUser | undefined
}

export class TokenFileError extends Error {}

const digest = (token: string): string => createHash('sha256').update(token).digest('hex')

/** Parses a token file's text; `file` names it in errors (line numbers are 1-based). */
export function parseTokenFile(text: string, file: string): StaticTokens {
  let records: string[][]
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][]
  } catch (e) {
    throw new TokenFileError(`${file}: not a CSV token file: ${e instanceof Error ? e.message : String(e)}`)
  }
  const users = new Map<string, TokenUser>()
  let first: string | undefined
  records.forEach((r, i) => {
    if (r.length < 3) throw new TokenFileError(`${file}: record ${i + 1} has ${r.length} columns; a token file needs token,user,uid[,"group1,group2"]`)
    const [token, name, uid, groups] = r as [string, string, string, string | undefined]
    if (token === '' || name === '') throw new TokenFileError(`${file}: record ${i + 1} has an empty ${token === '' ? 'token' : 'user name'}`)
    const key = digest(token)
    if (users.has(key)) throw new TokenFileError(`${file}: record ${i + 1} repeats the token of an earlier record`)
    users.set(key, { name, uid, groups: (groups ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '') })
    first ??= token
  })
  if (first === undefined) throw new TokenFileError(`${file}: no tokens`)
  return { first, lookup: (token) => users.get(digest(token)) }
}
