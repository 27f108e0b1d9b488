/**
 * Compact binary dataset bundle, so browsers fetch ~10 MB of bytes instead of
 * ~150 MB of JSON.
 *
 * Layout (all in one buffer):
 *   8 bytes   ASCII magic "FSSLDS01"
 *   4 bytes   uint32 little-endian: byte length H of the JSON header
 *   H bytes   UTF-8 JSON header (BundleHeader)
 *   then raw uint8: train images, train labels, test images, test labels
 * Image bytes are NHWC, count * height * width * channels each.
 */

import { type DatasetSplit, type ImageDataset, imageSize, validateDataset } from './dataset';

export const BUNDLE_MAGIC = 'FSSLDS01';
const MAGIC_BYTES = new TextEncoder().encode(BUNDLE_MAGIC);
const PREFIX_LEN = MAGIC_BYTES.length + 4;
// A header is a few hundred bytes; anything huge means a corrupt length field.
const MAX_HEADER_LEN = 1 << 20;

/** The dataset's metadata (shared by both splits) plus the split sizes. */
export interface BundleHeader extends Pick<ImageDataset, 'name' | 'width' | 'height' | 'channels' | 'numClasses' | 'classNames'> {
  version: 1;
  trainCount: number;
  testCount: number;
}

function headerOf(split: DatasetSplit): BundleHeader {
  const { train, test } = split;
  const same =
    train.name === test.name &&
    train.width === test.width &&
    train.height === test.height &&
    train.channels === test.channels &&
    train.numClasses === test.numClasses &&
    train.classNames.length === test.classNames.length &&
    train.classNames.every((c, i) => c === test.classNames[i]);
  if (!same) throw new Error('encodeDatasetBundle: train and test must share name, shape and classes');
  return {
    version: 1,
    name: train.name,
    width: train.width,
    height: train.height,
    channels: train.channels,
    numClasses: train.numClasses,
    classNames: [...train.classNames],
    trainCount: train.count,
    testCount: test.count,
  };
}

export function encodeDatasetBundle(split: DatasetSplit): Uint8Array {
  validateDataset(split.train);
  validateDataset(split.test);
  const header = new TextEncoder().encode(JSON.stringify(headerOf(split)));
  const parts = [split.train.images, split.train.labels, split.test.images, split.test.labels];
  const total = PREFIX_LEN + header.length + parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  out.set(MAGIC_BYTES, 0);
  new DataView(out.buffer).setUint32(MAGIC_BYTES.length, header.length, true);
  let off = PREFIX_LEN;
  out.set(header, off);
  off += header.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function fail(msg: string): never {
  throw new Error(`decodeDatasetBundle: ${msg}`);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function parseHeader(json: string): BundleHeader {
  let h: unknown;
  try {
    h = JSON.parse(json);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof h !== 'object' || h === null) fail('header is not a JSON object');
  const r = h as Record<string, unknown>;
  if (r.version !== 1) fail(`unsupported bundle version ${String(r.version)}`);
  if (typeof r.name !== 'string') fail('header.name must be a string');
  for (const k of ['width', 'height', 'channels', 'numClasses', 'trainCount', 'testCount']) {
    if (!isCount(r[k])) fail(`header.${k} must be a non-negative integer`);
  }
  if (!Array.isArray(r.classNames) || !r.classNames.every((c) => typeof c === 'string')) {
    fail('header.classNames must be an array of strings');
  }
  return r as unknown as BundleHeader;
}

/**
 * Parses and validates a bundle. Returned arrays are copies (own their
 * buffers), so they can be transferred to workers independently.
 */
export function decodeDatasetBundle(bytes: Uint8Array): DatasetSplit {
  if (bytes.length < PREFIX_LEN) fail(`input is ${bytes.length} bytes, too short for a bundle (truncated?)`);
  for (let i = 0; i < MAGIC_BYTES.length; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) fail(`bad magic bytes: expected "${BUNDLE_MAGIC}" (not a dataset bundle?)`);
  }
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC_BYTES.length, true);
  if (headerLen > MAX_HEADER_LEN) fail(`header length ${headerLen} is implausibly large (corrupt?)`);
  if (PREFIX_LEN + headerLen > bytes.length) {
    fail(`header needs ${headerLen} bytes but only ${bytes.length - PREFIX_LEN} remain (truncated?)`);
  }
  const header = parseHeader(new TextDecoder().decode(bytes.subarray(PREFIX_LEN, PREFIX_LEN + headerLen)));

  const size = imageSize(header);
  const sections = [
    header.trainCount * size,
    header.trainCount,
    header.testCount * size,
    header.testCount,
  ] as const;
  const expected = PREFIX_LEN + headerLen + sections.reduce((s, n) => s + n, 0);
  if (bytes.length < expected) fail(`expected ${expected} bytes, got ${bytes.length} (truncated?)`);
  if (bytes.length > expected) fail(`expected ${expected} bytes, got ${bytes.length} (trailing garbage?)`);

  let off = PREFIX_LEN + headerLen;
  const take = (n: number): Uint8Array => {
    // Copy via the constructor, not .slice(): Node's Buffer.slice returns a view.
    const out = new Uint8Array(bytes.subarray(off, off + n));
    off += n;
    return out;
  };
  const make = (count: number, images: Uint8Array, labels: Uint8Array): ImageDataset => ({
    name: header.name,
    width: header.width,
    height: header.height,
    channels: header.channels,
    numClasses: header.numClasses,
    classNames: [...header.classNames],
    images,
    labels,
    count,
  });
  const train = make(header.trainCount, take(sections[0]), take(sections[1]));
  const test = make(header.testCount, take(sections[2]), take(sections[3]));
  try {
    validateDataset(train);
    validateDataset(test);
  } catch (e) {
    fail((e as Error).message);
  }
  return { train, test };
}
