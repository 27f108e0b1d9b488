import { test, expect, type WebSocket } from '@playwright/test';
import { freshServerForThisFile } from './fixtures/fresh-server';
import { runSimulation } from './sim/simulation';
import { AdminClient } from './sim/admin-client';
import { RoundOutcome } from '../shared/protocol/phases';
import { createSimclrModel, disposeSimclrModel } from '../shared/model/encoder';
import { DEFAULT_MODEL_CONFIG } from '../shared/model/config';
import { weightLayout } from '../shared/model/weights';
import { maskedVectorLayout } from '../shared/secagg/masked-vector-layout';

/** Event name of a socket.io EVENT/BINARY_EVENT frame ("42…[", "451-…["), else undefined. */
function socketIoEventName(text: string): string | undefined {
  const m = /^4[25](?:\d+-)?\d*(\[.*)$/s.exec(text);
  return m ? ((JSON.parse(m[1]!) as unknown[])[0] as string) : undefined;
}

const app = freshServerForThisFile();

interface Frame {
  sent: boolean;
  text?: string;
  bytes?: number;
}

test.describe('federated SimCLR with browser clients', () => {
  test('four browser clients on non-IID Fashion-MNIST run three secure rounds; only masked updates leave the device', async ({
    baseURL,
  }) => {
    const frames: Frame[] = [];
    const result = await runSimulation({
      url: baseURL!,
      adminToken: app.adminToken,
      clients: 4,
      rounds: 3,
      dataset: 'fashion-mnist',
      split: 'dirichlet:0.3',
      dropout: 0,
      seed: 7,
      model: 'default',
      // Enough local work for SSL to show on the probe within three rounds.
      localSteps: 12,
      batchSize: 48,
      clientsPerBrowser: 4,
      backend: 'wasm',
      probe: true,
      log: (l) => console.log(l),
      // Record every websocket frame client 0 sends.
      onPage: (i, page) => {
        if (i !== 0) return;
        page.on('websocket', (ws: WebSocket) => {
          ws.on('framesent', (f) =>
            frames.push(
              typeof f.payload === 'string' ? { sent: true, text: f.payload } : { sent: true, bytes: f.payload.length },
            ),
          );
        });
      },
    });

    // The global version advances by one per committed round.
    const committed = result.rounds.filter((r) => r.outcome === RoundOutcome.Committed);
    expect(committed.length).toBeGreaterThanOrEqual(3);
    const versions = committed.map((r) => r.new_version!);
    versions.forEach((v, i) => i > 0 && expect(v).toBe(versions[i - 1]! + 1));
    for (const r of committed) expect(r.survivors).toBe(4);

    // Learning is judged on the SimCLR objective at fixed held-out images and augmentation seeds (no sampling
    // noise): three rounds lower it by far more than 0.2 nats, a broken trainer does not (held-out-loss.test.ts).
    // The probe is printed only: a few rounds move it by less than its noise (decided in bench, not here).
    const p = result.probe!;
    const h = result.heldOut!;
    console.log(
      `final v${p.version} linear probe: federated ${(100 * p.trained).toFixed(1)}% vs random init ${(100 * p.randomInit).toFixed(1)}% vs raw pixels ${(100 * p.rawPixels).toFixed(1)}%`,
    );
    expect(h.toVersion).toBe(versions[versions.length - 1]);
    expect(h.before - h.after).toBeGreaterThan(0.2);

    // Privacy of the wire (secure aggregation is on by default): client 0 sent only socket.io control frames,
    // the protocol's events, one masked vector per round (delta | weight | loss, shared/secagg/masked-vector-layout)
    // and small key/share attachments — never images.
    const model = createSimclrModel(DEFAULT_MODEL_CONFIG);
    const d = weightLayout(model).totalSize;
    disposeSimclrModel(model);
    const vectorBytes = 4 * maskedVectorLayout({ d, weight: true, bit: false, loss: true }).length;
    const binary = frames.filter((f) => f.bytes !== undefined);
    const maskedVectors = binary.filter((f) => f.bytes === vectorBytes);
    expect(maskedVectors.length).toBeGreaterThanOrEqual(3);
    for (const f of binary) if (f.bytes !== vectorBytes) expect(f.bytes).toBeLessThan(4096);
    const events = new Set<string>();
    for (const f of frames.filter((x) => x.text !== undefined)) {
      const name = socketIoEventName(f.text!);
      if (name) events.add(name);
      // No long numeric arrays (raw pixels as JSON) in any text frame.
      expect(f.text!).not.toMatch(/(\d+(\.\d+)?,){64,}/);
    }
    expect(events.has('secagg:masked-input')).toBe(true);
    const allowed = [
      'client:ready',
      'model:get',
      'update:submit',
      'secagg:advertise',
      'secagg:share-keys',
      'secagg:masked-input',
      'secagg:unmask',
    ];
    for (const e of events) expect(allowed).toContain(e);
    expect(events.has('update:submit')).toBe(false); // no plain deltas in secure mode
  });

  test('secure aggregation completes with four browser clients when one page is closed mid-round', async ({
    baseURL,
  }) => {
    const result = await runSimulation({
      url: baseURL!,
      adminToken: app.adminToken,
      clients: 4,
      rounds: 1,
      dataset: 'fashion-mnist',
      split: 'iid',
      dropout: 0.25,
      minSurvivors: 3,
      seed: 3,
      model: 'default',
      localSteps: 2,
      batchSize: 16,
      clientsPerBrowser: 4,
      backend: 'wasm',
      probe: false,
      log: (l) => console.log(l),
    });
    expect(result.closedPages).toBe(1);
    const committed = result.rounds.filter((r) => r.outcome === RoundOutcome.Committed);
    expect(committed).toHaveLength(1);
    expect(committed[0]!.survivors).toBe(3);
    expect(committed[0]!.dropouts).toBe(1);
  });

  test('a browser client reconnects by itself after losing its connection', async ({ page, baseURL }) => {
    const admin = new AdminClient(baseURL!, app.adminToken);
    const { token } = await admin.createJoinToken('reconnect test');
    await page.goto(`/?backend=wasm&model=tiny&dataset=mnist&join=1&debug=1&token=${token}`);
    await expect(page.getByTestId('fed-conn')).toHaveText('connected', { timeout: 120_000 });
    const clientId = await page.evaluate(() => localStorage.getItem('fedssl.clientId'));
    // Network loss: the transport dies under the client (no explicit disconnect()).
    await page.evaluate(() => {
      const f = (window as unknown as { fedssl: { federation?: { socket: { io: { engine: { close(): void } } } } } })
        .fedssl.federation;
      f!.socket.io.engine.close();
    });
    await expect(page.getByTestId('fed-conn')).toContainText('reconnecting', { timeout: 10_000 });
    await expect(page.getByTestId('fed-conn')).toHaveText('connected', { timeout: 30_000 });
    const clients = await admin.request<{ id: string; connected: boolean; eligible: boolean }[]>(
      'GET',
      '/api/admin/clients',
    );
    expect(clients.find((c) => c.id === clientId)).toMatchObject({ connected: true, eligible: true });
  });
});
