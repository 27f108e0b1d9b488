import { test, expect, type WebSocket } from '@playwright/test';
import { E2E_ADMIN_TOKEN } from './playwright.config';
import { runSimulation } from './sim/simulation';
import { RoundOutcome } from '../shared/protocol/phases';

/** Event name of a socket.io EVENT/BINARY_EVENT frame ("42…[", "451-…["), else undefined. */
function socketIoEventName(text: string): string | undefined {
  const m = /^4[25](?:\d+-)?\d*(\[.*)$/s.exec(text);
  return m ? ((JSON.parse(m[1]!) as unknown[])[0] as string) : undefined;
}

interface Frame {
  sent: boolean;
  text?: string;
  bytes?: number;
}

test.describe('federated SimCLR with browser clients', () => {
  test('four browser clients on non-IID Fashion-MNIST run three rounds; only deltas leave the device', async ({ baseURL }) => {
    const frames: Frame[] = [];
    const result = await runSimulation({
      url: baseURL!,
      adminToken: E2E_ADMIN_TOKEN,
      clients: 4,
      rounds: 3,
      dataset: 'fashion-mnist',
      split: 'dirichlet:0.3',
      dropout: 0,
      seed: 7,
      model: 'default',
      localSteps: 6,
      batchSize: 32,
      learningRate: 1e-3,
      clientsPerBrowser: 4,
      backend: 'wasm',
      probe: true,
      log: (l) => console.log(l),
      // Record every websocket frame client 0 sends.
      onPage: (i, page) => {
        if (i !== 0) return;
        page.on('websocket', (ws: WebSocket) => {
          ws.on('framesent', (f) => frames.push(typeof f.payload === 'string' ? { sent: true, text: f.payload } : { sent: true, bytes: f.payload.length }));
        });
      },
    });

    // The global version advances by one per committed round.
    const committed = result.rounds.filter((r) => r.outcome === RoundOutcome.Committed);
    expect(committed.length).toBeGreaterThanOrEqual(3);
    const versions = committed.map((r) => r.new_version!);
    versions.forEach((v, i) => i > 0 && expect(v).toBe(versions[i - 1]! + 1));
    for (const r of committed) expect(r.survivors).toBe(4);

    const p = result.probe!;
    console.log(`final v${p.version} linear probe: federated ${(100 * p.trained).toFixed(1)}% vs random init ${(100 * p.randomInit).toFixed(1)}%`);
    expect(p.trained).toBeGreaterThan(p.randomInit);

    // Privacy of the wire: client 0 only sent socket.io control frames, the three
    // allowed events, and binary attachments exactly the size of a float32 delta.
    const paramCount = 4 * (9 * 1 * 32 + 32 + 9 * 32 * 64 + 64 + 9 * 64 * 128 + 128 + 9 * 128 * 128 + 128 + 128 * 128 + 128 + 128 * 64 + 64);
    const binary = frames.filter((f) => f.bytes !== undefined);
    expect(binary.length).toBeGreaterThanOrEqual(3);
    for (const f of binary) expect(f.bytes).toBe(paramCount);
    const events = new Set<string>();
    for (const f of frames.filter((x) => x.text !== undefined)) {
      const name = socketIoEventName(f.text!);
      if (name) events.add(name);
      // No long numeric arrays (raw pixels as JSON) in any text frame.
      expect(f.text!).not.toMatch(/(\d+(\.\d+)?,){64,}/);
    }
    expect(events.has('update:submit')).toBe(true);
    for (const e of events) expect(['client:ready', 'model:get', 'update:submit']).toContain(e);
  });
});
