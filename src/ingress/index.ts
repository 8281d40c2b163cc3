/** The built-in Ingress controller's pure core: which Ingresses kpe serves and where a request goes. */
export * from './ingress-routes.js'
