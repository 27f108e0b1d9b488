/**
 * Loads the native mask PRG (mask-prg.c, built by build.mjs) if it was built for this node.
 * Absent or stale, the server uses node:crypto instead (node-primitives.ts), with the same bytes.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Bump with ABI_VERSION in mask-prg.c. */
const ABI_VERSION = 1;

export interface NativeMaskPrg {
  /** acc[i] += Σ_j signs[j]·PRG(seeds[32j … 32j+32])[i] mod 2^32; signs are ±1, at most 65,536 seeds. */
  addMasks(acc: Uint32Array, seeds: Uint8Array, signs: Int8Array): void;
}

export const NATIVE_MASK_PRG_PATH = fileURLToPath(new URL('./build/mask-prg.node', import.meta.url));

let loaded: { prg: NativeMaskPrg | null; why: string } | undefined;

function load(): { prg: NativeMaskPrg | null; why: string } {
  if (process.env.FEDSSL_NATIVE_PRG === '0') return { prg: null, why: 'disabled by FEDSSL_NATIVE_PRG=0' };
  if (!existsSync(NATIVE_MASK_PRG_PATH))
    return { prg: null, why: `not built (run \`node server/native/build.mjs\`): ${NATIVE_MASK_PRG_PATH}` };
  try {
    const mod = createRequire(import.meta.url)(NATIVE_MASK_PRG_PATH) as { abi?: unknown; addMasks?: unknown };
    if (mod.abi !== ABI_VERSION || typeof mod.addMasks !== 'function')
      return { prg: null, why: `stale build (abi ${String(mod.abi)}, want ${ABI_VERSION}): rebuild it` };
    return { prg: mod as NativeMaskPrg, why: 'loaded' };
  } catch (err) {
    return { prg: null, why: `failed to load: ${(err as Error).message}` };
  }
}

/** The native mask PRG, or null (see nativeMaskPrgStatus for why). */
export function nativeMaskPrg(): NativeMaskPrg | null {
  loaded ??= load();
  return loaded.prg;
}

/** One line for logs and benches: which mask PRG the server's unmask uses, and why. */
export function nativeMaskPrgStatus(): string {
  loaded ??= load();
  return loaded.prg ? 'native (OpenSSL AES-256-CTR, blocked add)' : `node:crypto (native ${loaded.why})`;
}
