/**
 * The `endpoints.kubernetes.io/last-change-trigger-time` annotation on EndpointSlices: when the
 * pod or Service change behind a slice write happened. The EndpointSlice controller writes it,
 * kube-proxy reads it to time network programming (kubeproxy_network_programming_duration_seconds).
 */
import type { EndpointSlice } from './types.js'

export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time'

/** RFC 3339 in UTC with the fraction's trailing zeros dropped (Go's RFC3339Nano, as upstream writes it). */
export function formatTriggerTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z')
}

/** The slice's trigger time in ms since the epoch; undefined when absent or not a time. */
export function sliceTriggerTime(slice: EndpointSlice): number | undefined {
  const v = slice.metadata.annotations?.[lastChangeTriggerTimeAnnotation]
  const t = typeof v === 'string' ? Date.parse(v) : NaN
  return Number.isFinite(t) ? t : undefined
}
