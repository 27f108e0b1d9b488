/** The `/admin` socket.io feed: every event is parsed, then lands in the store (or triggers a refresh). */
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import {
  AdminSnapshotSchema,
  EvaluatedEventSchema,
  EvaluationStartedSchema,
  QualityWarningSchema,
  RejectedEventSchema,
  StatusEventSchema,
} from '../../../shared/protocol/admin';
import { formatIssues } from '../../../shared/protocol/issues';
import { byId } from './dom';
import { toast } from './feedback';
import { store } from './store';
import { scheduleRefresh } from './sync';

let socket: Socket | undefined;

export function setConnBadge(text: string, cls: '' | 'off' | 'warn'): void {
  const el = byId('conn');
  el.textContent = text;
  el.className = `badge ${cls}`;
}

/** Subscribes to an event whose payload is checked first; a malformed one is reported and dropped. */
function onParsed<S extends z.ZodType>(
  s: Socket,
  event: string,
  schema: S,
  apply: (payload: z.output<S>) => void,
): void {
  s.on(event, (raw: unknown) => {
    const parsed = schema.safeParse(raw);
    if (parsed.success) apply(parsed.data);
    else toast(`Ignored a malformed "${event}" event: ${formatIssues(parsed.error, { root: 'event' })}`, true);
  });
}

/** Opens the live feed; `onRefused` runs when the server refuses or revokes the token. */
export function connectLive(token: string, onRefused: (message: string) => void): void {
  socket?.disconnect();
  setConnBadge('connecting…', 'warn');
  const s = io('/admin', { auth: { token }, transports: ['websocket'], reconnectionDelayMax: 10_000 });
  socket = s;
  s.on('connect', () => setConnBadge('live', ''));
  s.on('disconnect', () => setConnBadge('reconnecting…', 'warn'));
  s.on('connect_error', (err) => {
    if (err.message === 'unauthenticated') onRefused('Signed out: the server refused this admin token.');
    else setConnBadge('offline — retrying', 'warn');
  });
  s.on('auth-expired', () => onRefused('Signed out: the admin token was revoked or expired.'));
  onParsed(s, 'snapshot', AdminSnapshotSchema, (snap) => {
    store.set({
      clockSkew: snap.serverTime - Date.now(),
      status: snap.status,
      config: snap.config,
      evaluation: snap.evaluation,
      warnings: [...store.get().warnings, ...(snap.evaluation.warnings ?? [])],
    });
  });
  onParsed(s, 'status', StatusEventSchema, ({ serverTime, ...status }) => {
    store.set({ status, clockSkew: serverTime - Date.now() });
  });
  s.on('round-started', () => scheduleRefresh());
  s.on('round-ended', () => scheduleRefresh());
  s.on('version', () => scheduleRefresh());
  onParsed(s, 'evaluation-started', EvaluationStartedSchema, (v) => {
    store.set({ evaluation: { ...store.get().evaluation, current: v } });
  });
  onParsed(s, 'evaluated', EvaluatedEventSchema, (e) => {
    const ev = store.get().evaluation;
    const baselines = ev.baselines && { ...ev.baselines, random: e.probeRandom, raw: e.probeRaw ?? ev.baselines.raw };
    store.set({ evaluation: { ...ev, current: null, ...(baselines ? { baselines } : {}) } });
    scheduleRefresh();
  });
  onParsed(s, 'quality-warning', QualityWarningSchema, (w) => store.set({ warnings: [...store.get().warnings, w] }));
  onParsed(s, 'rejected', RejectedEventSchema, (r) => toast(`Update from ${r.clientId} rejected: ${r.code}`, true));
}

export function disconnectLive(): void {
  socket?.disconnect();
  socket = undefined;
}
