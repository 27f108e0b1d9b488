/** A small typed client for the admin REST API (simulations, e2e tests, benchmarks). */
export class AdminClient {
  constructor(readonly baseUrl: string, readonly token: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init = {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    };
    let res: Response | undefined;
    // A busy server may close an idle keep-alive socket just as it is reused; retry reads.
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await fetch(`${this.baseUrl}${path}`, init);
      } catch (err) {
        if (method !== 'GET' || attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async bytes(path: string): Promise<ArrayBuffer> {
    const res = await fetch(`${this.baseUrl}${path}`, { headers: { Authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.arrayBuffer();
  }

  createJoinToken(label: string): Promise<{ id: number; token: string }> {
    return this.request('POST', '/api/admin/tokens', { label, kind: 'client' });
  }
}
