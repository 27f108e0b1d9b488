import type { ClientReady } from '../../shared/protocol/messages';

/** A connected client as the coordinator sees it; the transport stays behind `send`. */
export interface ConnectedClient {
  id: string;
  name?: string | undefined;
  connectedAt: number;
  ready?: ClientReady;
  send(event: string, payload: unknown): void;
  disconnect(reason: string): void;
}

/** The set of currently connected clients, keyed by client id (one live socket each). */
export class ClientPool {
  private readonly clients = new Map<string, ConnectedClient>();

  add(client: ConnectedClient): ConnectedClient | undefined {
    const previous = this.clients.get(client.id);
    this.clients.set(client.id, client);
    return previous;
  }

  remove(id: string, client?: ConnectedClient): boolean {
    // Only remove the exact connection, so a reconnect that replaced it survives.
    if (client && this.clients.get(id) !== client) return false;
    return this.clients.delete(id);
  }

  get(id: string): ConnectedClient | undefined {
    return this.clients.get(id);
  }

  get size(): number {
    return this.clients.size;
  }

  all(): ConnectedClient[] {
    return [...this.clients.values()];
  }

  /** Clients that announced readiness (data loaded, backend up). */
  eligible(exclude: (id: string) => boolean = () => false): ConnectedClient[] {
    return this.all().filter(
      (c) => c.ready !== undefined && (c.ready.hasData ?? (c.ready.numExamples ?? 0) > 0) && !exclude(c.id),
    );
  }
}
