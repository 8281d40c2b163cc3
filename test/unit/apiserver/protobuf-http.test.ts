/**
 * Protobuf over HTTP as typed clients use it: a kubectl-captured protobuf body is created through
 * the same pipeline as JSON, and a client that asks for protobuf first gets objects, lists,
 * Status errors and watch frames in protobuf (Tables and JSON-first clients still get JSON).
 */
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeProtobufObject, encodeProtobufObject, protobufMagic, protoType } from '../../../src/api/index.js'
import { sendObject } from '../../../src/apiserver/http-io.js'
import { sendList } from '../../../src/apiserver/list-response.js'
import { protobufWatchFrame } from '../../../src/apiserver/watch-frames.js'
import { repoRoot } from '../../helpers/shared.js'
import { apiServerPerTest } from '../../helpers/api-server.js'

const api = apiServerPerTest()
const start = (): Promise<string> => api.start({ bookmarkIntervalMs: 60_000 })

const protobuf = 'application/vnd.kubernetes.protobuf'
const typedAccept = `${protobuf}, application/json`
const kubectlDeployment = readFileSync(join(repoRoot, 'test/unit/api/kubectl-protobuf/create-deployment-nginx.pb'))
const deployments = '/apis/apps/v1/namespaces/default/deployments'

interface Reply { status: number; type: string; body: Buffer }

async function call(url: string, init: { method?: string; accept?: string; contentType?: string; body?: Buffer | string } = {}): Promise<Reply> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.accept ? { Accept: init.accept } : {}), ...(init.contentType ? { 'Content-Type': init.contentType } : {}) },
    ...(init.body === undefined ? {} : { body: init.body }),
  })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) }
}

