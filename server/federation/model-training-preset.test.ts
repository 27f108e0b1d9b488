import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPACT_MODEL_CONFIG } from '../../shared/model/config';
import { RoundConfigSchema } from '../../shared/protocol/round-config';
import { federationFixture, startTestServer } from './test-harness';

const { servers } = federationFixture();

describe('each --model brings the training it was measured with', () => {
  it('the default encoder trains with the recipe: τ 0.2, peak 2e-3, warm-up (6 rounds) + cosine over 114 rounds, jitter, no flip', async () => {
    const s = await startTestServer({}, { model: 'default' });
    servers.push(s);
    const t = s.coordinator.config.training;
    expect(t.temperature).toBe(0.2);
    expect(t.learningRate).toBe(2e-3);
    expect(t.schedule).toEqual({ warmupRounds: 6, totalRounds: 114, finalFraction: 0.05 });
    expect(t.augmentation?.colorJitter.enabled).toBe(true);
    expect(t.augmentation?.flip.enabled).toBe(false); // the server cannot know the images are mirror-symmetric
  });

  it("an operator's training settings win field by field", async () => {
    const s = await startTestServer(
      { roundConfig: { training: { temperature: 0.3, schedule: { totalRounds: 100 } } } },
      { model: 'default' },
    );
    servers.push(s);
    const t = s.coordinator.config.training;
    expect(t.temperature).toBe(0.3);
    expect(t.schedule).toEqual({ warmupRounds: 0, totalRounds: 100, finalFraction: 0.05 });
    expect(t.learningRate).toBe(2e-3); // not set by the operator: the recipe's
  });

  it.each(['compact', 'tiny'] as const)(
    'the %s encoder keeps the round config defaults (constant learning rate)',
    async (model) => {
      const s = await startTestServer({}, { model });
      servers.push(s);
      const t = s.coordinator.config.training;
      expect(t.temperature).toBe(0.5);
      expect(t.learningRate).toBe(1e-3);
      expect(t.schedule).toBeUndefined();
      expect(t.augmentation).toBeUndefined();
    },
  );

  it("an older data dir keeps its encoder and that encoder's training, whatever --model says", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-preset-'));
    try {
      const first = await startTestServer({}, { dataDir, model: 'compact' });
      await first.cleanup();
      const again = await startTestServer({}, { dataDir, model: 'default' });
      servers.push(again);
      expect(again.coordinator.globalModel.config).toEqual(COMPACT_MODEL_CONFIG);
      expect(again.coordinator.config.training.temperature).toBe(0.5);
      expect(again.coordinator.config.training.schedule).toBeUndefined();
    } finally {
      for (const s of servers.splice(0)) await s.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an admin edit runs as it was saved after a restart: the recipe adds nothing to it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fedssl-preset-'));
    try {
      const first = await startTestServer({}, { dataDir, model: 'default' });
      // What PUT /api/admin/config stores: the whole parsed config, here with a constant learning rate.
      const edited = RoundConfigSchema.parse({ training: { learningRate: 5e-4, temperature: 0.3 } });
      first.registry.setSetting('round_config', JSON.stringify(edited));
      await first.cleanup();
      const again = await startTestServer({}, { dataDir, model: 'default' });
      servers.push(again);
      expect(again.coordinator.config.training).toEqual(edited.training);
      expect(again.coordinator.config.training.schedule).toBeUndefined();
    } finally {
      for (const s of servers.splice(0)) await s.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
