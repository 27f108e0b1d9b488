import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { startTestServer, TEST_ADMIN_TOKEN } from '../federation/test-harness';
import { adminRouter } from '../http/admin-api';
import { RoundConfigSchema } from '../../shared/protocol/round-config';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
let s: TestServer;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  s = await startTestServer({ manualStart: true });
  tokens.client = s.registry.createToken('client', 'a join token').token;
  tokens.metrics = s.registry.createToken('metrics', 'a scraper').token;
  tokens.expiredAdmin = s.registry.createToken('admin', 'expired', Date.now() - 1000).token;
  const revoked = s.registry.createToken('admin', 'revoked');
  s.registry.revokeToken(revoked.id);
  tokens.revokedAdmin = revoked.token;
  // Looks like an admin token, but nobody issued it.
  tokens.forged = 'fa_' + 'A'.repeat(32);
});

afterAll(async () => {
  await s?.cleanup();
});

/** Every admin route of the server: the REST API plus the admin services' extra routes. */
function allAdminRoutes() {
  return [...adminRouter(s.registry, s.coordinator).list(), ...s.adminServices.router.list()];
}

/** A concrete URL and a plausible body for a route, so only auth can stop it. */
function concrete(route: { method: string; path: string }) {
  const path = route.path.replace(':version', '0').replace(':id', '1');
  const bodies: Record<string, unknown> = {
    '/api/admin/config': RoundConfigSchema.parse({}),
    '/api/admin/rollback': { version: 0 },
    '/api/admin/tokens': { kind: 'client', label: 'should not exist' },
  };
  return {
    method: route.method,
    url: `${s.url}${path}`,
    body: route.method === 'GET' || route.method === 'DELETE' ? undefined : (bodies[route.path] ?? {}),
  };
}

async function call(r: ReturnType<typeof concrete>, authorization?: string): Promise<Response> {
  return fetch(r.url, {
    method: r.method,
    headers: {
      ...(authorization ? { Authorization: authorization } : {}),
      ...(r.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
  });
}

describe('admin REST routes refuse everything but a live admin token', () => {
  it('enumerates the routes from the routers (covers new routes automatically)', () => {
    const routes = allAdminRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(16);
    for (const r of routes) expect(r.path).toMatch(/^\/api\/admin\//);
    expect(routes.some((r) => r.path === '/api/admin/evaluation')).toBe(true);
  });

  const cases: [string, () => string | undefined][] = [
    ['anonymous', () => undefined],
    ['a client (join) token', () => `Bearer ${tokens.client}`],
    ['a metrics token', () => `Bearer ${tokens.metrics}`],
    ['an expired admin token', () => `Bearer ${tokens.expiredAdmin}`],
    ['a revoked admin token', () => `Bearer ${tokens.revokedAdmin}`],
    ['a forged token', () => `Bearer ${tokens.forged}`],
    ['the admin token in the wrong scheme', () => `Basic ${TEST_ADMIN_TOKEN}`],
  ];
  for (const [who, auth] of cases) {
    it(`refuses ${who} on every route with 401`, async () => {
      const auditBefore = s.registry.listAudit().length;
      const tokensBefore = s.registry.listTokens().length;
      for (const route of allAdminRoutes()) {
        const res = await call(concrete(route), auth());
        expect(res.status, `${route.method} ${route.path}`).toBe(401);
        const body = (await res.json()) as { error: string };
        expect(body.error).toMatch(/token/);
      }
      // Nothing happened: no audit entries, no new tokens, rounds not paused, model untouched.
      expect(s.registry.listAudit().length).toBe(auditBefore);
      expect(s.registry.listTokens().length).toBe(tokensBefore);
      expect(s.coordinator.status().paused).toBe(false);
      expect(s.registry.latestVersion()!.version).toBe(0);
    });
  }

  it('accepts the admin token on every read-only route (so the refusals above are meaningful)', async () => {
    for (const route of allAdminRoutes().filter((r) => r.method === 'GET')) {
      const res = await call(concrete(route), `Bearer ${TEST_ADMIN_TOKEN}`);
      expect(res.status, `${route.method} ${route.path}`).toBe(200);
    }
  });
});

describe('/metrics needs an admin or metrics token', () => {
  it('refuses anonymous, client, expired, revoked and forged tokens', async () => {
    const expiredMetrics = s.registry.createToken('metrics', 'expired', Date.now() - 1).token;
    for (const auth of [
      undefined,
      tokens.client,
      expiredMetrics,
      tokens.revokedAdmin,
      tokens.expiredAdmin,
      tokens.forged,
    ]) {
      const res = await fetch(`${s.url}/metrics`, { headers: auth ? { Authorization: `Bearer ${auth}` } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
    }
  });

  it('serves Prometheus text to a metrics token and to the admin token', async () => {
    for (const auth of [tokens.metrics, TEST_ADMIN_TOKEN]) {
      const res = await fetch(`${s.url}/metrics`, { headers: { Authorization: `Bearer ${auth}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      expect(await res.text()).toMatch(/^# HELP fedssl_rounds_started_total/m);
    }
  });
});

describe('the /admin socket namespace', () => {
  const sockets: Socket[] = [];
  afterAll(() => sockets.forEach((x) => x.disconnect()));

  function connect(
    auth: Record<string, unknown>,
  ): Promise<{ ok: true; snapshot: unknown } | { ok: false; message: string }> {
    return new Promise((resolve) => {
      const sock = ioClient(`${s.url}/admin`, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(sock);
      sock.on('connect_error', (err) => resolve({ ok: false, message: err.message }));
      sock.on('snapshot', (snapshot: unknown) => resolve({ ok: true, snapshot }));
    });
  }

  it('refuses a handshake without a live admin token with "unauthenticated"', async () => {
    const bad: Record<string, unknown>[] = [
      {},
      { token: tokens.client },
      { token: tokens.metrics },
      { token: tokens.expiredAdmin },
      { token: tokens.revokedAdmin },
      { token: tokens.forged },
      { token: 42 },
      // A federation client handshake aimed at the admin namespace.
      { token: tokens.client, clientId: 'sneaky-client-123' },
    ];
    for (const auth of bad) {
      const r = await connect(auth);
      expect(r.ok, JSON.stringify(auth)).toBe(false);
      if (!r.ok) expect(r.message).toBe('unauthenticated');
    }
  });

  it('admits the admin token and sends a snapshot of the coordinator', async () => {
    const r = await connect({ token: TEST_ADMIN_TOKEN });
    expect(r.ok).toBe(true);
    if (r.ok) {
      const snap = r.snapshot as {
        status: { modelVersion: number; phase: string };
        config: unknown;
        evaluation: { enabled: boolean };
      };
      expect(snap.status.modelVersion).toBe(0);
      expect(snap.status.phase).toBe('idle');
      expect(snap.evaluation.enabled).toBe(false);
      expect(RoundConfigSchema.safeParse(snap.config).success).toBe(true);
    }
  });
});
