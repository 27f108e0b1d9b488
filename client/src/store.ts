import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

/** A saved local training state; weights in the shared flat layout. */
export interface CheckpointRecord {
  key: string;
  layoutHash: string;
  weights: Float32Array;
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
  step: number;
  lossHistory: number[];
  dataset: string;
  savedAt: number;
}

/** A user image, already resized to the model input (grayscale 28×28 by default). */
export interface UserImageRecord {
  id?: number;
  name: string;
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
  addedAt: number;
}

/** Cached global model weights, keyed by version hash. */
export interface GlobalModelRecord {
  hash: string;
  version: number;
  weights: Float32Array;
  savedAt: number;
}

interface FedSslDb extends DBSchema {
  checkpoints: { key: string; value: CheckpointRecord };
  images: { key: number; value: UserImageRecord };
  globalModels: { key: string; value: GlobalModelRecord };
}

const DB_NAME = 'fedssl';
let dbPromise: Promise<IDBPDatabase<FedSslDb>> | undefined;

export function openStore(): Promise<IDBPDatabase<FedSslDb>> {
  dbPromise ??= openDB<FedSslDb>(DB_NAME, 1, {
    upgrade(db) {
      db.createObjectStore('checkpoints', { keyPath: 'key' });
      db.createObjectStore('images', { keyPath: 'id', autoIncrement: true });
      db.createObjectStore('globalModels', { keyPath: 'hash' });
    },
  });
  return dbPromise;
}

export async function saveCheckpoint(record: CheckpointRecord): Promise<void> {
  await (await openStore()).put('checkpoints', record);
}

export async function loadCheckpoint(key: string): Promise<CheckpointRecord | undefined> {
  return (await openStore()).get('checkpoints', key);
}

export async function deleteCheckpoint(key: string): Promise<void> {
  await (await openStore()).delete('checkpoints', key);
}

export async function addUserImages(images: Omit<UserImageRecord, 'id'>[]): Promise<number> {
  const db = await openStore();
  const tx = db.transaction('images', 'readwrite');
  await Promise.all([...images.map((img) => tx.store.add(img)), tx.done]);
  return db.count('images');
}

export async function listUserImages(): Promise<UserImageRecord[]> {
  return (await openStore()).getAll('images');
}

export async function countUserImages(): Promise<number> {
  return (await openStore()).count('images');
}

export async function clearUserImages(): Promise<void> {
  await (await openStore()).clear('images');
}

export async function saveGlobalModel(record: GlobalModelRecord): Promise<void> {
  await (await openStore()).put('globalModels', record);
}

export async function loadGlobalModel(hash: string): Promise<GlobalModelRecord | undefined> {
  return (await openStore()).get('globalModels', hash);
}
