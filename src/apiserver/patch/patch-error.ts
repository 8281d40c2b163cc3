/**
 * The one failure type of the patch engines: a patch that cannot be applied to the document
 * (bad pointer, failed test op, malformed directive). The apiserver maps it to 422 or 400.
 */
export class PatchError extends Error {
  readonly code = 'KPE_PATCH' as const
  readonly kind: 'malformed' | 'inapplicable'
  constructor(kind: 'malformed' | 'inapplicable', message: string) {
    super(message)
    this.kind = kind
  }
}
