/**
 * Mid-job checkpoints of a centralized bench:quality job: at 256,000 images one job takes hours on 2 cores, so
 * an interrupted job resumes from its last checkpoint instead of step 0. File: a u32 header length, the JSON
 * header, then the model's flat weights and each optimizer variable as float32, in header order. Written to a
 * temporary name and renamed, so a crash mid-write leaves the previous checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SimclrModel } from '../../shared/model/encoder';
import { flattenWeights, unflattenWeights, weightLayout } from '../../shared/model/weights';
import type { SimclrTrainer } from '../../shared/ssl/train-step';
import type { CurvePoint } from './arms';

interface Header {
  version: 1;
  step: number;
  images: number;
  curve: CurvePoint[];
  layoutHash: string;
  weights: number;
  optimizer: { name: string; shape: number[] }[];
}

export interface ResumedJob {
  step: number;
  images: number;
  curve: CurvePoint[];
}

export async function saveJobCheckpoint(
  file: string,
  model: SimclrModel,
  trainer: SimclrTrainer,
  state: ResumedJob,
): Promise<void> {
  const { layout, data } = flattenWeights(model);
  const opt = await trainer.optimizer.getWeights();
  const optData = await Promise.all(opt.map(async (w) => Float32Array.from(await w.tensor.data())));
  // getWeights returns the live moment variables plus a fresh iteration scalar; free only the latter.
  tf.dispose(opt.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  const header: Header = {
    version: 1,
    ...state,
    layoutHash: layout.hash,
    weights: data.length,
    optimizer: opt.map((w) => ({ name: w.name, shape: w.tensor.shape })),
  };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts = [len, json, data, ...optData].map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, Buffer.concat(parts));
  renameSync(`${file}.tmp`, file);
}

/** A checkpoint read from disk, not yet applied to a model. */
export interface StoredJob extends ResumedJob {
  layoutHash: string;
  weights: Float32Array;
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
}

/** Reads `file` when it exists (undefined otherwise); throws on a damaged or foreign file. */
export function readJobCheckpoint(file: string): StoredJob | undefined {
  if (!existsSync(file)) return undefined;
  const buf = readFileSync(file);
  const hlen = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + hlen).toString('utf8')) as Header;
  if (header.version !== 1) throw new Error(`${file}: unknown checkpoint format; delete it to start the job afresh`);
  // Copy out of the file buffer: float32 views need 4-byte alignment.
  let at = 4 + hlen;
  const take = (n: number) => {
    if (at + n * 4 > buf.length) throw new Error(`${file}: truncated; delete it to start the job afresh`);
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(buf.subarray(at, at + n * 4));
    at += n * 4;
    return out;
  };
  const weights = take(header.weights);
  const optimizer = header.optimizer.map((w) => ({ ...w, data: take(w.shape.reduce((a, b) => a * b, 1)) }));
  if (at !== buf.length) throw new Error(`${file}: ${buf.length - at} trailing bytes; the checkpoint is damaged`);
  return {
    step: header.step,
    images: header.images,
    curve: header.curve,
    layoutHash: header.layoutHash,
    weights,
    optimizer,
  };
}

/** Puts the stored weights and optimizer state into `model` and `trainer`. */
export async function restoreJobCheckpoint(
  stored: StoredJob,
  model: SimclrModel,
  trainer: SimclrTrainer,
): Promise<void> {
  const layout = weightLayout(model);
  if (stored.layoutHash !== layout.hash)
    throw new Error('checkpoint of another model architecture; delete it to start the job afresh');
  unflattenWeights(model, layout, stored.weights);
  const named = stored.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) }));
  await trainer.optimizer.setWeights(named);
  tf.dispose(named.map((w) => w.tensor)); // setWeights copies into its own variables
}

/**
 * A federated job's progress beside its server's data directory (`${file}.server`): the server's registry
 * and checkpoints hold the model, the optimizer and privacy state, and the round count; this holds what only
 * the bench knows.
 */
export interface FederatedJobState {
  version: 1;
  committed: number;
  images: number;
  curve: CurvePoint[];
  notes: string[];
}

export const serverDirOf = (file: string): string => `${file}.server`;

export function readFederatedState(file: string): FederatedJobState | undefined {
  if (!existsSync(file)) return undefined;
  const st = JSON.parse(readFileSync(file, 'utf8')) as FederatedJobState;
  if (st.version !== 1) throw new Error(`${file}: unknown checkpoint format; delete it to start the job afresh`);
  return st;
}

export function saveFederatedState(file: string, state: Omit<FederatedJobState, 'version'>): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify({ version: 1, ...state }));
  renameSync(`${file}.tmp`, file);
}

/** Removes a job's checkpoint, of either kind, once its result is saved. */
export function removeJobCheckpoint(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}.tmp`, { force: true });
  rmSync(serverDirOf(file), { recursive: true, force: true });
}
