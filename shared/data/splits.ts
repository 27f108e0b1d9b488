/**
 * Deterministic partitions of a training set across federated clients.
 *
 * All splitters return `number[][]`: one array of example indices per client,
 * each sorted ascending (plain arrays so they serialise to JSON for the
 * protocol; clients shuffle per epoch themselves). Every index in
 * [0, labels.length) is assigned to exactly one client, and the same
 * (labels, numClients, params, seed) always gives the same result.
 */

import { createRng, type Rng } from './rng';

export type SplitSpec =
  | { kind: 'iid' }
  | { kind: 'dirichlet'; alpha: number }
  | { kind: 'shards'; shardsPerClient: number };

export interface DirichletOptions {
  /** Smallest client size to guarantee when feasible (default 10; clamped to floor(n / numClients)). */
  minPerClient?: number;
  /** Fresh Dirichlet draws to try before repairing the last one (default 20). */
  maxRetries?: number;
}

export const DEFAULT_MIN_PER_CLIENT = 10;
const DEFAULT_MAX_RETRIES = 20;

function checkLabels(labels: ArrayLike<number>): number {
  let numClasses = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (!Number.isInteger(l) || l < 0) throw new Error(`labels[${i}] = ${l} is not a non-negative integer`);
    if (l + 1 > numClasses) numClasses = l + 1;
  }
  return numClasses;
}

function checkNumClients(numClients: number, n: number): void {
  if (!Number.isInteger(numClients) || numClients < 1) {
    throw new Error(`numClients must be a positive integer, got ${numClients}`);
  }
  if (numClients > n) throw new Error(`numClients (${numClients}) exceeds the number of examples (${n})`);
}

function sortClients(clients: number[][]): number[][] {
  for (const c of clients) c.sort((a, b) => a - b);
  return clients;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Indices grouped by label; groups[c] lists the examples of class c in ascending order. */
function groupByLabel(labels: ArrayLike<number>, numClasses: number): number[][] {
  const groups: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) (groups[labels[i] as number] as number[]).push(i);
  return groups;
}

/** Uniformly random partition; client sizes differ by at most 1. */
export function splitIid(labels: ArrayLike<number>, numClients: number, seed: number): number[][] {
  checkLabels(labels);
  const n = labels.length;
  checkNumClients(numClients, n);
  const order = createRng(seed).shuffle(range(n));
  const base = Math.floor(n / numClients);
  const extra = n % numClients;
  const clients: number[][] = [];
  let off = 0;
  for (let k = 0; k < numClients; k++) {
    const size = base + (k < extra ? 1 : 0);
    clients.push(order.slice(off, off + size));
    off += size;
  }
  return sortClients(clients);
}

/** Integer counts summing to total, proportional to p (largest-remainder rounding). */
export function apportion(p: readonly number[], total: number): number[] {
  const raw = p.map((x) => x * total);
  const counts = raw.map(Math.floor);
  let left = total - counts.reduce((s, c) => s + c, 0);
  const byRemainder = range(p.length).sort((a, b) => {
    const d = (raw[b] as number) - (counts[b] as number) - ((raw[a] as number) - (counts[a] as number));
    return d !== 0 ? d : a - b; // ties broken by index: deterministic
  });
  for (let i = 0; left > 0; i = (i + 1) % p.length, left--) {
    const k = byRemainder[i] as number;
    counts[k] = (counts[k] as number) + 1;
  }
  return counts;
}

function drawDirichlet(groups: number[][], numClients: number, alpha: number, rng: Rng): number[][] {
  const clients: number[][] = Array.from({ length: numClients }, () => []);
  const alphas = new Array<number>(numClients).fill(alpha);
  for (const group of groups) {
    if (group.length === 0) continue;
    const members = rng.shuffle([...group]);
    const counts = apportion(rng.dirichlet(alphas), members.length);
    let off = 0;
    counts.forEach((c, k) => {
      (clients[k] as number[]).push(...members.slice(off, off + c));
      off += c;
    });
  }
  return clients;
}

