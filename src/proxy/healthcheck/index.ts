/** kube-proxy's per-Service health-check server (healthCheckNodePort): answers from the proxy model's local endpoint counts. */
export * from './service-health-server.js'
