/**
 * What a command hands back to main when its exit status is not simply 0: its stdout and the
 * status to exit with (`kpe lab exec` passes on the status of the command it ran). main.ts
 * stays the only place that sets the process's exit status.
 */
export interface CommandResult {
  readonly stdout: string
  readonly exitCode: number
}
