// im2col / col2im copy loops for the wasm conv kernels. They read and write
// wasm heap views directly (a few ms per layer), so only the arithmetic goes
// through a kernel (one XNNPACK matmul).

/** Element strides of a 4-D input, so NHWC and NCHW share one gather loop. */
export interface InputStrides {
  batch: number;
  row: number;
  col: number;
  channel: number;
}

/** Geometry of the gather; all fields come from backend_util.Conv2DInfo. */
export interface GatherGeometry {
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
 * Writes cols for images [b0, b0 + batchCount) of an NHWC input into `out`: an
 * [N, K] matrix, rows (b, oh, ow) like dy, columns (i, j, cin) like the filter.
 * Each tap copies Cin contiguous floats, so this is the fast layout for wide
 * inputs; padding taps are zero-filled. Exported for unit tests.
 */
export function gatherColumns(
  x: ArrayLike<number>,
  g: GatherGeometry,
  out: Float32Array,
  b0 = 0,
  batchCount = g.batchSize,
): void {
  const cin = g.inChannels;
  const taps = g.filterHeight * g.filterWidth * cin;
  if (out.length < batchCount * g.outHeight * g.outWidth * taps)
    throw new Error('gatherColumns: output buffer too small');
  const rowStride = g.inWidth * cin;
  const imageStride = g.inHeight * rowStride;
  let o = 0;
  for (let b = b0; b < b0 + batchCount; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const iwBase = ow * g.strideWidth - g.padLeft;
        for (let i = 0; i < g.filterHeight; i++) {
          const ih = ihBase + i * g.dilationHeight;
          const rowInside = ih >= 0 && ih < g.inHeight;
          for (let j = 0; j < g.filterWidth; j++) {
            const iw = iwBase + j * g.dilationWidth;
            const end = o + cin;
            if (!rowInside || iw < 0 || iw >= g.inWidth) {
              out.fill(0, o, end);
              o = end;
              continue;
            }
            let src = b * imageStride + ih * rowStride + iw * cin;
            while (o < end) out[o++] = x[src++] as number;
          }
        }
      }
    }
  }
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

/** Geometry of the scatter (NHWC, whole batch in dx): the gather's, without batch size or dilation. */
export type ScatterGeometry = Omit<GatherGeometry, 'batchSize' | 'dilationHeight' | 'dilationWidth'>;

/**
 * Adds cols (rows (b, oh, ow) for images [b0, b0 + count), columns (i, j, c)) into
 * dx (NHWC, whole batch). Taps that land in the padding are dropped. Exported for tests.
 */
export function scatterColumnsAdd(
  cols: Float32Array,
  g: ScatterGeometry,
  dx: Float32Array,
  b0: number,
  count: number,
): void {
  const cin = g.inChannels;
  const taps = g.filterHeight * g.filterWidth * cin;
  const rowStride = g.inWidth * cin;
  const imageStride = g.inHeight * rowStride;
  if (cols.length < count * g.outHeight * g.outWidth * taps) throw new Error('scatterColumnsAdd: cols too small');
  if (dx.length < (b0 + count) * imageStride) throw new Error('scatterColumnsAdd: dx too small');
  let src = 0;
  for (let b = b0; b < b0 + count; b++) {
    const imageBase = b * imageStride;
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++, src += taps) {
        const iwBase = ow * g.strideWidth - g.padLeft;
        for (let i = 0; i < g.filterHeight; i++) {
          const ih = ihBase + i;
          if (ih < 0 || ih >= g.inHeight) continue;
          for (let j = 0; j < g.filterWidth; j++) {
            const iw = iwBase + j;
            if (iw < 0 || iw >= g.inWidth) continue;
            let s = src + (i * g.filterWidth + j) * cin;
            let d = imageBase + ih * rowStride + iw * cin;
            const end = d + cin;
            while (d < end) dx[d++]! += cols[s++]!;
          }
        }
      }
    }
  }
}
