import type { Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { Server as IoServer } from 'socket.io';
import type { ServerConfig } from './config';
import { createStaticHandler } from './http/static-files';
import { createHttpApp } from './http/fastify-app';
import { adminRouter } from './http/admin-api';
import { Registry } from './registry/registry';
import { checkpointDir, loadOrCreateGlobalModel } from './model/global-model';
import { cleanTempFiles } from './registry/checkpoints';
import {
  COMPACT_MODEL_CONFIG,
  DEFAULT_MODEL_CONFIG,
  isDefaultModel,
  sameArchitecture,
  TINY_MODEL_CONFIG,
  type ModelConfig,
} from '../shared/model/config';
import { RECIPE_PLANNED_ROUNDS, recipeRoundTraining } from '../shared/ssl/recipe';
import { type RoundConfig, type RoundConfigInput, RoundConfigSchema } from '../shared/protocol/round-config';
import { RoundCoordinator } from './federation/coordinator';
import { attachFederationSocket } from './federation/socket-server';
import { HandlerTimes } from './federation/handler-times';
import { TurnQueue } from './federation/turn-queue';
import { DEFAULT_ADDRESS_LIMIT, type AddressLimitConfig } from './security/address-limit';
import { ModelStore } from './federation/model-store';
import { SessionGuard } from './security/session-guard';
import type { RateLimitConfig } from './federation/rate-limit';
import type { ReceiveHook } from './federation/rounds/round';
import type { Strategy } from './strategies/strategy';
import { createStrategy } from './strategies/index';
import { initWasmBackendForNode } from '../shared/tfjs/wasm-node';
import { createAdminServices, type AdminServices } from './admin/index';
import type { EvaluationOptions } from './admin/evaluation';
import { formatIssues } from '../shared/protocol/issues';
import { nativeMaskPrgStatus } from './native/mask-prg';

export interface RunningServer {
  http: Server;
  io: IoServer;
  url: string;
  port: number;
  log: Logger;
  registry: Registry;
  coordinator: RoundCoordinator;
  /** Encoded weights of recent versions served by model:get. */
  models: ModelStore;
  /** Admin console namespace, background model evaluation and /metrics (server/admin). */
  adminServices: AdminServices;
  /** Set only when this start created the admin token. */
  adminToken?: string;
  close(): Promise<void>;
}

export interface ServerOverrides {
  roundConfig?: RoundConfigInput;
  strategy?: Strategy;
  adminToken?: string;
  /** Do not start rounds automatically (tests drive them). */
  manualStart?: boolean;
  /** Test hook: every secure-aggregation message the server receives. */
  onSecureReceive?: ReceiveHook;
  logger?: Logger;
  /** Per-client socket event rate limit (default DEFAULT_RATE_LIMIT). */
  rateLimit?: RateLimitConfig;
  /** Per remote address handshake limits (default: from the config, see DEFAULT_ADDRESS_LIMIT). */
  addressLimit?: AddressLimitConfig;
  /** Background model evaluation: false disables it; default on (options from FEDSSL_EVAL* env vars). */
  evaluation?: false | Partial<EvaluationOptions>;
}

/** Round settings: defaults ← config file ← admin edits stored in the registry ← programmatic overrides. */
function resolveRoundConfig(
  cfg: ServerConfig,
  registry: Registry,
  served: ModelConfig,
  overrides?: RoundConfigInput,
): RoundConfig {
  const fromFile = cfg.roundConfigFile ? (JSON.parse(readFileSync(cfg.roundConfigFile, 'utf8')) as object) : {};
  const stored = registry.getSetting('round_config');
  const adminEdit = stored ? (JSON.parse(stored) as { training?: object }) : undefined;
  const merged: { training?: object } = { ...fromFile, ...(adminEdit ?? {}), ...(overrides ?? {}) };
  // The default encoder comes with the training it was measured with (the recipe); the file's and the
  // overrides' fields win field by field. An admin edit is a whole config, as it ran before the restart, so it
  // gets nothing added. The compact and tiny encoders keep the schema's defaults. What counts is the
  // architecture the data dir serves, not the flag: an older data dir keeps its model.
  if (isDefaultModel(served) && adminEdit?.training === undefined)
    merged.training = {
      ...recipeRoundTraining({ flip: false, totalRounds: RECIPE_PLANNED_ROUNDS }),
      ...(merged.training ?? {}),
    };
  const parsed = RoundConfigSchema.safeParse(merged);
  if (!parsed.success)
    throw new Error(`invalid round config: ${formatIssues(parsed.error, { root: 'config', max: 20 })}`);
  return parsed.data;
}

/** Starts the whole platform in one process: web app, admin API, federation socket. */
export async function startServer(cfg: ServerConfig, overrides: ServerOverrides = {}): Promise<RunningServer> {
  const log = overrides.logger ?? pino({ level: cfg.logLevel, name: 'fedssl' });
  // One tfjs backend for the process (model init, exports, evaluation): WASM with our extra kernel.
  await initWasmBackendForNode();
  if (!existsSync(cfg.staticDir)) log.warn({ staticDir: cfg.staticDir }, 'web app not built yet: run "npm run build"');
  const registry = new Registry(cfg.dataDir);
  const tmp = cleanTempFiles(checkpointDir(registry));
  if (tmp.length) log.warn({ files: tmp }, 'removed temporary checkpoint files left by a crash');
  const aborted = registry.abortUnfinishedRounds();
  if (aborted > 0) log.warn({ aborted }, 'discarded rounds left unfinished by a previous run; they will be rerun');

  let adminToken: string | undefined;
  const presetAdmin = overrides.adminToken ?? process.env.FEDSSL_ADMIN_TOKEN;
  if (presetAdmin) registry.importToken('admin', presetAdmin, 'preset');
  else if (registry.countTokens('admin') === 0) adminToken = registry.createToken('admin', 'first start').token;

  const requested = { default: DEFAULT_MODEL_CONFIG, compact: COMPACT_MODEL_CONFIG, tiny: TINY_MODEL_CONFIG }[
    cfg.model
  ];
  const model = loadOrCreateGlobalModel(registry, requested);
  if (!sameArchitecture(model.config, requested))
    log.warn(
      { requested: cfg.model, served: model.config },
      `this data dir holds another encoder (its architecture is fixed per data dir): --model ${cfg.model} is ignored; start with a new --data-dir to use it`,
    );
  const roundConfig = resolveRoundConfig(cfg, registry, model.config, overrides.roundConfig);
  const strategy = overrides.strategy ?? createStrategy({ name: cfg.strategy });
  const coordinator = new RoundCoordinator({
    registry,
    strategy,
    config: roundConfig,
    model,
    log,
    ...(overrides.onSecureReceive ? { onSecureReceive: overrides.onSecureReceive } : {}),
  });

  const prune = () => {
    const pruned = coordinator.versions.prune(cfg.keepCheckpoints, coordinator.globalModel.version);
    if (pruned.length)
      log.info(
        { pruned, keep: cfg.keepCheckpoints },
        'checkpoint retention deleted old checkpoint files (registry rows kept)',
      );
  };
  prune();
  coordinator.on('version', prune);

  const serveStatic = createStaticHandler(cfg.staticDir);
  const sessions = new SessionGuard(registry, log);
  const admin = adminRouter(registry, coordinator, sessions);
  // --- admin console services (server/admin): evaluation, /metrics, /admin namespace ---
  const handlerTimes = new HandlerTimes();
  const inbound = new TurnQueue({ inline: true });
  const adminServices = createAdminServices({
    registry,
    coordinator,
    log,
    evaluation: overrides.evaluation,
    handlerTimes,
  });
  // --- end admin console services ---
  const app = createHttpApp({
    log,
    routers: [admin, adminServices.router],
    health: () => ({ ok: true, version: coordinator.globalModel.version }),
    raw: [(req, res) => adminServices.metrics.handle(req, res)],
    serveStatic,
  });
  const http = app.server;
  const models = new ModelStore(registry);
  const io = attachFederationSocket(http, {
    registry,
    coordinator,
    log,
    openEnrollment: cfg.openEnrollment,
    models,
    sessions,
    devicesPerToken: cfg.devicesPerToken,
    pingTimeoutMs: cfg.pingTimeoutMs,
    handlerTimes,
    inbound,
    ...(overrides.rateLimit ? { rateLimit: overrides.rateLimit } : {}),
    addressLimit: overrides.addressLimit ?? {
      ...DEFAULT_ADDRESS_LIMIT,
      handshakesPerSecond: cfg.handshakesPerSecond,
      handshakeBurst: cfg.handshakeBurst,
    },
  });
  adminServices.attachSocket(io);

  await app.listen({ port: cfg.port, host: cfg.host });
  const port = (http.address() as AddressInfo).port;
  const url = `http://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${port}`;
  if (!overrides.manualStart) coordinator.start();
  log.info(
    {
      url,
      dataDir: cfg.dataDir,
      modelVersion: model.version,
      parameters: model.layout.totalSize,
      openEnrollment: cfg.openEnrollment,
      unmaskPrg: nativeMaskPrgStatus(),
    },
    'FedSSL server listening',
  );
  return {
    http,
    io,
    url,
    port,
    log,
    registry,
    coordinator,
    models,
    adminServices,
    ...(adminToken ? { adminToken } : {}),
    async close() {
      coordinator.stop();
      sessions.close();
      await adminServices.close();
      // Live websockets first: upgraded connections are no longer the HTTP server's, so Fastify's close would
      // wait on them forever (an uncaught exception or a SIGTERM with clients connected never finished closing).
      io.disconnectSockets(true);
      io.engine.close();
      // Then Fastify: it destroys every open connection (forceCloseConnections). socket.io's close also closes the
      // shared HTTP server and would otherwise wait on idle keep-alive sockets, which Fastify keeps for 72 s.
      await app.close().catch(() => undefined);
      await new Promise<void>((ok) => io.close(() => ok()));
      await inbound.idle(); // queued messages and disconnects still use SQLite
      registry.close();
    },
  };
}
