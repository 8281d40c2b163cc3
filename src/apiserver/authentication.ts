/**
 * Bearer-token authentication, when `kpe up --token-file` gives tokens: a request must carry
 * `Authorization: Bearer <token>` naming a user, except on the paths kube-apiserver serves to
 * anonymous clients by default (health and version). Without tokens every request passes.
 */
import { ApiError } from './api-error.js'
import type { StaticTokens } from './token-file.js'

const anonymousPaths = ['/healthz', '/livez', '/readyz', '/version']

function isAnonymousPath(path: string): boolean {
  return anonymousPaths.some((p) => path === p || path.startsWith(`${p}/`))
}

/** Throws 401 Unauthorized when tokens are configured and the request does not carry a valid one. */
export function authenticate(tokens: StaticTokens | undefined, authorization: string | undefined, path: string): void {
  if (tokens === undefined || isAnonymousPath(path)) return
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
  if (m && tokens.lookup(m[1]!) !== undefined) return
  throw new ApiError(401, 'Unauthorized', 'Unauthorized')
}
