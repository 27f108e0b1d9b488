import * as Comlink from 'comlink';
import type { TrainerApi, DatasetSource, Progress, TrainerStatus } from './trainer.worker';
import { parseBackendName } from './backend-names';
import { addUserImages, clearUserImages, countUserImages } from './store';
import { importImageFiles } from './image-import';
import { LossChart } from './loss-chart';
import { joinFederation, workerTrainer, type Federation } from './federation';
import { takeJoinToken } from './join-token';
import type { FederationEvent } from '../../shared/federation/fed-client';
import type { BackendName } from './backend-names';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
// The join token arrives in the fragment (#token=); any token leaves the address bar and history now.
const joinToken = takeJoinToken(location.href);
if (joinToken.cleanUrl) history.replaceState(null, '', joinToken.cleanUrl);

const ui = {
  backend: $('backend'),
  dataset: $<HTMLSelectElement>('dataset'),
  files: $<HTMLInputElement>('files'),
  folder: $<HTMLInputElement>('folder'),
  clearImages: $<HTMLButtonElement>('clear-images'),
  dataStatus: $('data-status'),
  batch: $<HTMLInputElement>('batch'),
  lr: $<HTMLInputElement>('lr'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  step: $('step'),
  loss: $('loss'),
  ips: $('ips'),
  tensors: $('tensors'),
  mem: $('mem'),
  token: $<HTMLInputElement>('token'),
  join: $<HTMLButtonElement>('join'),
  leave: $<HTMLButtonElement>('leave'),
  fedConn: $('fed-conn'),
  fedVersion: $('fed-version'),
  fedRounds: $('fed-rounds'),
  fedBytes: $('fed-bytes'),
  fedStatus: $('fed-status'),
  trainStatus: $('train-status'),
  probe: $<HTMLButtonElement>('probe'),
  probeResult: $('probe-result'),
  error: $('error'),
};

function showError(err: unknown): void {
  ui.error.textContent = err instanceof Error ? err.message : String(err);
  ui.error.hidden = false;
}

const worker = new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
const trainer = Comlink.wrap<TrainerApi>(worker);
const chart = new LossChart($('chart'));
const maxSteps = params.has('steps') ? Number(params.get('steps')) : undefined;

function renderStatus(s: TrainerStatus): void {
  const b = s.backend;
  const wasm =
    b.backend === 'wasm' ? ` (SIMD ${b.wasmSimd ? 'on' : 'off'}, threads ${b.wasmThreads ? 'on' : 'off'})` : '';
  ui.backend.textContent = `${b.backend}${wasm}`;
  ui.backend.title = b.reason;
  $('backend-reason').textContent = b.reason;
  ui.backend.dataset.backend = b.backend;
  ui.step.textContent = String(s.step);
  const last = s.lossHistory[s.lossHistory.length - 1];
  if (last !== undefined) ui.loss.textContent = last.toFixed(4);
}

function renderProgress(p: Progress): void {
  ui.step.textContent = String(p.step);
  ui.loss.textContent = p.loss.toFixed(4);
  ui.ips.textContent = p.imagesPerSec.toFixed(0);
  ui.tensors.textContent = String(p.numTensors);
  ui.mem.textContent =
    p.numBytes < 2 ** 20 ? `${(p.numBytes / 1024).toFixed(1)} KiB` : `${(p.numBytes / 2 ** 20).toFixed(1)} MiB`;
  ui.trainStatus.textContent = `training… ${p.msPerStep.toFixed(0)} ms/step`;
  chart.push(p.step, p.loss);
}

async function refreshImageCount(): Promise<number> {
  const n = await countUserImages();
  ui.dataset.options[2]!.textContent = `My images (${n})`;
  return n;
}

/** ?shard=i&clients=N&split=dirichlet:0.3&seed=S gives this page one client's slice (simulations). */
function shardFromParams() {
  if (!params.has('shard')) return undefined;
  return {
    index: Number(params.get('shard')),
    count: Number(params.get('clients') ?? 1),
    split: params.get('split') ?? 'iid',
    seed: Number(params.get('seed') ?? 1),
  };
}

let federation: Federation | undefined;
let datasetCount = 0;
let roundsDone = 0;

function renderFederationEvent(e: FederationEvent): void {
  switch (e.type) {
    case 'connected':
      ui.fedConn.textContent = 'connected';
      break;
    case 'disconnected':
      ui.fedConn.textContent = `reconnecting… (${e.reason})`;
      break;
    case 'auth-error':
      ui.fedConn.textContent = 'refused';
      ui.fedStatus.textContent = e.message;
      break;
    case 'ready':
      ui.fedVersion.textContent = `v${e.modelVersion}`;
      ui.fedStatus.textContent = 'waiting to be selected for a round';
      break;
    case 'round-start':
      ui.fedStatus.textContent = `round ${e.round.roundId}: training v${e.round.modelVersion} locally (${e.round.training.localSteps} steps)…`;
      break;
    case 'model':
      ui.fedStatus.textContent = `global v${e.version} ${e.cached ? 'from cache' : `downloaded (${(e.bytes / 1024).toFixed(0)} KiB)`}`;
      break;
    case 'trained':
      ui.fedStatus.textContent = `round ${e.roundId}: trained, mean loss ${e.meanLoss.toFixed(4)}; uploading the delta…`;
      break;
    case 'submitted':
      ui.fedBytes.textContent = `${(e.bytes / 1024).toFixed(0)} KiB`;
      ui.fedStatus.textContent = `round ${e.roundId}: update accepted`;
      break;
    case 'rejected':
      ui.fedStatus.textContent = `round ${e.roundId}: update rejected (${e.reason})`;
      break;
    case 'round-end':
      if (e.end.newVersion !== undefined) ui.fedVersion.textContent = `v${e.end.newVersion}`;
      if (e.end.outcome === 'committed') ui.fedRounds.textContent = String(++roundsDone);
      ui.fedStatus.textContent = `round ${e.end.roundId} ${e.end.outcome}${e.end.reason ? `: ${e.end.reason}` : ''}`;
      break;
    case 'error':
      ui.fedStatus.textContent = e.message;
      break;
  }
}

function join(backend: BackendName): void {
  const token = ui.token.value.trim();
  federation?.leave();
  federation = joinFederation({
    token,
    trainer: workerTrainer(trainer, backend, () => datasetCount),
    onEvent: renderFederationEvent,
  });
  ui.join.disabled = true;
  ui.leave.disabled = false;
  ui.start.disabled = true;
  ui.fedConn.textContent = 'connecting…';
}

async function loadDataset(): Promise<void> {
  const source = ui.dataset.value as DatasetSource;
  ui.start.disabled = true;
  ui.probe.disabled = true;
  ui.dataStatus.textContent = `loading ${source}…`;
  try {
    const shard = shardFromParams();
    const info = await trainer.loadDataset(source, shard);
    datasetCount = info.count;
    ui.dataStatus.textContent = `${info.count} training images from ${source === 'user' ? 'your uploads' : source}, kept on this device`;
    ui.dataStatus.dataset.count = String(info.count);
    ui.start.disabled = false;
    ui.probe.disabled = source === 'user';
  } catch (err) {
    ui.dataStatus.textContent = err instanceof Error ? err.message : String(err);
  }
}

async function addFiles(list: FileList | null): Promise<void> {
  if (!list || list.length === 0) return;
  ui.dataStatus.textContent = `importing ${list.length} files…`;
  const { images, skipped } = await importImageFiles(Array.from(list), { width: 28, height: 28, channels: 1 });
  const total = await addUserImages(images);
  await refreshImageCount();
  ui.dataStatus.textContent = `added ${images.length} images (${total} stored)${skipped.length ? `; skipped ${skipped.length} non-image files` : ''}`;
  if (ui.dataset.value === 'user') await loadDataset();
}

async function main(): Promise<void> {
  const status = await trainer.init({
    ...(params.get('backend') ? { forceBackend: parseBackendName(params.get('backend')) } : {}),
    model: params.get('model') === 'tiny' ? 'tiny' : 'default',
  });
  renderStatus(status);
  chart.reset(status.lossHistory);
  ui.trainStatus.textContent = status.restored
    ? `restored checkpoint at step ${status.step}`
    : `new ${status.parameters.toLocaleString()}-parameter encoder`;
  ui.trainStatus.dataset.restored = String(status.restored);
  ui.reset.disabled = false;
  ui.join.disabled = false;
  if (joinToken.token) ui.token.value = joinToken.token;
  const n = await refreshImageCount();
  if (params.get('dataset')) ui.dataset.value = params.get('dataset')!;
  else if (n > 0 && status.restored) ui.dataset.value = 'user';
  await loadDataset();

  ui.dataset.addEventListener('change', () => void loadDataset());
  ui.files.addEventListener('change', () => void addFiles(ui.files.files).catch(showError));
  ui.folder.addEventListener('change', () => void addFiles(ui.folder.files).catch(showError));
  ui.clearImages.addEventListener('click', async () => {
    if (!confirm('Remove all your uploaded images from this device?')) return;
    await clearUserImages();
    await refreshImageCount();
    if (ui.dataset.value === 'user') await loadDataset();
  });
  ui.start.addEventListener('click', async () => {
    ui.start.disabled = true;
    ui.pause.disabled = false;
    ui.reset.disabled = true;
    ui.probe.disabled = true;
    try {
      const s = await trainer.train(
        { batchSize: Number(ui.batch.value), learningRate: Number(ui.lr.value), ...(maxSteps ? { maxSteps } : {}) },
        Comlink.proxy(renderProgress),
      );
      renderStatus(s);
      ui.trainStatus.textContent = `paused at step ${s.step}; checkpoint saved on this device`;
      ui.trainStatus.dataset.state = 'stopped';
    } catch (err) {
      showError(err);
    } finally {
      ui.start.disabled = false;
      ui.pause.disabled = true;
      ui.reset.disabled = false;
      ui.probe.disabled = ui.dataset.value === 'user';
    }
  });
  ui.pause.addEventListener('click', () => void trainer.pause());
  ui.join.addEventListener('click', () => join(status.backend.backend));
  ui.leave.addEventListener('click', () => {
    federation?.leave();
    federation = undefined;
    ui.join.disabled = false;
    ui.leave.disabled = true;
    ui.start.disabled = false;
    ui.fedConn.textContent = 'offline';
  });
  if (params.get('join') === '1') join(status.backend.backend);
  ui.reset.addEventListener('click', async () => {
    if (!confirm('Discard the local model and start over?')) return;
    const s = await trainer.reset();
    renderStatus(s);
    chart.reset([]);
    ui.trainStatus.textContent = 'model reset';
  });
  ui.probe.addEventListener('click', async () => {
    ui.probe.disabled = true;
    ui.probeResult.textContent = 'fitting probes on frozen features…';
    try {
      const r = await trainer.probe();
      const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
      ui.probeResult.textContent =
        `trained encoder ${(100 * r.trained).toFixed(1)}% · random init ${(100 * r.randomInit).toFixed(1)}% · ` +
        `raw pixels ${(100 * r.raw).toFixed(1)}% — ${pts(r.gain)} points over random init, ` +
        `${pts(r.trained - r.raw)} over raw pixels (${(r.ms / 1000).toFixed(1)} s). Probe: ${r.protocol}.`;
      ui.probeResult.dataset.trained = String(r.trained);
      ui.probeResult.dataset.random = String(r.randomInit);
      ui.probeResult.dataset.raw = String(r.raw);
    } catch (err) {
      showError(err);
    } finally {
      ui.probe.disabled = false;
    }
  });
  // The worker handle on `window` only with an explicit `?debug=1` (tests, power users): never on a plain page.
  if (params.get('debug') === '1')
    (window as unknown as { fedssl: unknown }).fedssl = {
      trainer,
      Comlink,
      get federation() {
        return federation;
      },
    };
}

main().catch(showError);
