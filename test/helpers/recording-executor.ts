/**
 * A RuleExecutor for proxier tests: the in-memory interpreter, recording every restore text, and
 * failing the next `failNext` applies as iptables-restore would.
 */
import { InterpreterExecutor, type RuleExecutor } from '../../src/proxy/netfilter/index.js'

export class RecordingExecutor implements RuleExecutor {
  readonly texts: string[] = []
  failNext = 0
  readonly inner = new InterpreterExecutor({ family: 'IPv4' })

  async apply(text: string, opts: { flush: 'no-flush' | 'flush'; counters: 'restore' | 'reset' }): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('iptables-restore: exit status 1')
    }
    this.texts.push(text)
    await this.inner.apply(text, opts)
  }

  ensureChain(...args: Parameters<RuleExecutor['ensureChain']>): Promise<void> {
    return this.inner.ensureChain(...args)
  }

  ensureRule(...args: Parameters<RuleExecutor['ensureRule']>): Promise<void> {
    return this.inner.ensureRule(...args)
  }
}
