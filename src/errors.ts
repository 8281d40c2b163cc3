/**
 * kpe's error hierarchy. Every error carries a stable `code` that tests and docs/cli.md use;
 * the CLI maps classes to exit codes in one place (cli/main.ts).
 */

export type ErrorCode =
  | 'KPE_USAGE'
  | 'KPE_INPUT'
  | 'KPE_NOT_FOUND'
  | 'KPE_EXEC'
  | 'KPE_PARSE'
  | 'KPE_INTERNAL'

export abstract class KpeError extends Error {
  abstract readonly code: ErrorCode
  /** Extra lines printed under the first line, already indented by the CLI. */
  readonly details: readonly string[]
  readonly hint: string | undefined
  constructor(message: string, opts: { details?: readonly string[]; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.details = opts.details ?? []
    this.hint = opts.hint
  }
}

export class UsageError extends KpeError {
  readonly code = 'KPE_USAGE' as const
}

/** Where in the input a problem sits: file, document index (1-based), object, field path. */
export interface InputLocation {
  readonly file?: string
  readonly document?: number
  readonly object?: string
  readonly field?: string
}

export function formatLocation(loc: InputLocation): string {
  const parts: string[] = []
  if (loc.file !== undefined) parts.push(loc.file)
  if (loc.document !== undefined) parts.push(`document ${loc.document}${loc.object ? ` (${loc.object})` : ''}`)
  else if (loc.object !== undefined) parts.push(loc.object)
  return parts.join(', ')
}

export class InputError extends KpeError {
  readonly code = 'KPE_INPUT' as const
  readonly location: InputLocation
  readonly reason: string
  constructor(location: InputLocation, reason: string, opts: { hint?: string; cause?: unknown } = {}) {
    const where = formatLocation(location)
    const field = location.field ? `${location.field}: ` : ''
    super(`${where}${where ? ': ' : ''}${field}${reason}`, opts)
    this.location = location
    this.reason = reason
  }
}

export class NotFoundError extends KpeError {
  readonly code = 'KPE_NOT_FOUND' as const
}

/** Text (an iptables dump) that could not be parsed; `line` is 1-based. */
export class ParseError extends KpeError {
  readonly code = 'KPE_PARSE' as const
  readonly line: number
  constructor(line: number, reason: string, opts: { source?: string; hint?: string } = {}) {
    super(`${opts.source ?? 'input'}, line ${line}: ${reason}`, opts.hint === undefined ? {} : { hint: opts.hint })
    this.line = line
  }
}

export class ExecError extends KpeError {
  readonly code = 'KPE_EXEC' as const
  readonly command: string
  readonly exitCode: number | null
  readonly stderr: string
  constructor(command: string, exitCode: number | null, stderr: string, opts: { details?: readonly string[]; hint?: string } = {}) {
    super(`${command} failed (exit ${exitCode ?? 'signal'})${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''}`, opts)
    this.command = command
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

export class InternalError extends KpeError {
  readonly code = 'KPE_INTERNAL' as const
}

export function assertNever(x: never): never {
  throw new InternalError(`unexpected variant: ${JSON.stringify(x)}`)
}
