/**
 * The create-only review kinds kubectl's `auth can-i` and `auth whoami` post:
 * SelfSubjectAccessReview, SelfSubjectRulesReview and SelfSubjectReview. kpe has one identity,
 * an administrator, so every access is allowed; answers are built from the request, never stored.
 */
import { ApiError, methodNotAllowed } from './api-error.js'
import { decodeWriteBody, parseFieldValidation } from './field-validation.js'
import { apiVersionOf, type ResourceInfo, schemaKindFor } from '../api/index.js'
import type { StaticTokens, TokenUser } from './token-file.js'

/** The identity of loopback requests when no token file is given (kubeadm's admin user name). */
export const loopbackAdmin: TokenUser = { name: 'kubernetes-admin', uid: '', groups: ['system:masters'] }

/** Whether `r` is one of the review kinds (marked `answered` in the schema table). */
export function isAccessReview(r: ResourceInfo): boolean {
  return schemaKindFor(apiVersionOf(r), r.kind)?.answered === true
}

/** Who sent the request: the token file's user for its bearer token, else the loopback admin. */
export function requestUser(tokens: StaticTokens | undefined, authorization: string | undefined): TokenUser {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
  return (tokens && m ? tokens.lookup(m[1]!) : undefined) ?? loopbackAdmin
}

/** Groups as kube-apiserver reports them: the user's, then system:authenticated. */
function groupsOf(user: TokenUser): string[] {
  return [...new Set([...user.groups, 'system:masters', 'system:authenticated'])]
}

function statusFor(kind: string, user: TokenUser): Record<string, unknown> {
  switch (kind) {
    case 'SelfSubjectAccessReview':
      return { allowed: true, reason: 'kpe serves a single administrator identity' }
    case 'SelfSubjectRulesReview':
      return {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      }
    default: {
      return { userInfo: { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: groupsOf(user) } }
    }
  }
}

/**
 * Answers a POST of a review: the decoded body with its status filled in (201, as upstream).
 * Other verbs answer 405 like kube-apiserver's create-only resources.
 */
export function answerReview(r: ResourceInfo, method: string | undefined, body: unknown, query: URLSearchParams, user: TokenUser): unknown {
  if (method !== 'POST') throw methodNotAllowed()
  const decoded = decodeWriteBody(r, body, parseFieldValidation(query)).object
  if (r.kind !== 'SelfSubjectReview' && (typeof decoded['spec'] !== 'object' || decoded['spec'] === null)) {
    throw new ApiError(422, 'Invalid', `${r.kind}.${r.group} "" is invalid: spec: Required value`, { kind: r.kind, group: r.group, causes: [{ reason: 'FieldValueRequired', field: 'spec', message: 'Required value' }] })
  }
  return {
    kind: r.kind, apiVersion: apiVersionOf(r),
    metadata: { ...(decoded['metadata'] as object | undefined), creationTimestamp: null },
    ...(r.kind === 'SelfSubjectReview' ? {} : { spec: decoded['spec'] }),
    status: statusFor(r.kind, user),
  }
}
