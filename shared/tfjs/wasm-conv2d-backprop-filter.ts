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
import { Add, backend_util, BatchMatMul, Conv2DBackpropFilter, getKernel, registerKernel, Reshape, Slice, Transpose } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend, imagesPerChunk, runWasmKernel, ScratchTensors, WASM_BACKEND, type WasmHeapBackend } from './wasm-kernel-utils';

export { setColumnChunkLimit } from './wasm-kernel-utils';

const KERNEL = 'Conv2DBackpropFilter';

/** Element strides of a 4-D input, so NHWC and NCHW share one gather loop. */
interface InputStrides {
  batch: number;
  row: number;
  col: number;
  channel: number;
}

/** Geometry of the gather; all fields come from backend_util.Conv2DInfo. */
interface GatherGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Writes colsT for images [b0, b0 + batchCount) into `out`: a [K, N] matrix,
 * K ordered (i, j, cin) like the filter, N = batchCount*Ho*Wo ordered
 * (b, oh, ow) like dy. Padding is written as zeros, so no padded copy of x is
 * ever made. Exported for unit tests.
 */
export function gatherColumnsTransposed(
  x: ArrayLike<number>,
  xs: InputStrides,
  g: GatherGeometry,
  out: Float32Array,
  b0 = 0,
  batchCount = g.batchSize,
): void {
  const n = batchCount * g.outHeight * g.outWidth;
  if (out.length < n * g.filterHeight * g.filterWidth * g.inChannels) {
    throw new Error('gatherColumnsTransposed: output buffer too small');
  }
  let k = 0;
  for (let i = 0; i < g.filterHeight; i++) {
    for (let j = 0; j < g.filterWidth; j++) {
      const rowOff = i * g.dilationHeight - g.padTop;
      const colOff = j * g.dilationWidth - g.padLeft;
      // Output columns whose input column is inside the image: [owLo, owHi).
      const owLo = Math.max(0, Math.ceil(-colOff / g.strideWidth));
      const owHi = Math.min(g.outWidth, Math.ceil((g.inWidth - colOff) / g.strideWidth));
      for (let c = 0; c < g.inChannels; c++, k++) {
        let o = k * n;
        for (let b = b0; b < b0 + batchCount; b++) {
          const bBase = b * xs.batch + c * xs.channel;
          for (let oh = 0; oh < g.outHeight; oh++) {
            const ih = oh * g.strideHeight + rowOff;
            if (ih < 0 || ih >= g.inHeight || owLo >= owHi) {
              out.fill(0, o, o + g.outWidth);
              o += g.outWidth;
              continue;
            }
            let ow = 0;
            for (; ow < owLo; ow++) out[o++] = 0;
            let src = bBase + ih * xs.row + (owLo * g.strideWidth + colOff) * xs.col;
            const step = g.strideWidth * xs.col;
            for (; ow < owHi; ow++, src += step) out[o++] = x[src] as number;
            for (; ow < g.outWidth; ow++) out[o++] = 0;
          }
        }
      }
    }
  }
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
  let dw: TensorInfo | null = null;
  for (let b0 = 0; b0 < batchSize; b0 += chunk) {
    const count = Math.min(chunk, batchSize - b0);
    const n = count * perImage;
    const colsT = own(backend.makeOutput([k, n], 'float32'));
    // Views are taken after the allocation: a malloc may grow (and detach) the heap.
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
    const part = run(BatchMatMul, { a: colsT, b: dyRows }, { transposeA: false, transposeB: false });
    dw = dw == null ? part : run(Add, { a: dw, b: part }, {});
  }
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
