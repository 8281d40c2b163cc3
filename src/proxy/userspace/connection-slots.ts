/**
 * A listener's connection cap that idle clients cannot hold: while the listener is full, a new
 * connection takes the slot of the oldest connection that has not yet proven itself (sent or
 * received a byte, finished a handshake). Only when every slot is held by a proven connection
 * is the newcomer reset. Without this, connections that never speak fill the listener until
 * their idle timeout, and every real client is turned away meanwhile.
 */
import type { Socket } from 'node:net'
import { resetConnection } from './tcp-forward.js'

export class ConnectionSlots {
  readonly #max: number
  readonly #open = new Set<Socket>()
  /** Not yet proven, oldest first (a Set keeps insertion order). */
  readonly #unproven = new Set<Socket>()

  constructor(max: number) {
    this.#max = max
  }

  /** Counts the socket until it closes; false (and the socket reset) when no slot can be had. */
  admit(socket: Socket): boolean {
    if (this.#open.size >= this.#max) {
      const oldest = this.#unproven.values().next()
      if (oldest.done) {
        resetConnection(socket)
        return false
      }
      this.#release(oldest.value)
      resetConnection(oldest.value)
    }
    this.#open.add(socket)
    this.#unproven.add(socket)
    socket.once('close', () => this.#release(socket))
    return true
  }

  /** The connection is doing real work: it keeps its slot. */
  proven(socket: Socket): void {
    this.#unproven.delete(socket)
  }

  get size(): number {
    return this.#open.size
  }

  #release(socket: Socket): void {
    this.#open.delete(socket)
    this.#unproven.delete(socket)
  }
}
