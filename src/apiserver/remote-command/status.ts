/**
 * What the error channel carries when a command ends, as the kubelet writes it (v4 and later):
 * a Status with only metadata and status on success; on a non-zero exit, reason
 * NonZeroExitCode and one cause of type ExitCode whose message is the number (kubectl and the
 * Python client read the exit code from there); anything else is an InternalError.
 */

export interface ExitCause {
  readonly reason: 'ExitCode'
  readonly message: string
}

export type RemoteCommandStatus =
  | { readonly metadata: Record<string, never>; readonly status: 'Success' }
  | {
      readonly metadata: Record<string, never>
      readonly status: 'Failure'
      readonly message: string
      readonly reason: 'NonZeroExitCode'
      readonly details: { readonly causes: readonly ExitCause[] }
    }
  | { readonly metadata: Record<string, never>; readonly status: 'Failure'; readonly message: string; readonly reason: 'InternalError'; readonly code: 500 }

/** Go's %v of a []string, as the runtime's error text shows the command. */
function goStringSlice(words: readonly string[]): string {
  return `[${words.join(' ')}]`
}

export function exitStatus(command: readonly string[], code: number): RemoteCommandStatus {
  if (code === 0) return { metadata: {}, status: 'Success' }
  return {
    metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code: error executing command ${goStringSlice(command)}, exit code ${code}`,
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  }
}

export function internalErrorStatus(what: 'executing command in' | 'attaching to', err: unknown): RemoteCommandStatus {
  const reason = err instanceof Error ? err.message : String(err)
  return { metadata: {}, status: 'Failure', reason: 'InternalError', code: 500, message: `Internal error occurred: error ${what} container: ${reason}` }
}