describe('protobuf request bodies', () => {
  it('kubectl create deployment\'s protobuf body is created like its JSON twin (defaulted, validated, stored)', async () => {
    const base = await start()
    const r = await call(`${base}${deployments}`, { method: 'POST', contentType: protobuf, accept: 'application/json', body: kubectlDeployment })
    expect(r.status).toBe(201)
    const created = JSON.parse(r.body.toString()) as { metadata: Record<string, unknown>; spec: { template: { spec: { containers: Record<string, unknown>[] } } } }
    expect(created.metadata).toMatchObject({ name: 'nginx', namespace: 'default', labels: { app: 'nginx' } })
    // defaulting ran on the decoded object, as for JSON
    expect(created.spec.template.spec.containers[0]).toMatchObject({ name: 'nginx', image: 'nginx', imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log' })
    expect((await call(`${base}${deployments}/nginx`)).status).toBe(200)
  })

  it('a protobuf body that fails validation is the same 422 with field causes as JSON', async () => {
    const base = await start()
    const bad = decodeProtobufObject(kubectlDeployment) as { spec: { selector: unknown } }
    bad.spec.selector = { matchLabels: { app: 'other' } }
    const r = await call(`${base}${deployments}`, { method: 'POST', contentType: protobuf, body: encodeProtobufObject(bad as Record<string, unknown>)! })
    expect(r.status).toBe(422)
    const status = JSON.parse(r.body.toString()) as { details: { causes: { field: string }[] } }
    expect(status.details.causes.map((c) => c.field)).toContain('spec.template.metadata.labels')
  })
})

describe('protobuf responses for clients that ask for it first', () => {
  it('create, get and delete answer the object in protobuf; JSON-first and Table clients get JSON', async () => {
    const base = await start()
    const created = await call(`${base}${deployments}`, { method: 'POST', contentType: protobuf, accept: typedAccept, body: kubectlDeployment })
    expect(created).toMatchObject({ status: 201, type: protobuf })
    expect(created.body.subarray(0, 4)).toEqual(protobufMagic)
    const fromCreate = decodeProtobufObject(created.body)
    const got = await call(`${base}${deployments}/nginx`, { accept: typedAccept })
    expect(got.type).toBe(protobuf)
    const asJson = JSON.parse((await call(`${base}${deployments}/nginx`, { accept: 'application/json' })).body.toString()) as Record<string, unknown>
    expect(decodeProtobufObject(got.body)).toEqual(asJson)
    expect(fromCreate['metadata']).toMatchObject({ name: 'nginx', uid: (asJson['metadata'] as Record<string, unknown>)['uid'] })
    expect((await call(`${base}${deployments}/nginx`, { accept: 'application/json, application/vnd.kubernetes.protobuf' })).type).toBe('application/json')
    expect((await call(`${base}${deployments}/nginx`, { accept: 'application/vnd.kubernetes.protobuf;q=0.5, application/json' })).type).toBe('application/json')
    expect((await call(`${base}${deployments}`, { accept: `application/json;as=Table;v=v1;g=meta.k8s.io, ${typedAccept}` })).type).toContain('as=Table')
    const deleted = await call(`${base}${deployments}/nginx`, { method: 'DELETE', accept: typedAccept })
    expect(deleted.type).toBe(protobuf)
    expect(decodeProtobufObject(deleted.body)).toMatchObject({ kind: 'Deployment', metadata: { name: 'nginx' } })
  })

  it('errors are a protobuf Status with reason, code and details', async () => {
    const base = await start()
    const r = await call(`${base}${deployments}/missing`, { accept: typedAccept })
    expect(r).toMatchObject({ status: 404, type: protobuf })
    expect(decodeProtobufObject(r.body)).toMatchObject({ apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, details: { name: 'missing', group: 'apps', kind: 'deployments' } })
  })

  it('lists are the XList message with ListMeta and every item', async () => {
    const base = await start()
    for (const name of ['a', 'b', 'c']) {
      await call(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', contentType: 'application/json', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } }) })
    }
    const r = await call(`${base}/api/v1/namespaces/default/configmaps`, { accept: typedAccept })
    expect(r.type).toBe(protobuf)
    const asJson = JSON.parse((await call(`${base}/api/v1/namespaces/default/configmaps`)).body.toString()) as Record<string, unknown>
    // Items carry no apiVersion/kind in protobuf (the message has no TypeMeta), as from kube-apiserver.
    const items = (asJson['items'] as Record<string, unknown>[]).map(({ apiVersion: _v, kind: _k, ...rest }) => rest)
    expect(items).toHaveLength(3)
    expect(decodeProtobufObject(r.body)).toEqual({ ...asJson, items })
  })

  it('watch frames are a 4-byte big-endian length and a WatchEvent whose object is a full k8s envelope', async () => {
    const base = await start()
    await call(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', contentType: 'application/json', body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w' } }) })
    const { type, frames } = await new Promise<{ type: string; frames: Buffer }>((resolve, reject) => {
      const req = request(`${base}/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1`, { headers: { Accept: typedAccept } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ type: res.headers['content-type'] ?? '', frames: Buffer.concat(chunks) }))
      })
      req.on('error', reject)
      req.end()
    })
    expect(type).toBe(`${protobuf};stream=watch`)
    const watchEvent = protoType('k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent')!
    const events: { type: string; object: Record<string, unknown> }[] = []
    for (let at = 0; at < frames.length;) {
      const length = frames.readUInt32BE(at)
      const ev = watchEvent.toObject(watchEvent.decode(frames.subarray(at + 4, at + 4 + length))) as { type: string; object: { raw: Uint8Array } }
      expect(Buffer.from(ev.object.raw).subarray(0, 4)).toEqual(protobufMagic)
      events.push({ type: ev.type, object: decodeProtobufObject(ev.object.raw) })
      at += 4 + length
    }
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w' } } })
  })

  it('a streamed protobuf list (ListMeta and items encoded apart) is byte-identical to the whole list encoded at once', async () => {
    const item = fc.record({ metadata: fc.record({ name: fc.stringMatching(/^[a-z]{1,8}$/), resourceVersion: fc.stringMatching(/^[1-9][0-9]{0,3}$/) }), data: fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.string({ maxLength: 20 }), { minKeys: 1, maxKeys: 3 }) })
    await fc.assert(fc.asyncProperty(fc.array(item, { maxLength: 12 }), fc.integer({ min: 1, max: 64 }), async (items, chunkBytes) => {
      const head = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '7' } }
      const written: Buffer[] = []
      const res = {
        destroyed: false,
        writeHead: () => res,
        write: (c: Buffer) => { written.push(Buffer.from(c)); return true },
        end: (c: Buffer) => { written.push(Buffer.from(c)) },
      }
      await sendList(res as never, head, items.map((i) => ({ apiVersion: 'v1', kind: 'ConfigMap', ...i })), { protobuf: true, chunkBytes })
      expect(Buffer.concat(written)).toEqual(encodeProtobufObject({ ...head, items: items.map((i) => ({ apiVersion: 'v1', kind: 'ConfigMap', ...i })) }))
    }), { seed: 1206, numRuns: 60, interruptAfterTimeLimit: 5_000 })
  })

  it('an object or list protobuf cannot carry is answered in JSON, the client\'s second choice, not a 500', async () => {
    const captured = (): { res: unknown; sent: () => { type: string; body: string } } => {
      let type = ''
      const chunks: string[] = []
      const res = {
        destroyed: false,
        writeHead: (_code: number, headers: Record<string, string>) => { type = headers['Content-Type'] ?? ''; return res },
        write: (c: string | Buffer) => { chunks.push(String(c)); return true },
        end: (c: string | Buffer) => { chunks.push(String(c)) },
      }
      return { res, sent: () => ({ type, body: chunks.join('') }) }
    }
    // metadata must be an object: no stored object is like this, but the answer must not fail.
    const odd = { apiVersion: 'v1', kind: 'ConfigMap', metadata: 'not-an-object' }
    const one = captured()
    sendObject({ headers: { accept: typedAccept } } as never, one.res as never, 200, odd)
    expect(one.sent()).toEqual({ type: 'application/json', body: JSON.stringify(odd) })
    const list = captured()
    await sendList(list.res as never, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: {} }, [odd], { protobuf: true })
    expect(list.sent().type).toBe('application/json')
    expect(JSON.parse(list.sent().body)).toEqual({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items: [odd] })
  })

  it('a watch event protobuf cannot carry becomes an ERROR frame with an InternalError Status naming the object', () => {
    const frame = protobufWatchFrame({ type: 'MODIFIED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'odd' }, data: 'not-a-map' } }) as Buffer
    const watchEvent = protoType('k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent')!
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4)
    const ev = watchEvent.toObject(watchEvent.decode(frame.subarray(4))) as { type: string; object: { raw: Uint8Array } }
    expect(ev.type).toBe('ERROR')
    expect(decodeProtobufObject(ev.object.raw)).toMatchObject({ kind: 'Status', code: 500, reason: 'InternalError', message: 'ConfigMap "odd" cannot be encoded as protobuf' })
  })
})
