/**
 * A minimal valid body of each built-in kind kpe stores without a controller (beyond apiVersion,
 * kind and metadata.name): the stored-kinds tests and the API fuzz suite start from these.
 */
export const podTemplate = (labels: Record<string, string>, restartPolicy?: string) => ({
  metadata: { labels }, spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'nginx' }] },
})
export const selector = { matchLabels: { app: 'a' } }

/** A minimal valid object of each stored-only kind: its body beyond apiVersion, kind and metadata.name. */
export const minimal: Readonly<Record<string, Record<string, unknown>>> = {
  ServiceAccount: {},
  ReplicationController: { spec: { replicas: 1, selector: { app: 'a' }, template: podTemplate({ app: 'a' }) } },
  PersistentVolume: { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/x' } } },
  PersistentVolumeClaim: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  LimitRange: { spec: { limits: [{ type: 'Container', default: { cpu: '100m' } }] } },
  ResourceQuota: { spec: { hard: { pods: '10' } } },
  StatefulSet: { spec: { serviceName: 'a', selector, template: podTemplate({ app: 'a' }) } },
  DaemonSet: { spec: { selector, template: podTemplate({ app: 'a' }) } },
  ControllerRevision: { revision: 1, data: { spec: { template: {} } } },
  Job: { spec: { template: podTemplate({ app: 'a' }, 'Never') } },
  CronJob: { spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate({ app: 'a' }, 'OnFailure') } } } },
  HorizontalPodAutoscaler: { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 } },
  Ingress: { spec: { rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } },
  IngressClass: { spec: { controller: 'example.com/ingress' } },
  NetworkPolicy: { spec: { podSelector: {}, policyTypes: ['Ingress'] } },
  ServiceCIDR: { spec: { cidrs: ['10.96.0.0/16'] } },
  PodDisruptionBudget: { spec: { minAvailable: 1, selector } },
  Role: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  RoleBinding: { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'default' }] },
  ClusterRole: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
  ClusterRoleBinding: { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }] },
  StorageClass: { provisioner: 'example.com/disk' },
  Lease: { spec: { holderIdentity: 'me', leaseDurationSeconds: 15 } },
  Event: { eventTime: '2026-01-02T03:04:05.000000Z', reportingController: 'kpe.test/x', reportingInstance: 'x', action: 'Test', reason: 'Test', type: 'Normal', regarding: { kind: 'Pod', name: 'p' } },
  PriorityClass: { value: 1000 },
  CertificateSigningRequest: { spec: { request: Buffer.from('not a real CSR').toString('base64'), signerName: 'example.com/signer', usages: ['digital signature'] } },
}
