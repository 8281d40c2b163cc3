/**
 * Issue 12 item 4: a CustomResourceDefinition round trip with the real kubectl against the real
 * `kpe up`: apply, wait for Established, create objects, a validation error with its field path,
 * printer columns, a bounded `get -w`, `explain`, and deleting the CRD with its objects.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasKubectl, kpeUpForFile, kubectlPath, run } from './kpe-up-process.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'

const file = kpeUpForFile()
const ok = file.ok

function manifest(name: string, text: string): string {
  const p = join(file.up.dataDir, name)
  writeFileSync(p, text)
  return p
}

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the cron tab runs and when.
            required: [cronSpec]
            properties:
              cronSpec:
                type: string
                description: The schedule, in cron format.
              image:
                type: string
              replicas:
                type: integer
                minimum: 1
                default: 1
          status:
            type: object
            properties:
              replicas:
                type: integer
`

const tab = (name: string, replicas: number | string) => `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: ${name}
spec:
  cronSpec: "* * * * */5"
  image: my-cron-image
  replicas: ${replicas}
`

/** `kubectl get crontabs -w` until `name` shows up or the timeout passes; killed by its PID. */
function watchFor(name: string, timeoutMs: number): Promise<string> {
  const child = spawn(kubectlPath, ['--kubeconfig', file.up.kubeconfig, 'get', 'crontabs', '-w', '--no-headers'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  return new Promise((resolve) => {
    const done = (): void => { clearTimeout(timer); child.kill('SIGTERM'); resolve(out) }
    const timer = setTimeout(done, timeoutMs)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => { out += d; if (out.includes(name)) done() })
  })
}

describe.skipIf(!hasKubectl)('CustomResourceDefinitions through kubectl and kpe up', () => {
  it('defines, serves, validates, prints, watches, explains and deletes a custom resource', async () => {
    expect(await ok('apply', '-f', manifest('crd.yaml', crd))).toContain('customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created')
    await ok('wait', '--for', 'condition=established', '--timeout=10s', 'crd/crontabs.stable.example.com')

    expect(await ok('apply', '-f', manifest('a.yaml', tab('first', 2)))).toContain('crontab.stable.example.com/first created')
    const bad = await file.up.kubectl('apply', '-f', manifest('bad.yaml', tab('bad', 0)))
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('spec.replicas')
    expect(bad.stderr).toContain('should be greater than or equal to 1')

    const table = (await ok('get', 'crontabs')).split('\n')
    expect(table[0]).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+AGE$/)
    expect(table[1]).toMatch(/^first\s+\* \* \* \* \*\/5\s+2\s+\d+s$/)
    expect(await ok('get', 'ct', 'first', '-o', 'jsonpath={.spec.replicas}')).toBe('2')

    expect(await ok('scale', 'crontab', 'first', '--replicas=4')).toContain('scaled')
    expect(await ok('get', 'ct', 'first', '-o', 'jsonpath={.spec.replicas}')).toBe('4')
    expect(await ok('apply', '--server-side', '-f', manifest('ssa.yaml', tab('third', 5)))).toContain('serverside-applied')
    expect(await ok('get', 'ct', 'third', '-o', 'jsonpath={.spec.replicas}')).toBe('5')

    const watching = watchFor('second', 15_000)
    await new Promise((r) => setTimeout(r, 1000))
    await ok('apply', '-f', manifest('b.yaml', tab('second', 3)))
    expect(await watching).toContain('second')

    const explain = await ok('explain', 'crontab.spec')
    expect(explain).toContain('cronSpec')
    expect(explain).toContain('The schedule, in cron format.')
    // kubectl 1.33, called directly (the /usr/bin/kubectl dispatcher picks 1.32).
    const next = (...args: string[]) => run(kubectl133, ['--kubeconfig', file.up.kubeconfig, '--cache-dir', join(file.up.dataDir, 'kubectl-cache-133'), ...args])
    expect((await next('get', 'ct')).stdout).toMatch(/^NAME\s+SPEC\s+REPLICAS\s+AGE\n/)
    expect((await next('explain', 'crontab.spec.replicas')).stdout).toContain('<integer>')

    expect(await ok('delete', 'crd', 'crontabs.stable.example.com')).toContain('deleted')
    const gone = await file.up.kubectl('get', 'crontabs')
    expect(gone.code).not.toBe(0)
    // Which message depends on whether kubectl's discovery cache still names the resource.
    expect(gone.stderr).toMatch(/the server doesn't have a resource type "crontabs"|Unable to list "stable.example.com\/v1, Resource=crontabs": the server could not find the requested resource/)
    // Defining it again shows no objects survived the deletion.
    await ok('apply', '-f', manifest('crd.yaml', crd))
    await ok('wait', '--for', 'condition=established', '--timeout=10s', 'crd/crontabs.stable.example.com')
    expect((await file.up.kubectl('get', 'crontabs', '-A')).stderr).toContain('No resources found')
  }, 120_000)
})
