import { describe, expect, it } from 'vitest'
import type { Pod } from '../../../src/api/index.js'
import { expandContainerCommand } from '../../../src/kubelet/command-expansion.js'
import { containerEnvironment } from '../../../src/kubelet/toolbox/service-env.js'

describe('$(VAR) in command and args', () => {
  const container = {
    name: 'http-echo', image: 'hashicorp/http-echo:1.0',
    command: ['/http-echo', '-listen=:$(PORT)'],
    args: ['-text=hello from $(POD_NAME) on $(NODE)', '-cost=$$(PORT)', '-x=$(UNSET)'],
    env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, { name: 'PORT', value: '5678' }],
  }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'echo-7c9d8-abcde', namespace: 'default' }, spec: { nodeName: 'node-b', containers: [container] } } as unknown as Pod

  it('expands the downward API and plain env, keeps $$ and unknown names as kubelet does', () => {
    const env = containerEnvironment({ pod, container, services: [], hostname: 'echo-7c9d8-abcde' })
    const out = expandContainerCommand(container, env)
    expect(out.command).toEqual(['/http-echo', '-listen=:5678'])
    expect(out.args).toEqual(['-text=hello from echo-7c9d8-abcde on node-b', '-cost=$(PORT)', '-x=$(UNSET)'])
    expect(container.args[0]).toBe('-text=hello from $(POD_NAME) on $(NODE)')
  })

  it('leaves a container without command or args as it is', () => {
    const bare = { name: 'c', image: 'nginx' }
    expect(expandContainerCommand(bare, new Map([['A', 'b']]))).toEqual(bare)
  })
})
