/**
 * The kubectl end-to-end suite (kubectl.test.ts) once more, with the API server's store on a
 * real etcd started on loopback ports: the same commands, the same expectations.
 */
import { requireEtcd } from '../helpers/etcd-process.js'

if (requireEtcd('kubectl against kpe on etcd')) {
  process.env['KPE_E2E_STORE'] = 'etcd'
  await import('./kubectl.test.js')
}
