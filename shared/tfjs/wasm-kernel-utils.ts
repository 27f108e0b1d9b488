// Helpers for kernels we add to tfjs-backend-wasm: they run its registered
// kernels and copy data straight in its heap, as its own Slice/Concat do.
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type {
  DataId,
  DataType,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

export const WASM_BACKEND = 'wasm';

/** The part of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

export function asWasmBackend(backend: unknown, kernel: string): WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend> | null;
  if (
    b == null ||
    typeof b.makeOutput !== 'function' ||
    typeof b.typedArrayFromHeap !== 'function' ||
    typeof b.disposeData !== 'function'
  ) {
    throw new Error(`wasm ${kernel}: backend does not look like tfjs-backend-wasm`);
  }
  return b as WasmHeapBackend;
}

/** Runs another registered wasm kernel; the caller owns (and must free) the result. */
export function runWasmKernel(
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: WasmHeapBackend,
  caller: string,
): TensorInfo {
  const config = getKernel(name, WASM_BACKEND);
  if (config == null) throw new Error(`wasm ${caller} needs kernel '${name}', which is not registered`);
  const out = config.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`kernel '${name}' returned several outputs; expected one`);
  return out;
}

/**
 * Tracks the intermediates of one kernel call so they are all freed, on success
 * and on error alike; `run` executes a wasm kernel and keeps its output.
 */
export class ScratchTensors {
  private readonly held: TensorInfo[] = [];
  constructor(
    private readonly backend: WasmHeapBackend,
    private readonly caller: string,
  ) {}

  own(t: TensorInfo): TensorInfo {
    this.held.push(t);
    return t;
  }

  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
    return this.own(runWasmKernel(name, inputs, attrs, this.backend, this.caller));
  }

  disposeAll(): void {
    for (const t of this.held.splice(0)) this.backend.disposeData(t.dataId);
  }
}

/**
 * Upper bound on an im2col matrix's size (floats) per matmul. Larger batches are
 * split into batch chunks, so a big batch costs a bit more kernel overhead rather
 * than hundreds of MB of wasm heap.
 */
const DEFAULT_MAX_COLUMN_ELEMENTS = 1 << 23; // 32 MiB of float32
let maxColumnElements = DEFAULT_MAX_COLUMN_ELEMENTS;

/** Tuning/test hook: cap column matrices at `elements` floats per chunk (null restores the default). */
export function setColumnChunkLimit(elements: number | null): void {
  if (elements != null && !(Number.isInteger(elements) && elements > 0)) {
    throw new Error(`column chunk limit must be a positive integer, got ${elements}`);
  }
  maxColumnElements = elements ?? DEFAULT_MAX_COLUMN_ELEMENTS;
}

/** Images per chunk so that chunk·perImage·taps floats stay under the limit (at least 1). */
export function imagesPerChunk(batchSize: number, perImage: number, taps: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(maxColumnElements / Math.max(1, perImage * taps))));
}

const nativeKernels = new Map<string, KernelConfig>();

/**
 * Puts `kernelFunc` in place of a native wasm kernel (idempotent). The native
 * setupFunc is kept, so its wasm function still binds at backend init and
 * `nativeWasmKernel` can serve the cases we do not handle.
 */
export function overrideWasmKernel(name: string, kernelFunc: KernelFunc): void {
  const existing = getKernel(name, WASM_BACKEND);
  if (existing?.kernelFunc === kernelFunc) return;
  if (existing) {
    nativeKernels.set(name, existing);
    unregisterKernel(name, WASM_BACKEND);
  }
  registerKernel({
    kernelName: name,
    backendName: WASM_BACKEND,
    kernelFunc,
    ...(existing?.setupFunc ? { setupFunc: existing.setupFunc } : {}),
  });
}

/** The native kernel an override replaced, for fallbacks. */
export function nativeWasmKernel(name: string): KernelConfig | undefined {
  return nativeKernels.get(name);
}

/** Test hook: puts the native kernel back. */
export function restoreNativeWasmKernel(name: string): void {
  const native = nativeKernels.get(name);
  if (!native) return;
  unregisterKernel(name, WASM_BACKEND);
  registerKernel(native);
}
