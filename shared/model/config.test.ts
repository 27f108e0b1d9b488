import { describe, expect, it } from 'vitest';
import {
  COMPACT_MODEL_CONFIG,
  DEFAULT_MODEL_CONFIG,
  isDefaultModel,
  ModelConfigSchema,
  sameArchitecture,
  TINY_MODEL_CONFIG,
} from './config';

describe('sameArchitecture / isDefaultModel', () => {
  it('tells the three shipped encoders apart', () => {
    expect(isDefaultModel(DEFAULT_MODEL_CONFIG)).toBe(true);
    expect(isDefaultModel(COMPACT_MODEL_CONFIG)).toBe(false);
    expect(isDefaultModel(TINY_MODEL_CONFIG)).toBe(false);
    expect(sameArchitecture(COMPACT_MODEL_CONFIG, TINY_MODEL_CONFIG)).toBe(false);
  });

  it('reads absent optional fields as their defaults, as the encoder builder does', () => {
    const stored = ModelConfigSchema.parse(JSON.parse(JSON.stringify(COMPACT_MODEL_CONFIG)));
    expect(sameArchitecture({ ...stored, norm: 'none', poolGrid: 1 }, COMPACT_MODEL_CONFIG)).toBe(true);
    // groups only matters with GroupNorm.
    expect(sameArchitecture({ ...stored, groups: 4 }, COMPACT_MODEL_CONFIG)).toBe(true);
    const { groups: _omitted, ...defaultWithoutGroups } = DEFAULT_MODEL_CONFIG;
    expect(isDefaultModel(defaultWithoutGroups)).toBe(true);
  });

  it('sees any change that builds another encoder', () => {
    const variants = [
      { ...DEFAULT_MODEL_CONFIG, groups: 4 },
      { ...DEFAULT_MODEL_CONFIG, poolGrid: 1 },
      { ...DEFAULT_MODEL_CONFIG, norm: 'none' as const },
      { ...DEFAULT_MODEL_CONFIG, convFilters: [32, 64, 128, 256] },
      { ...DEFAULT_MODEL_CONFIG, headUnits: [256, 64] },
      { ...DEFAULT_MODEL_CONFIG, kernelSize: 5 },
      { ...DEFAULT_MODEL_CONFIG, convStrides: [2, 2, 2, 1] },
      { ...DEFAULT_MODEL_CONFIG, inputShape: [32, 32, 3] as [number, number, number] },
    ];
    for (const v of variants) expect(isDefaultModel(v), JSON.stringify(v)).toBe(false);
  });
});
