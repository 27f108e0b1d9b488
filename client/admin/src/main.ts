/**
 * The aggregation console: each view owns one section of admin/index.html and renders from the store;
 * `sync` (REST) and `live` (socket.io) are the only writers of server state into it.
 */
import { mountAuth, resumeSession } from './auth';
import { startPeriodicRefresh } from './sync';
import { mountOverview } from './views/overview';
import { mountPrivacy } from './views/privacy';
import { mountEvaluation } from './views/evaluation';
import { mountCharts } from './views/charts';
import { mountClients } from './views/clients';
import { mountVersions } from './views/versions';
import { mountRounds } from './views/rounds';
import { mountTokens } from './views/tokens';
import { mountConfig } from './views/config';
import { mountAudit } from './views/audit';

mountAuth();
mountOverview();
mountPrivacy();
mountEvaluation();
mountCharts();
mountClients();
mountVersions();
mountRounds();
mountTokens();
mountConfig();
mountAudit();
startPeriodicRefresh();
resumeSession();
