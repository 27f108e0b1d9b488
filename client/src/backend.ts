import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerWasmTrainingKernels } from '../../shared/tfjs/wasm-training-kernels';

import { type BackendName } from './backend-names';

export type { BackendName };

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  description: string;
  isFallback: boolean;
}

export interface BackendChoice {
  backend: BackendName;
  reason: string;
  forced: boolean;
  adapter?: AdapterSummary;
  wasmSimd?: boolean;
  wasmThreads?: boolean;
  crossOriginIsolated: boolean;
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

/** SwiftShader and other software adapters are far too slow to train on (~15 s/step). */
export function summarizeAdapter(adapter: AdapterLike): AdapterSummary {
  const info = adapter.info ?? {};
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  const isFallback =
    adapter.isFallbackAdapter === true ||
    info.isFallbackAdapter === true ||
    /swiftshader/i.test(architecture) ||
    /swiftshader/i.test(description);
  return { vendor: info.vendor ?? '', architecture, description, isFallback };
}

/** Held only so Chromium keeps the GPU instance alive (see probeWebGpu); never read. */
let _probedAdapter: unknown;

async function probeWebGpu(): Promise<AdapterSummary | undefined> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<AdapterLike | null> } }).gpu;
  if (!gpu) return undefined;
  try {
    const adapter = await gpu.requestAdapter();
    // Keep it referenced: in Chromium, a collected adapter can take the GPU instance
    // with it and later WebGPU reads fail ("external Instance reference no longer exists").
    _probedAdapter = adapter;
    return adapter ? summarizeAdapter(adapter) : undefined;
  } catch {
    return undefined;
  }
}

async function activate(name: BackendName): Promise<boolean> {
  if (name === 'webgpu') await import('@tensorflow/tfjs-backend-webgpu');
  if (name === 'wasm') {
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmUrl,
      'tfjs-backend-wasm-simd.wasm': simdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdUrl,
    });
  }
  try {
    const ok = await tf.setBackend(name);
    if (!ok) return false;
    await tf.ready();
    if (name === 'wasm') registerWasmTrainingKernels();
    return true;
  } catch {
    return false;
  }
}

/**
 * Picks the training backend: a real WebGPU adapter, else WASM (SIMD, threads when
 * cross-origin isolated), else CPU. `forced` (from ?backend=) overrides the choice.
 */
export async function selectBackend(forced?: BackendName): Promise<BackendChoice> {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const adapter = await probeWebGpu();
  const withWasmInfo = async (choice: BackendChoice): Promise<BackendChoice> => {
    if (choice.backend !== 'wasm') return choice;
    const wasmSimd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const wasmThreads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) && isolated;
    return { ...choice, wasmSimd, wasmThreads };
  };
  const base = { crossOriginIsolated: isolated, ...(adapter ? { adapter } : {}) };

  if (forced) {
    if (!(await activate(forced))) throw new Error(`backend "${forced}" was requested but could not be initialised`);
    return withWasmInfo({ ...base, backend: forced, forced: true, reason: `forced by ?backend=${forced}` });
  }
  if (adapter && !adapter.isFallback && (await activate('webgpu'))) {
    return {
      ...base,
      backend: 'webgpu',
      forced: false,
      reason: `WebGPU adapter ${adapter.vendor} ${adapter.architecture}`.trim(),
    };
  }
  const why = !adapter
    ? 'no WebGPU adapter'
    : adapter.isFallback
      ? `WebGPU adapter is a software fallback (${adapter.architecture || adapter.description || 'fallback'}), too slow to train`
      : 'WebGPU failed to initialise';
  if (await activate('wasm'))
    return withWasmInfo({ ...base, backend: 'wasm', forced: false, reason: `${why}; using WASM` });
  if (await activate('cpu'))
    return { ...base, backend: 'cpu', forced: false, reason: `${why}; WASM unavailable; using CPU` };
  throw new Error('no TensorFlow.js backend could be initialised');
}
