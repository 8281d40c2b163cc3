"""kubernetes.stream exec (WebSocket, v4.channel.k8s.io) against kpe up: prints one JSON line per step."""
import json
import sys

from kubernetes import client, config
from kubernetes.stream import stream

config.load_kube_config(sys.argv[1])
api = client.CoreV1Api()
pod = sys.argv[2]
ns = 'default'

out = stream(api.connect_get_namespaced_pod_exec, pod, ns, command=['sh', '-c', 'echo out; echo err >&2'], stderr=True, stdin=False, stdout=True, tty=False)
print(json.dumps({'step': 'preloaded', 'output': out}))

resp = stream(api.connect_get_namespaced_pod_exec, pod, ns, command=['sh', '-c', 'hostname; exit 3'], stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
resp.run_forever(timeout=20)
print(json.dumps({'step': 'exit', 'stdout': resp.read_stdout(), 'returncode': resp.returncode}))

resp = stream(api.connect_get_namespaced_pod_exec, pod, ns, command=['cat'], stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
resp.write_stdin('from python\n')
got = ''
for _ in range(50):
    resp.update(timeout=0.2)
    got += resp.read_stdout() if resp.peek_stdout() else ''
    if got:
        break
resp.close()
print(json.dumps({'step': 'stdin', 'stdout': got}))

resp = stream(api.connect_get_namespaced_pod_exec, pod, ns, command=['curl', '-s', 'http://web.default.svc.cluster.local/hostname'], stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
resp.run_forever(timeout=20)
print(json.dumps({'step': 'curl', 'stdout': resp.read_stdout(), 'returncode': resp.returncode}))
