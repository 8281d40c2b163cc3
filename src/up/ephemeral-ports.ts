/**
 * Source ports for connections the node agents make on a client's behalf (the API server's
 * proxy, kubectl port-forward): the pod sees one from Linux's default ephemeral range
 * (net.ipv4.ip_local_port_range), handed out in turn.
 */
const first = 32768
const last = 60999

export class EphemeralPorts {
  #next = first

  take(): number {
    const port = this.#next
    this.#next = port >= last ? first : port + 1
    return port
  }
}
