/**
 * The console's probe, with bench:quality's protocol (shared/ssl/probe-baselines.ts), and the
 * raw-pixel baseline beside the random-init one: computed once per dataset and probe setup
 * (it depends on nothing else) and cached for the server's lifetime.
 */
import type { DatasetSplit } from '../../shared/data/dataset';
import type { ProbeProtocolResult } from '../../shared/ssl/probe-protocol';
import { probeWithSetup, rawPixelProbe, type ProbeSetup } from '../../shared/ssl/probe-baselines';
import { withTfObjective } from '../../shared/ssl/probe-tf';

/** The protocol on extracted features (labelled rows, then validation rows; test rows), with the tfjs objective. */
export function protocolProbe(
  train: { features: Float32Array; labels: Uint8Array },
  test: { features: Float32Array; labels: Uint8Array },
  dim: number,
  classes: number,
  setup: ProbeSetup,
): ProbeProtocolResult {
  return withTfObjective((make) => probeWithSetup(train, test, dim, classes, setup, make));
}

/** The raw-pixel probe of `split` under `setup` (pure compute: the scorer runs it on its worker). */
export function rawPixelBaseline(split: DatasetSplit, setup: ProbeSetup): ProbeProtocolResult {
  return withTfObjective((make) => rawPixelProbe(split.train, split.test, split.train.numClasses, setup, make));
}

/** Raw-pixel accuracies by dataset and probe setup, each computed once (a failed computation is retried). */
export class RawBaselineCache {
  private readonly cache = new Map<string, Promise<number>>();

  get(dataset: string, setup: ProbeSetup, compute: () => Promise<number>): Promise<number> {
    const key = `${dataset}/${setup.labels}/${setup.validation}/${setup.test}`;
    let r = this.cache.get(key);
    if (!r) {
      r = compute();
      this.cache.set(key, r);
      r.catch(() => this.cache.delete(key));
    }
    return r;
  }

  get size(): number {
    return this.cache.size;
  }
}
