"""The Debian python3-kubernetes client against kpe: typed list/read/create/patch/delete of
Pods, Services and Deployments, and a watch stream. Prints one line per step; exits non-zero
at the first step that fails. Usage: python3 python-client.py KUBECONFIG NAMESPACE"""
import sys

from kubernetes import client, config, watch

kubeconfig, namespace = sys.argv[1], sys.argv[2]
config.load_kube_config(config_file=kubeconfig)
core = client.CoreV1Api()
apps = client.AppsV1Api()


def step(name, value=""):
    print(f"ok {name} {value}".rstrip(), flush=True)


core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
step("create namespace")

labels = {"app": "py"}
container = client.V1Container(name="web", image="nginx", ports=[client.V1ContainerPort(container_port=80)])
pod = core.create_namespaced_pod(namespace, client.V1Pod(
    metadata=client.V1ObjectMeta(name="py-pod", labels=labels), spec=client.V1PodSpec(containers=[container])))
step("create pod", pod.metadata.uid)
pods = core.list_namespaced_pod(namespace)
assert [p.metadata.name for p in pods.items] == ["py-pod"], pods.items
step("list pods", len(pods.items))
read = core.read_namespaced_pod("py-pod", namespace)
assert read.spec.containers[0].image == "nginx"
step("read pod", read.status.phase)
patched = core.patch_namespaced_pod("py-pod", namespace, {"metadata": {"labels": {"patched": "yes"}}})
assert patched.metadata.labels["patched"] == "yes"
step("patch pod")

svc = core.create_namespaced_service(namespace, client.V1Service(
    metadata=client.V1ObjectMeta(name="py-svc"),
    spec=client.V1ServiceSpec(selector=labels, ports=[client.V1ServicePort(port=80, target_port=80)])))
step("create service", svc.spec.cluster_ip)
assert [s.metadata.name for s in core.list_namespaced_service(namespace).items] == ["py-svc"]
step("list services")
svc = core.patch_namespaced_service("py-svc", namespace, {"spec": {"type": "NodePort"}})
assert svc.spec.type == "NodePort" and svc.spec.ports[0].node_port > 0
step("patch service", svc.spec.ports[0].node_port)
assert core.read_namespaced_service("py-svc", namespace).spec.type == "NodePort"
step("read service")

deploy = apps.create_namespaced_deployment(namespace, client.V1Deployment(
    metadata=client.V1ObjectMeta(name="py-deploy"),
    spec=client.V1DeploymentSpec(
        replicas=1, selector=client.V1LabelSelector(match_labels={"app": "pyd"}),
        template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "pyd"}), spec=client.V1PodSpec(containers=[container])))))
step("create deployment", deploy.metadata.generation)
apps.patch_namespaced_deployment_scale("py-deploy", namespace, {"spec": {"replicas": 2}})
assert apps.read_namespaced_deployment("py-deploy", namespace).spec.replicas == 2
step("scale deployment")
assert [d.metadata.name for d in apps.list_namespaced_deployment(namespace).items] == ["py-deploy"]
step("list deployments")

seen = []
w = watch.Watch()
for event in w.stream(core.list_namespaced_pod, namespace, timeout_seconds=10):
    seen.append((event["type"], event["object"].metadata.name))
    if ("ADDED", "py-pod") in seen and any(n.startswith("py-deploy") for _, n in seen):
        w.stop()
assert ("ADDED", "py-pod") in seen, seen
step("watch pods", ",".join(f"{t}:{n}" for t, n in seen))

# Every pod read back typed (container statuses included) once the kubelet has reported on them.
for p in core.list_namespaced_pod(namespace).items:
    core.read_namespaced_pod(p.metadata.name, namespace)
step("read pods with status")

apps.delete_namespaced_deployment("py-deploy", namespace)
core.delete_namespaced_service("py-svc", namespace)
core.delete_namespaced_pod("py-pod", namespace, grace_period_seconds=0)
step("delete")
status = None
try:
    core.read_namespaced_service("py-svc", namespace)
except client.ApiException as e:
    status = e.status
assert status == 404, status
step("read deleted service", status)
print("done", flush=True)
