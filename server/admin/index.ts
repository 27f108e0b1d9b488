import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HandlerTimes } from '../federation/handler-times';
import type { Logger } from 'pino';
import type { Server as IoServer } from 'socket.io';
import type { Registry } from '../registry/registry';
import type { RoundCoordinator } from '../federation/coordinator';
import { Router } from '../http/router';
import { requireAdmin } from '../http/admin-api';
import { EvaluationService, evaluationOptionsFromEnv, type EvaluationOptions } from './evaluation';
import { createMetrics, type ServerMetrics } from './metrics';
import { attachAdminNamespace } from './admin-socket';

export interface AdminServicesOptions {
  registry: Registry;
  coordinator: RoundCoordinator;
  log: Logger;
  /** false disables model evaluation; undefined reads FEDSSL_EVAL* env vars (default on). */
  evaluation?: false | Partial<EvaluationOptions> | undefined;
  /** The socket server's handler timings, exposed on /metrics. */
  handlerTimes?: HandlerTimes;
}

export interface AdminServices {
  evaluation?: EvaluationService | undefined;
  metrics: ServerMetrics;
  /** Extra admin REST routes (all admin-guarded). */
  router: Router;
  /** /metrics and the extra admin routes; false when the request is not theirs. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Adds the /admin namespace to the federation's socket.io server. */
  attachSocket(io: IoServer): void;
  close(): Promise<void>;
}

/** The admin console's server side: live namespace, background evaluation, Prometheus metrics. */
export function createAdminServices(opts: AdminServicesOptions): AdminServices {
  const { registry, coordinator, log } = opts;
  const evalOpts = opts.evaluation === undefined ? evaluationOptionsFromEnv() : opts.evaluation;
  const evaluation =
    evalOpts === false
      ? undefined
      : new EvaluationService(
          registry,
          () => coordinator.globalModel.config,
          log.child({ component: 'evaluation' }),
          evalOpts,
        );
  const onVersion = (v: number) => evaluation?.enqueue(v);
  if (evaluation) {
    coordinator.on('version', onVersion);
    // Score the current version too if it never was (first start, or evaluation was off).
    const current = registry.getVersion(coordinator.globalModel.version);
    if (current && current.probe_accuracy === null) evaluation.enqueue(current.version);
  }
  const metrics = createMetrics(registry, coordinator, evaluation, opts.handlerTimes);

  const router = new Router();
  router.add('GET', '/api/admin/evaluation', (ctx) => {
    requireAdmin(registry, ctx.req);
    return evaluation ? evaluation.state() : { enabled: false, warnings: [] };
  });

  let socket: { close(): void } | undefined;
  return {
    evaluation,
    metrics,
    router,
    async handle(req, res) {
      if (await metrics.handle(req, res)) return true;
      return router.handle(req, res);
    },
    attachSocket(io) {
      socket = attachAdminNamespace(io, { registry, coordinator, evaluation, log });
    },
    async close() {
      coordinator.off('version', onVersion);
      socket?.close();
      await evaluation?.stop();
      metrics.close();
    },
  };
}
