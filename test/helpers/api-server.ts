/**
 * An API server on a memory store (port 0) for the HTTP-surface unit suites: started by the test
 * that needs it, closed after each test, so the suites share one lifecycle instead of each
 * keeping its own.
 */
import { afterAll, afterEach, beforeAll } from 'vitest'
import { ApiServer, type ApiServerOptions } from '../../src/apiserver/index.js'
import { openMemoryStore, type ObjectStore, type VersionedStore } from '../../src/store/index.js'

export interface TestApiServer<S extends ObjectStore = VersionedStore> {
  /** Starts the server (no admission hooks unless given) and returns its URL. */
  start(opts?: Partial<Omit<ApiServerOptions, 'store' | 'port'>>): Promise<string>
  /** The running server's store; only after start(). */
  readonly store: S
}

/** `openStore` gives each test its store: the memory store unless another is named (a prefix of a real etcd, say). */
export function apiServerPerTest<S extends ObjectStore = VersionedStore>(openStore: () => Promise<S> = openMemoryStore as unknown as () => Promise<S>): TestApiServer<S> {
  let server: ApiServer | undefined
  let store: S | undefined
  afterEach(async () => {
    await server?.close()
    await store?.close()
    server = undefined
    store = undefined
  })
  return {
    async start(opts = {}) {
      store = await openStore()
      server = await ApiServer.start({ store, port: 0, admissionHooks: [], ...opts })
      return server.url
    },
    get store(): S {
      if (!store) throw new Error('start() the test API server first')
      return store
    },
  }
}

/**
 * One API server on a memory store for a whole test file (no admission hooks, no bookmarks to
 * speak of): started before its tests, closed after them. Read `url` and `store` inside tests.
 */
export function apiServerPerFile(): { readonly url: string; readonly store: VersionedStore } {
  let server: ApiServer | undefined
  let store: VersionedStore | undefined
  beforeAll(async () => {
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, admissionHooks: [], bookmarkIntervalMs: 60_000 })
  })
  afterAll(async () => {
    await server?.close()
    await store?.close()
  })
  return {
    get url() {
      if (!server) throw new Error('the file\'s API server has not started')
      return server.url
    },
    get store() {
      if (!store) throw new Error('the file\'s API server has not started')
      return store
    },
  }
}

/** One JSON request: the answer's status and decoded body. */
export async function callJson(url: string, method: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { 'Content-Type': contentType }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}
