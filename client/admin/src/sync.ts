/** Pulls the REST API's lists into the store: on sign-in, after live events and controls, and now and then. */
import { z } from 'zod';
import {
  AdminClientViewSchema,
  AdminStatusResponseSchema,
  AuditRowSchema,
  RoundRowSchema,
  TokenRowSchema,
  VersionRowSchema,
} from '../../../shared/protocol/admin';
import { api, ApiError, session } from './api';
import { toast } from './feedback';
import { errorMessage } from './format';
import { store } from './store';

let refreshTimer: number | undefined;
/** Coalesces bursts of events into one refresh. */
export function scheduleRefresh(): void {
  clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => void refreshAll(), 250);
}

export async function refreshAll(): Promise<void> {
  if (!session.token) return;
  try {
    const [st, versions, rounds, clients, tokens, audit] = await Promise.all([
      api('GET', '/api/admin/status', AdminStatusResponseSchema),
      api('GET', '/api/admin/versions', z.array(VersionRowSchema)),
      api('GET', '/api/admin/rounds', z.array(RoundRowSchema)),
      api('GET', '/api/admin/clients', z.array(AdminClientViewSchema)),
      api('GET', '/api/admin/tokens', z.array(TokenRowSchema)),
      api('GET', '/api/admin/audit', z.array(AuditRowSchema)),
    ]);
    const { config, ...status } = st;
    // The live feed keeps the config current; this only fills it in before the first snapshot.
    store.set({ versions, rounds, status, clients, tokens, audit, ...(store.get().config ? {} : { config }) });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(`Refresh failed: ${errorMessage(err)}`, true);
  }
}

/** Last-seen times and client lists age; refresh them now and then. */
export function startPeriodicRefresh(): void {
  setInterval(() => {
    if (session.token && !document.hidden) void refreshAll();
  }, 15_000);
}