function minSize(clients: number[][]): number {
  return clients.reduce((m, c) => Math.min(m, c.length), Infinity);
}

/**
 * Moves examples from the largest clients to those below minPerClient.
 * Each transfer takes the donor's most common class, so receivers stay skewed
 * (the point of a non-IID split) instead of becoming a uniform mix.
 */
function repairSmallClients(
  clients: number[][],
  labels: ArrayLike<number>,
  numClasses: number,
  minPerClient: number,
): void {
  for (;;) {
    let small = 0;
    let big = 0;
    clients.forEach((c, k) => {
      if (c.length < (clients[small] as number[]).length) small = k;
      if (c.length > (clients[big] as number[]).length) big = k;
    });
    const receiver = clients[small] as number[];
    const donor = clients[big] as number[];
    if (receiver.length >= minPerClient) return;
    // Feasibility (n >= numClients * minPerClient) guarantees donor.length > minPerClient here.
    const hist = new Array<number>(numClasses).fill(0);
    for (const i of donor) hist[labels[i] as number]! += 1;
    const majority = hist.indexOf(Math.max(...hist));
    const want = Math.min(minPerClient - receiver.length, donor.length - minPerClient, hist[majority] as number);
    if (want <= 0) throw new Error('splitDirichlet: cannot satisfy minPerClient (internal error)');
    let moved = 0;
    for (let j = donor.length - 1; j >= 0 && moved < want; j--) {
      if (labels[donor[j] as number] === majority) {
        receiver.push(...donor.splice(j, 1));
        moved++;
      }
    }
  }
}

/**
 * Label-skewed split: for each class, client shares ~ Dirichlet(alpha, ..., alpha).
 * Small alpha (0.1) gives clients dominated by a few classes; large alpha (100)
 * approaches IID. Retries fresh draws until every client has minPerClient
 * examples, then repairs the last draw if retries run out.
 */
export function splitDirichlet(
  labels: ArrayLike<number>,
  numClients: number,
  alpha: number,
  seed: number,
  opts: DirichletOptions = {},
): number[][] {
  const numClasses = checkLabels(labels);
  const n = labels.length;
  checkNumClients(numClients, n);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new Error(`dirichlet alpha must be a positive number, got ${alpha}`);
  const requestedMin = opts.minPerClient ?? DEFAULT_MIN_PER_CLIENT;
  if (!Number.isInteger(requestedMin) || requestedMin < 0) {
    throw new Error(`minPerClient must be a non-negative integer, got ${requestedMin}`);
  }
  const maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 1) throw new Error(`maxRetries must be a positive integer, got ${maxRetries}`);
  const minPerClient = Math.min(requestedMin, Math.floor(n / numClients));

  const groups = groupByLabel(labels, numClasses);
  const rng = createRng(seed);
  let clients: number[][] = [];
  for (let attempt = 0; attempt < maxRetries; attempt++) {
    clients = drawDirichlet(groups, numClients, alpha, rng);
    if (minSize(clients) >= minPerClient) return sortClients(clients);
  }
  repairSmallClients(clients, labels, numClasses, minPerClient);
  return sortClients(clients);
}

/**
 * Pathological non-IID split (McMahan et al.): sort by label, cut into
 * numClients * shardsPerClient contiguous shards (sizes differ by at most 1),
 * deal shardsPerClient random shards to each client. With balanced classes a
 * client sees about shardsPerClient labels; a shard straddling a class
 * boundary can add one more.
 */
