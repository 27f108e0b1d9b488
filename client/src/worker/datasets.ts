/** Loads the images the worker trains on: a bundled dataset (optionally one simulated client's shard) or the user's uploads. */
import { decodeDatasetBundle } from '../../../shared/data/bundle';
import { subset, type DatasetSplit, type ImageDataset } from '../../../shared/data/dataset';
import { partition } from '../../../shared/data/splits';
import { listUserImages } from '../store';
import type { DatasetSource, ShardSpec } from './types';

export interface LoadedData {
  source: DatasetSource;
  split: DatasetSplit;
}

export async function loadTrainingData(source: DatasetSource, shard?: ShardSpec): Promise<LoadedData> {
  let split = source === 'user' ? await userImagesSplit() : await fetchBundle(source);
  if (shard) {
    if (!(shard.index >= 0 && shard.index < shard.count))
      throw new Error(`shard ${shard.index} is outside 0..${shard.count - 1}`);
    const parts = partition(split.train.labels, shard.count, shard.split, shard.seed);
    split = { ...split, train: subset(split.train, parts[shard.index]!) };
  }
  if (split.train.count < 2)
    throw new Error(`dataset "${source}" has ${split.train.count} images; SimCLR needs at least 2`);
  return { source, split };
}

async function fetchBundle(name: 'mnist' | 'fashion-mnist'): Promise<DatasetSplit> {
  const url = new URL(`${import.meta.env.BASE_URL}datasets/${name}.bin`, self.location.origin);
  const res = await fetch(url);
  if (!res.ok)
    throw new Error(`could not load dataset ${name}: HTTP ${res.status} from ${url.pathname} (run "npm run build")`);
  return decodeDatasetBundle(new Uint8Array(await res.arrayBuffer()));
}

async function userImagesSplit(): Promise<DatasetSplit> {
  const records = await listUserImages();
  if (records.length === 0) throw new Error('no images uploaded yet: use "Add images" first');
  const { width, height, channels } = records[0]!;
  const per = width * height * channels;
  const images = new Uint8Array(records.length * per);
  records.forEach((r, i) => images.set(r.pixels, i * per));
  const train: ImageDataset = {
    name: 'user',
    width,
    height,
    channels,
    numClasses: 0,
    classNames: [],
    images,
    labels: new Uint8Array(records.length),
    count: records.length,
  };
  return { train, test: { ...train, images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 } };
}
