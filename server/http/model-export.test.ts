import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createSimclrModel, disposeSimclrModel } from '../../shared/model/encoder';
import { unflattenWeights } from '../../shared/model/weights';
import { loadVersion } from '../model/global-model';
import { federationFixture, startTestServer, TEST_ADMIN_TOKEN } from '../federation/test-harness';

const { servers } = federationFixture();

describe('admin model export (tfjs layers format)', () => {
  it("tf.loadLayersModel over HTTP returns exactly the version's encoder and projection head", async () => {
    const s = await startTestServer({ manualStart: true });
    servers.push(s);
    const load = (query: string) =>
      tf.loadLayersModel(
        tf.io.http(`${s.url}/api/admin/models/0/model.json${query}`, {
          requestInit: { headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` } },
        }),
      );
    const encoder = await load('');
    const head = await load('?part=head');
    const v0 = loadVersion(s.registry, 0);
    const ref = createSimclrModel(v0.config);
    unflattenWeights(ref, v0.layout, v0.weights);
    try {
      for (const [loaded, expected] of [
        [encoder, ref.encoder],
        [head, ref.head],
      ] as const) {
        const got = loaded.getWeights();
        const want = expected.getWeights();
        expect(got.map((w) => w.shape)).toEqual(want.map((w) => w.shape));
        got.forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(want[i]!.dataSync())));
      }
    } finally {
      encoder.dispose();
      head.dispose();
      disposeSimclrModel(ref);
    }
  });
});
