/**
 * The real kubectl's typed-client commands against `kpe up`: `kubectl create <generator>` sends
 * protobuf and asks for protobuf first (kubectl 1.32 through the dispatcher, 1.33 directly when
 * installed), then the seed story: create a deployment, expose it as a NodePort, curl the node's
 * loopback address and see the nginx page. Only loopback addresses are dialled.
 */
import { execFile } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curl, hasKubectl, kubectlPath, run, startKpeUp, type KpeUp, type Run } from './kpe-up-process.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'
const clients: readonly (readonly [version: string, binary: string])[] = [['1.32', kubectlPath], ...(existsSync(kubectl133) ? [['1.33', kubectl133] as const] : [])]
if (!hasKubectl) console.warn(`skipping kubectl protobuf e2e tests: ${kubectlPath} not found`)

let up: KpeUp

beforeAll(async () => {
  if (hasKubectl) up = await startKpeUp([])
}, 40_000)

afterAll(async () => {
  await up?.stop()
})

function kubectlWith(binary: string, ...args: string[]): Promise<Run> {
  return run(binary, ['--kubeconfig', up.kubeconfig, '--cache-dir', join(up.dataDir, `cache-${binary.replace(/\W/g, '')}`), ...args])
}

async function ok(binary: string, ...args: string[]): Promise<string> {
  const r = await kubectlWith(binary, ...args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

describe.skipIf(!hasKubectl)('kubectl create generators send protobuf, and kpe answers in protobuf', () => {
  it('the typed client really speaks protobuf both ways', async () => {
    const r = await kubectlWith(kubectlPath, 'create', 'configmap', 'wire-check', '--from-literal=a=b', '-v=8')
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/Request Headers:[\s\S]*Content-Type: application\/vnd\.kubernetes\.protobuf/)
    expect(r.stderr).toMatch(/Response Headers:[\s\S]*Content-Type: application\/vnd\.kubernetes\.protobuf/)
    expect(await ok(kubectlPath, 'get', 'configmap', 'wire-check', '-o', 'jsonpath={.data.a}')).toBe('b')
  })

  it.each(clients)('kubectl %s: namespace, deployment, configmap, secret generic, service clusterip and nodeport', async (version, binary) => {
    const ns = `pb-${version.replace('.', '-')}`
    expect(await ok(binary, 'create', 'namespace', ns)).toContain(`namespace/${ns} created`)
    const inNs = ['-n', ns]
    expect(await ok(binary, 'create', 'deployment', 'web', '--image', 'nginx', '--replicas', '2', ...inNs)).toContain('deployment.apps/web created')
    expect(await ok(binary, 'create', 'configmap', 'settings', '--from-literal=mode=fast', ...inNs)).toContain('configmap/settings created')
    expect(await ok(binary, 'create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret', ...inNs)).toContain('secret/creds created')
    expect(await ok(binary, 'create', 'service', 'clusterip', 'api', '--tcp=8080:http', ...inNs)).toContain('service/api created')
    expect(await ok(binary, 'create', 'service', 'nodeport', 'front', '--tcp=80:8080', ...inNs)).toContain('service/front created')
    // What was stored is what kubectl meant
    expect(await ok(binary, 'get', 'deployment', 'web', ...inNs, '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}')).toBe('2 nginx')
    expect(Buffer.from(await ok(binary, 'get', 'secret', 'creds', ...inNs, '-o', 'jsonpath={.data.password}'), 'base64').toString()).toBe('s3cret')
    expect(await ok(binary, 'get', 'service', 'api', ...inNs, '-o', 'jsonpath={.spec.ports[0].targetPort}')).toBe('http')
    expect(await ok(binary, 'get', 'service', 'front', ...inNs, '-o', 'jsonpath={.spec.type}')).toBe('NodePort')
    // An error answered in protobuf reaches the user as kube-apiserver's message
    const again = await kubectlWith(binary, 'create', 'configmap', 'settings', ...inNs)
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain('configmaps "settings" already exists')
  })

  it('a deployment created over protobuf is stored exactly like its twin created from JSON (create -f)', async () => {
    await ok(kubectlPath, 'create', 'deployment', 'twin-pb', '--image', 'nginx', '--port', '80')
    const manifest = await ok(kubectlPath, 'create', 'deployment', 'twin-js', '--image', 'nginx', '--port', '80', '--dry-run=client', '-o', 'json')
    const file = join(up.dataDir, 'twin-js.json')
    writeFileSync(file, manifest)
    await ok(kubectlPath, 'create', '-f', file)
    const stored = async (name: string): Promise<unknown> => {
      const o = JSON.parse(await ok(kubectlPath, 'get', 'deployment', name, '-o', 'json')) as { spec: unknown; metadata: { labels: unknown } }
      return JSON.parse(JSON.stringify({ spec: o.spec, labels: o.metadata.labels }).replaceAll(name, 'NAME'))
    }
    expect(await stored('twin-pb')).toEqual(await stored('twin-js'))
  })

  it.for(clients)('kubectl %s: create job', async ([version, binary], ctx) => {
    const served = await ok(binary, 'api-resources', '--api-group=batch', '-o', 'name')
    if (!served.split('\n').includes('jobs.batch')) {
      ctx.skip('Job is not served by kpe yet: another work package of issue 12 adds the kind')
      return
    }
    expect(await ok(binary, 'create', 'job', `once-${version.replace('.', '-')}`, '--image', 'busybox')).toContain('created')
  })

  it('the seed story: create deployment nginx, expose it as a NodePort, curl the node and see the nginx page', async () => {
    expect(await ok(kubectlPath, 'create', 'deployment', 'nginx', '--image', 'nginx')).toContain('deployment.apps/nginx created')
    expect(await ok(kubectlPath, 'expose', 'deployment', 'nginx', '--port', '80', '--type', 'NodePort')).toContain('service/nginx exposed')
    const nodePort = await ok(kubectlPath, 'get', 'service', 'nginx', '-o', 'jsonpath={.spec.ports[0].nodePort}')
    expect(nodePort).toMatch(/^3\d{4}$/)
    let page = ''
    for (let i = 0; i < 40 && !page.includes('Welcome to nginx!'); i++) {
      page = (await curl([`http://${up.prefix}1:${nodePort}/`])).stdout
      if (!page.includes('Welcome to nginx!')) await new Promise((r) => setTimeout(r, 250))
    }
    expect(page).toContain('Welcome to nginx!')
    const pods = await ok(kubectlPath, 'get', 'pods', '-l', 'app=nginx', '-o', 'yaml')
    expect(pods).toMatch(/^kind: List$/m)
    expect(pods).toMatch(/kind: Pod[\s\S]*image: nginx/)
  })

  it('kubectl run -i waits for its pod on a protobuf watch (client-go decodes kpe\'s watch frames)', async () => {
    const nodes = ['node-a', 'node-b', 'node-c']
    await ok(kubectlPath, 'cordon', ...nodes)
    // The pod stays Pending until the nodes are uncordoned, so kubectl must see it change on the watch.
    const waiting = new Promise<Run>((resolve) => {
      execFile(kubectlPath, ['--kubeconfig', up.kubeconfig, '--cache-dir', join(up.dataDir, 'cache-run'), 'run', 'waiter', '-i', '--restart=Never',
        '--image', 'busybox', '--pod-running-timeout=20s', '-v=8', '--', 'true'], { timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
      })
    })
    let phase = ''
    for (let i = 0; i < 40 && phase !== 'Pending'; i++) {
      phase = (await kubectlWith(kubectlPath, 'get', 'pod', 'waiter', '-o', 'jsonpath={.status.phase}')).stdout
      if (phase !== 'Pending') await new Promise((r) => setTimeout(r, 250))
    }
    expect(phase).toBe('Pending')
    await new Promise((r) => setTimeout(r, 500))
    await ok(kubectlPath, 'uncordon', ...nodes)
    const r = await waiting
    const log = r.stdout + r.stderr
    expect(log).toMatch(/watch=true[\s\S]*Content-Type: application\/vnd\.kubernetes\.protobuf;stream=watch/)
    expect(log).not.toContain('timed out waiting for the condition')
    // kubectl prints this once the watch reported the pod Running, before it attaches
    expect(log).toContain('If you don\'t see a command prompt')
  })
})
