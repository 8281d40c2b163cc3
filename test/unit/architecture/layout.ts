/**
 * The one copy of kpe's import rule as data: the layers of `src/` in data-flow order and the
 * imports that must not exist. docs/architecture.md draws the same list; import-rule.test.ts
 * holds the tree and the doc to it.
 */

/**
 * A layer is a folder (`proxy/model/`) or a single module (`errors.ts`), as a path under `src/`.
 * A file belongs to the longest layer path it starts with.
 */
export type LayerPath = string

/** An import that the order alone would allow but that must not exist; `allowNames` lists the exceptions. */
export interface ForbiddenImport {
  /** Layer path prefix of the importing file, or '*' for every file. */
  readonly from: string
  /** Layer path prefix of the imported file, or '*' for every file outside `from`. */
  readonly to: string
  /** Names that may still be imported (types and helpers of a contract the lower layer owns). */
  readonly allowNames?: readonly string[]
  readonly why: string
}

export interface ImportLayout {
  /** Top to bottom: a layer imports only layers listed before it, folders only through their `index.ts`. */
  readonly layers: readonly LayerPath[]
  readonly forbidden: readonly ForbiddenImport[]
}

export const kpeLayout: ImportLayout = {
  layers: [
    'runtime/',
    'net/',
    'errors.ts',
    'printable.ts',
    'api/',
    'client/',
    'dns/',
    'store/',
    'apiserver/',
    'controllers/',
    'ingress/',
    'cluster/',
    'kubelet/',
    'proxy/model/',
    'proxy/netfilter/',
    'proxy/iptables/',
    'proxy/nftables/',
    'proxy/node-rules/',
    'proxy/proxier/',
    'proxy/healthcheck/',
    'proxy/trace/',
    'proxy/userspace/',
    'node/',
    'up/',
    'lab/',
    'netns/',
    'kernel/',
    'cli/',
  ],
  forbidden: [
    { from: 'runtime/', to: '*', why: 'runtime/ is a leaf: it imports nothing from kpe' },
    { from: 'net/', to: '*', why: 'net/ is a leaf: it imports nothing from kpe' },
    { from: 'proxy/userspace/', to: 'proxy/iptables/', why: 'the userspace dataplane asks the interpreter; it never builds rules' },
    { from: 'proxy/userspace/', to: 'proxy/nftables/', why: 'the userspace dataplane asks the interpreter; it never builds rules' },
    { from: 'proxy/userspace/', to: 'proxy/proxier/', why: 'the userspace dataplane reads the tables an executor holds, not the loop that writes them' },
    { from: 'proxy/netfilter/', to: 'proxy/model/', why: 'netfilter/ knows rules, not Services' },
    { from: 'proxy/netfilter/', to: 'proxy/iptables/', why: 'netfilter/ knows rules, not how kube-proxy builds them' },
    { from: 'proxy/netfilter/', to: 'proxy/nftables/', why: 'netfilter/ knows rules, not how kube-proxy builds them' },
    { from: 'proxy/proxier/', to: 'kubelet/', why: 'the proxier takes ListWatcher and Timers from client/ and runtime/, not from the kubelet' },
    {
      from: 'controllers/',
      to: 'apiserver/',
      allowNames: ['AdmissionHook', 'AdmissionContext', 'AdmissionResult', 'invalid', 'StatusCause', 'ApiError'],
      why: 'controllers take only admission and Status types from the API server',
    },
    { from: '*', to: 'cli/', why: 'cli/ is the edge: nothing imports it' },
  ],
}
