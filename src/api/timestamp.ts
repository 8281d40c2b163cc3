/** metav1.Time on the wire: RFC 3339 in UTC with whole seconds, as kube-apiserver writes creationTimestamp and friends. */

export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')
}