export function splitShards(
  labels: ArrayLike<number>,
  numClients: number,
  shardsPerClient: number,
  seed: number,
): number[][] {
  checkLabels(labels);
  const n = labels.length;
  checkNumClients(numClients, n);
  if (!Number.isInteger(shardsPerClient) || shardsPerClient < 1) {
    throw new Error(`shardsPerClient must be a positive integer, got ${shardsPerClient}`);
  }
  const numShards = numClients * shardsPerClient;
  if (numShards > n) throw new Error(`${numShards} shards requested but only ${n} examples`);
  const rng = createRng(seed);
  // Shuffle first so which examples of a class land in which shard depends on the seed;
  // Array.prototype.sort is stable, so the shuffled order survives within each class.
  const sorted = rng.shuffle(range(n)).sort((a, b) => (labels[a] as number) - (labels[b] as number));
  const base = Math.floor(n / numShards);
  const extra = n % numShards;
  const shards: number[][] = [];
  let off = 0;
  for (let s = 0; s < numShards; s++) {
    const size = base + (s < extra ? 1 : 0);
    shards.push(sorted.slice(off, off + size));
    off += size;
  }
  const dealt = rng.shuffle(range(numShards));
  const clients: number[][] = Array.from({ length: numClients }, () => []);
  dealt.forEach((shard, i) => (clients[i % numClients] as number[]).push(...(shards[shard] as number[])));
  return sortClients(clients);
}

const NUMBER_RE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses 'iid' | 'dirichlet:<alpha>' | 'shards:<perClient>' (e.g. 'dirichlet:0.3', 'shards:2'). */
export function parseSplitSpec(text: string): SplitSpec {
  const spec = text.trim();
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const param = colon < 0 ? undefined : spec.slice(colon + 1);
  const bad = (why: string): never => {
    throw new Error(`invalid split spec "${text}": ${why} (expected 'iid', 'dirichlet:<alpha>' or 'shards:<n>')`);
  };
  switch (kind) {
    case 'iid':
      if (param !== undefined) bad('iid takes no parameter');
      return { kind: 'iid' };
    case 'dirichlet': {
      if (param === undefined || param === '') bad('missing alpha');
      if (!NUMBER_RE.test(param as string)) bad(`alpha "${param}" is not a number`);
      const alpha = Number(param);
      if (!(alpha > 0) || !Number.isFinite(alpha)) bad('alpha must be > 0');
      return { kind: 'dirichlet', alpha };
    }
    case 'shards': {
      if (param === undefined || param === '') bad('missing shards per client');
      if (!/^\d+$/.test(param as string)) bad(`shards per client "${param}" is not a positive integer`);
      const shardsPerClient = Number(param);
      if (shardsPerClient < 1) bad('shards per client must be >= 1');
      return { kind: 'shards', shardsPerClient };
    }
    default:
      return bad(`unknown kind "${kind}"`);
  }
}

export function formatSplitSpec(spec: SplitSpec): string {
  switch (spec.kind) {
    case 'iid':
      return 'iid';
    case 'dirichlet':
      return `dirichlet:${spec.alpha}`;
    case 'shards':
      return `shards:${spec.shardsPerClient}`;
  }
}

/** Dispatches on a spec (object or string form). */
export function partition(
  labels: ArrayLike<number>,
  numClients: number,
  spec: SplitSpec | string,
  seed: number,
  opts: DirichletOptions = {},
): number[][] {
  const s = typeof spec === 'string' ? parseSplitSpec(spec) : spec;
  switch (s.kind) {
    case 'iid':
      return splitIid(labels, numClients, seed);
    case 'dirichlet':
      return splitDirichlet(labels, numClients, s.alpha, seed, opts);
    case 'shards':
      return splitShards(labels, numClients, s.shardsPerClient, seed);
  }
}

/** Count of each class among labels[indices]. */
export function labelHistogram(labels: ArrayLike<number>, indices: ArrayLike<number>, numClasses: number): number[] {
  const hist = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < indices.length; i++) {
    const idx = indices[i] as number;
    if (!Number.isInteger(idx) || idx < 0 || idx >= labels.length) {
      throw new Error(`labelHistogram: index ${idx} is out of range [0, ${labels.length})`);
    }
    const l = labels[idx] as number;
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new Error(`labelHistogram: label ${l} at index ${idx} is out of range [0, ${numClasses})`);
    }
    hist[l] = (hist[l] as number) + 1;
  }
  return hist;
}
