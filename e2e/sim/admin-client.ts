/** A small typed client for the admin REST API (simulations, e2e tests, benchmarks). */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  /** fetch() for reads: a busy server may close an idle keep-alive socket just as it is reused, so retry. */
  readonly fetchRead = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fetch(url, init);
      } catch (err) {
        if (attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
      }
    }
  };

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init = {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    };
    const url = `${this.baseUrl}${path}`;
    const res = method === 'GET' ? await this.fetchRead(url, init) : await fetch(url, init);
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async bytes(path: string): Promise<ArrayBuffer> {
    const res = await this.fetchRead(`${this.baseUrl}${path}`, { headers: { Authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.arrayBuffer();
  }

  createJoinToken(label: string): Promise<{ id: number; token: string }> {
    return this.request('POST', '/api/admin/tokens', { label, kind: 'client' });
  }
}
