/**
 * Attack suite: connection and token-guessing storms from one address are refused at the handshake,
 * per remote address, with a clear reason; other addresses are unaffected. Real server and sockets.
 */
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { federationFixture, startTestServer, type TestServer } from '../federation/test-harness';

const { servers } = federationFixture();

/** A handshake from a chosen loopback address (Linux routes all of 127/8 to lo); resolves with the outcome. */
function handshakeFrom(url: string, localAddress: string, auth: Record<string, unknown>): Promise<string> {
  const socket = io(url, { auth, transports: ['websocket'], reconnection: false, localAddress } as Parameters<
    typeof io
  >[1]);
  return new Promise((ok) => {
    socket.once('connect', () => {
      ok('connected');
      socket.disconnect();
    });
    socket.once('connect_error', (e) => {
      ok(e.message);
      socket.disconnect();
    });
  });
}

async function started(): Promise<TestServer> {
  const s = await startTestServer({ manualStart: true });
  servers.push(s);
  return s;
}

// Refill rates this slow make every bound below independent of how fast the machine is.
describe('per-address handshake limits', () => {
  it('more handshakes than the burst from one address are refused with a clear reason; another address still connects', async () => {
    const s = await startTestServer({
      manualStart: true,
      addressLimit: { handshakesPerSecond: 0.001, handshakeBurst: 5, failedAuthPerMinute: 0.001, failedAuthBurst: 50 },
    });
    servers.push(s);
    const token = () => s.registry.createToken('client').token;
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++)
      outcomes.push(await handshakeFrom(s.url, '127.0.0.2', { token: token(), clientId: `storm-${i}-id` }));
    expect(outcomes.slice(0, 5)).toEqual(Array(5).fill('connected'));
    for (const o of outcomes.slice(5))
      expect(o).toMatch(/^rate limited: too many connection attempts from this address/);
    // Refused before any registry work: no client row for the refused ids.
    expect(s.registry.getClient('storm-5-id')).toBeUndefined();
    expect(await handshakeFrom(s.url, '127.0.0.3', { token: token(), clientId: 'other-address-id' })).toBe('connected');
  });

  it('after the failed-auth burst, an address is refused even with a valid token; another address is not', async () => {
    const s = await startTestServer({
      manualStart: true,
      addressLimit: { handshakesPerSecond: 1000, handshakeBurst: 1000, failedAuthPerMinute: 0.001, failedAuthBurst: 3 },
    });
    servers.push(s);
    const guesses: string[] = [];
    for (let i = 0; i < 5; i++)
      guesses.push(await handshakeFrom(s.url, '127.0.0.4', { token: `fj_guess-${i}`, clientId: `guess-${i}-id` }));
    expect(guesses.slice(0, 3)).toEqual(Array(3).fill('unauthenticated: join token is invalid, revoked or expired'));
    for (const g of guesses.slice(3)) expect(g).toMatch(/^rate limited: too many failed handshakes from this address/);
    const valid = s.registry.createToken('client').token;
    expect(await handshakeFrom(s.url, '127.0.0.4', { token: valid, clientId: 'valid-after-guesses' })).toMatch(
      /^rate limited: too many failed handshakes/,
    );
    expect(await handshakeFrom(s.url, '127.0.0.5', { token: valid, clientId: 'valid-elsewhere' })).toBe('connected');
  });

  it('the defaults let a classroom of 100 devices behind one address connect at once', async () => {
    const s = await started();
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        handshakeFrom(s.url, '127.0.0.6', { token: s.registry.createToken('client').token, clientId: `class-${i}-id` }),
      ),
    );
    expect(outcomes.filter((o) => o === 'connected')).toHaveLength(100);
  });
});
