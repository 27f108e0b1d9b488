// Conv2DBackpropFilter for the tfjs WASM backend, which (as of 4.22) ships
// without it, so conv-net training on 'wasm' fails with "not registered".
//
// Math (im2col): with N = B*Ho*Wo output positions and K = kh*kw*Cin filter
// taps, let colsT[k, n] be the input value that tap k multiplies at output n
// (zero where it falls in the padding). Then dW (as [K, Cout]) = colsT · dY,
// with dY = dy viewed as [N, Cout]: one big matmul.
//
// Why this shape, measured on tfjs-backend-wasm 4.22 in Node:
//  - BatchMatMul is fast (XNNPACK) only with batch 1 and no transpose flags;
//    transposeA / transposeB / broadcast batches took ~10x longer. Writing
//    the patches already transposed (colsT, [K, N]) lets the plain path
//    produce dW in filter layout [kh*kw*Cin, Cout] with no Transpose at all.
//  - Building the patches from kernels (PadV2 + one StridedSlice per tap)
//    spent ~200 ms per typical layer in StridedSlice alone, versus a few ms
//    for the copy loop below. So the gather writes straight into the output
//    tensor's wasm heap, the same way wasm's own Slice and Concat kernels
//    copy in JS; only the arithmetic goes through a kernel (BatchMatMul).
// Intermediates are plain TensorInfos freed with backend.disposeData, so
// nothing is recorded on the engine's tape or tensor count.
import {
  Add,
  backend_util,
  BatchMatMul,
  Conv2DBackpropFilter,
  getKernel,
  registerKernel,
  Reshape,
  Slice,
  Transpose,
} from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { gatherColumns, gatherColumnsTransposed, type GatherGeometry, type InputStrides } from './im2col';
import {
  asWasmBackend,
  imagesPerChunk,
  runWasmKernel,
  ScratchTensors,
  WASM_BACKEND,
  type WasmHeapBackend,
} from './wasm-kernel-utils';

export { setColumnChunkLimit } from './wasm-kernel-utils';
export { gatherColumns, gatherColumnsTransposed } from './im2col';

const KERNEL = 'Conv2DBackpropFilter';

/** From this many input channels the row-layout path wins (Node, batch 128: Cin 128 64→42 ms, Cin 64 76→68 ms, Cin 32 104→123 ms). */
const DEFAULT_ROW_LAYOUT_MIN_CHANNELS = 64;
let rowLayoutMinChannels = DEFAULT_ROW_LAYOUT_MIN_CHANNELS;

/** Test/tuning hook: input channels from which the row-layout path is used (null restores the default). */
export function setRowLayoutMinChannels(channels: number | null): void {
  rowLayoutMinChannels = channels ?? DEFAULT_ROW_LAYOUT_MIN_CHANNELS;
}

function conv2DBackpropFilterImpl(
  x: TensorInfo,
  dy: TensorInfo,
  attrs: Conv2DBackpropFilterAttrs,
  backend: WasmHeapBackend,
  scratch: ScratchTensors,
): TensorInfo {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`wasm Conv2DBackpropFilter supports float32 only, got x ${x.dtype}, dy ${dy.dtype}`);
  }
  const run = scratch.run.bind(scratch);
  const own = scratch.own.bind(scratch);
  const nchw = attrs.dataFormat === 'NCHW';
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1, // tfjs' conv2d gradient rejects dilations > 1, and this kernel has no dilation attr
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    nchw ? 'channelsFirst' : 'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const perImage = outHeight * outWidth;
  const k = info.filterHeight * info.filterWidth * inChannels;
  const geometry: GatherGeometry = { ...info, padTop: info.padInfo.top, padLeft: info.padInfo.left };
  const xs: InputStrides = nchw
    ? { batch: inChannels * inHeight * inWidth, channel: inHeight * inWidth, row: inWidth, col: 1 }
    : { batch: inHeight * inWidth * inChannels, row: inWidth * inChannels, col: inChannels, channel: 1 };

  // dY as [N, Cout]: a free reshape for NHWC; NCHW needs channels moved last.
  const dyNhwc = nchw ? run(Transpose, { x: dy }, { perm: [0, 2, 3, 1] }) : dy;
  const dy2d = run(Reshape, { x: dyNhwc }, { shape: [batchSize * perImage, outChannels] });

  const chunk = imagesPerChunk(batchSize, perImage, k);
  // Wide NHWC inputs: contiguous row gather, then dWᵀ = dYᵀ · cols (dy transposed
  // once). Narrow or NCHW inputs: the strided transposed gather, dW = colsT · dY.
  const rowLayout = !nchw && inChannels >= rowLayoutMinChannels;
  const dyT = rowLayout ? run(Transpose, { x: dy2d }, { perm: [1, 0] }) : undefined;
  let dw: TensorInfo | null = null;
  for (let b0 = 0; b0 < batchSize; b0 += chunk) {
    const count = Math.min(chunk, batchSize - b0);
    const n = count * perImage;
    let part: TensorInfo;
    if (dyT) {
      const cols = own(backend.makeOutput([n, k], 'float32'));
      // Views are taken after the allocation: a malloc may grow (and detach) the heap.
      gatherColumns(
        backend.typedArrayFromHeap(x),
        geometry,
        backend.typedArrayFromHeap(cols) as Float32Array,
        b0,
        count,
      );
      const dyCols =
        count === batchSize ? dyT : run(Slice, { x: dyT }, { begin: [0, b0 * perImage], size: [outChannels, n] });
      part = run(BatchMatMul, { a: dyCols, b: cols }, { transposeA: false, transposeB: false });
    } else {
      const colsT = own(backend.makeOutput([k, n], 'float32'));
      gatherColumnsTransposed(
        backend.typedArrayFromHeap(x),
        xs,
        geometry,
        backend.typedArrayFromHeap(colsT) as Float32Array,
        b0,
        count,
      );
      const dyRows =
        count === batchSize ? dy2d : run(Slice, { x: dy2d }, { begin: [b0 * perImage, 0], size: [n, outChannels] });
      part = run(BatchMatMul, { a: colsT, b: dyRows }, { transposeA: false, transposeB: false });
    }
    dw = dw == null ? part : run(Add, { a: dw, b: part }, {});
  }
  if (dw != null && dyT) dw = run(Transpose, { x: dw }, { perm: [1, 0] });
  if (dw == null) throw new Error('wasm Conv2DBackpropFilter: empty batch');
  return runWasmKernel(Reshape, { x: dw }, { shape: [...attrs.filterShape] }, backend, KERNEL);
}

/** kernelFunc for Conv2DBackpropFilter on 'wasm'. Inputs: x, dy. */
export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  if (x == null || dy == null) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  if (attrs == null) throw new Error('Conv2DBackpropFilter needs attrs');
  const wasm = asWasmBackend(backend, KERNEL);
  const scratch = new ScratchTensors(wasm, KERNEL);
  try {
    return conv2DBackpropFilterImpl(x, dy, attrs as unknown as Conv2DBackpropFilterAttrs, wasm, scratch);
  } finally {
    // The result is a reshape holding its own reference, so every scratch tensor can go.
    scratch.disposeAll();
  }
};

/** Registers the kernel for 'wasm' once; a no-op if one is already registered. */
export function registerWasmConv2DBackpropFilter(): void {
  if (getKernel(Conv2DBackpropFilter, WASM_BACKEND) != null) return;
  registerKernel({
    kernelName: Conv2DBackpropFilter,
    backendName: WASM_BACKEND,
    kernelFunc: conv2DBackpropFilterWasm,
  });
}
