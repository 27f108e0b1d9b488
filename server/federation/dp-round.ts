/**
 * How one DP round spends its noise multiplier z (pure; shared/privacy/noise-split.ts has the math).
 *
 * The round releases the delta sum (sensitivity C), and optionally adaptive clipping's
 * centred bit sum (sensitivity ½, σ_b) and the centred loss sum (sensitivity lossMax/2,
 * σ_ℓ = lossMax·m/20, the loss analogue of the paper's σ_b = m/20). The delta gets
 * z_Δ = (z⁻² − Σ (s_j/σ_j)²)^(−1/2), so the whole release is one Gaussian mechanism
 * with multiplier z.
 *
 * Central mode: the server adds all the noise, so the realised multiplier is z.
 * Distributed mode: each of the m = q·N expected clients adds 1/m of every variance.
 * With s survivors the sum carries s/m of it; we credit only the other s − 1 clients'
 * noise (a client's own share is not counted as protecting it), so the realised
 * multiplier is z·√((s − 1)/m), recorded by the accountant for that round.
 */
import { scalarSensitivities } from '../../shared/secagg/masked-vector-layout';
import { combinedNoiseMultiplier, deltaNoiseMultiplierFor, type SideQuery } from '../../shared/privacy/noise-split';

export interface DpRoundPlan {
  mode: 'central' | 'distributed';
  z: number;
  expectedClients: number;
  /** z_Δ: the delta sum's noise is z_Δ·C. */
  deltaMultiplier: number;
  /** σ_b on the centred bit sum, when adaptive clipping runs. */
  bitNoiseStd?: number;
  /** σ_ℓ on the centred loss sum and its sensitivity lossMax/2, when the loss is reported. */
  lossNoiseStd?: number;
  lossSensitivity?: number;
  /** Distributed mode: the per-client stds announced to the clients. */
  client?: { clientNoiseStd: number; clientBitNoiseStd?: number; clientLossNoiseStd?: number };
}

export function planDpRound(p: {
  z: number;
  mode: 'central' | 'distributed';
  clipNorm: number;
  expectedClients: number;
  bitNoiseStd?: number;
  lossMax?: number;
}): DpRoundPlan {
  const m = p.expectedClients;
  if (!(m > 0)) throw new Error(`dp round: expected clients must be positive, got ${m}`);
  const sides: SideQuery[] = [];
  if (p.bitNoiseStd !== undefined) {
    if (!(p.bitNoiseStd > 0))
      throw new Error(`dp round: adaptive clipping under DP needs a positive bit noise std, got ${p.bitNoiseStd}`);
    sides.push({ sensitivity: scalarSensitivities({ lossMax: 1 }).bit, std: p.bitNoiseStd });
  }
  const lossNoiseStd = p.lossMax !== undefined ? (p.lossMax * m) / 20 : undefined;
  const lossSensitivity = p.lossMax !== undefined ? scalarSensitivities({ lossMax: p.lossMax }).loss : undefined;
  if (lossNoiseStd !== undefined && lossSensitivity !== undefined)
    sides.push({ sensitivity: lossSensitivity, std: lossNoiseStd });
  const deltaMultiplier = deltaNoiseMultiplierFor(p.z, sides);
  const root = Math.sqrt(m);
  return {
    mode: p.mode,
    z: p.z,
    expectedClients: m,
    deltaMultiplier,
    ...(p.bitNoiseStd !== undefined ? { bitNoiseStd: p.bitNoiseStd } : {}),
    ...(lossNoiseStd !== undefined ? { lossNoiseStd, lossSensitivity } : {}),
    ...(p.mode === 'distributed'
      ? {
          client: {
            clientNoiseStd: (deltaMultiplier * p.clipNorm) / root,
            ...(p.bitNoiseStd !== undefined ? { clientBitNoiseStd: p.bitNoiseStd / root } : {}),
            ...(lossNoiseStd !== undefined ? { clientLossNoiseStd: lossNoiseStd / root } : {}),
          },
        }
      : {}),
  };
}

/** The multiplier the accountant records for a round whose noised sum was unmasked with `survivors` clients in it. */
export function realisedNoiseMultiplier(plan: DpRoundPlan, survivors: number): number {
  if (plan.mode === 'central') return plan.z;
  if (!Number.isInteger(survivors) || survivors < 2)
    throw new Error(`dp round: need at least 2 survivors to credit any client noise, got ${survivors}`);
  const f = Math.sqrt((survivors - 1) / plan.expectedClients);
  const sides: SideQuery[] = [];
  if (plan.bitNoiseStd !== undefined)
    sides.push({ sensitivity: scalarSensitivities({ lossMax: 1 }).bit, std: plan.bitNoiseStd * f });
  if (plan.lossNoiseStd !== undefined) sides.push({ sensitivity: plan.lossSensitivity!, std: plan.lossNoiseStd * f });
  return combinedNoiseMultiplier(plan.deltaMultiplier * f, sides);
}
