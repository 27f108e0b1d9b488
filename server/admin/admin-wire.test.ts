import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient, type Socket } from 'socket.io-client';
import { z } from 'zod';
import { startTestServer, TEST_ADMIN_TOKEN } from '../federation/test-harness';
import {
  AdminClientViewSchema,
  AdminSnapshotSchema,
  AdminStatusResponseSchema,
  AuditRowSchema,
  CreatedTokenSchema,
  RoundRowSchema,
  StatusEventSchema,
  TokenRowSchema,
  VersionRowSchema,
} from '../../shared/protocol/admin';

// The console parses every response and live event with the shared schemas and refuses what does not match;
// these are the real server's answers, so a drift between server and console fails here rather than in a browser.
type TestServer = Awaited<ReturnType<typeof startTestServer>>;
let s: TestServer;
let sock: Socket | undefined;

beforeAll(async () => {
  s = await startTestServer({ manualStart: true });
});
afterAll(async () => {
  sock?.disconnect();
  await s?.cleanup();
});

async function admin(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.status, `${method} ${path}`).toBe(200);
  return res.json();
}

describe('the admin API answers in the shapes of shared/protocol/admin.ts', () => {
  it('REST: status (with config), versions, rounds, clients, tokens, audit, a created token', async () => {
    const created = CreatedTokenSchema.parse(
      await admin('POST', '/api/admin/tokens', { kind: 'client', label: 'wire test' }),
    );
    expect(created.token).toMatch(/^fj_/);
    const status = await admin('GET', '/api/admin/status');
    // Nothing the server sends is dropped by the console's schema.
    expect(AdminStatusResponseSchema.parse(status)).toEqual(status);
    const lists: [string, z.ZodType, number][] = [
      ['/api/admin/versions', VersionRowSchema, 1],
      ['/api/admin/rounds', RoundRowSchema, 0],
      ['/api/admin/clients', AdminClientViewSchema, 0],
      ['/api/admin/tokens', TokenRowSchema, 2],
      ['/api/admin/audit', AuditRowSchema, 1],
    ];
    for (const [path, schema, atLeast] of lists) {
      const rows = z.array(z.unknown()).parse(await admin('GET', path));
      expect(rows.length, path).toBeGreaterThanOrEqual(atLeast);
      for (const row of rows) expect(schema.parse(row), path).toEqual(row);
    }
  });

  it('socket: the snapshot on connect and a status push after a control', async () => {
    const s1 = ioClient(`${s.url}/admin`, {
      auth: { token: TEST_ADMIN_TOKEN },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sock = s1;
    const snapshot = await new Promise<unknown>((resolve) => s1.once('snapshot', resolve));
    const snap = AdminSnapshotSchema.parse(snapshot);
    expect(snap.status.paused).toBe(false);
    const pushed = new Promise<unknown>((resolve) => s1.on('status', resolve));
    await admin('POST', '/api/admin/rounds/pause');
    const status = await pushed;
    expect(StatusEventSchema.parse(status)).toEqual(status);
    expect(StatusEventSchema.parse(status).paused).toBe(true);
  });
});
