import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { HttpError, Router, type RouteContext, type RouteSchema } from './router';
import type { Registry } from '../registry/registry';
import type { RoundCoordinator } from '../federation/coordinator';
import { RoundConfigSchema } from '../../shared/protocol/round-config';
import { loadVersion } from '../model/global-model';
import { exportTfjs } from '../model/tfjs-export';
import type { SessionGuard } from '../security/session-guard';
import { formatIssues } from '../../shared/protocol/issues';

export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

/** Throws 401 unless the request carries a live admin token. */
export function requireAdmin(registry: Registry, req: IncomingMessage): number {
  const token = bearerToken(req);
  if (!token) throw new HttpError(401, 'admin token required (Authorization: Bearer <token>)');
  const row = registry.verifyToken(token, ['admin']);
  if (!row) throw new HttpError(401, 'invalid, expired or non-admin token');
  return row.id;
}

const CreateTokenSchema = z.object({
  label: z.string().max(100).optional(),
  kind: z.enum(['client', 'metrics']).default('client'),
  expiresInHours: z
    .number()
    .positive()
    .max(24 * 365)
    .optional(),
});
const RollbackSchema = z.object({ version: z.number().int().min(0) });

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, formatIssues(r.error, { root: 'body' }));
  return r.data;
}

function versionParam(registry: Registry, raw: string | undefined): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0 || !registry.getVersion(v))
    throw new HttpError(404, `model version ${raw} not found`);
  return v;
}

/** Admin REST API; every route requires the admin token and every change is audited. */
export function adminRouter(registry: Registry, coordinator: RoundCoordinator, sessions?: SessionGuard): Router {
  const router = new Router();
  const guarded = (
    method: string,
    path: string,
    fn: (ctx: Parameters<Parameters<Router['add']>[2]>[0], actor: string) => unknown,
    schema?: RouteSchema,
  ) =>
    router.add(method, path, async (ctx) => fn(ctx, `admin#${requireAdmin(registry, ctx.req)}`), {
      ...schema,
      guard: (req) => requireAdmin(registry, req),
    });

  guarded('GET', '/api/admin/status', () => ({ ...coordinator.status(), config: coordinator.config }));
  guarded('GET', '/api/admin/versions', () => registry.listVersions());
  guarded('GET', '/api/admin/rounds', () => registry.listRounds());
  guarded('GET', '/api/admin/clients', () => {
    const connected = new Map(coordinator.pool.all().map((c) => [c.id, c]));
    return registry
      .listClients()
      .map((c) => ({ ...c, connected: connected.has(c.id), eligible: connected.get(c.id)?.ready !== undefined }));
  });
  guarded('GET', '/api/admin/tokens', () => registry.listTokens());
  guarded('GET', '/api/admin/audit', () => registry.listAudit());

  guarded(
    'POST',
    '/api/admin/tokens',
    async (ctx, actor) => {
      const body = parse(CreateTokenSchema, await ctx.body());
      const expiresAt = body.expiresInHours ? Date.now() + body.expiresInHours * 3600_000 : undefined;
      const created = registry.createToken(body.kind, body.label, expiresAt);
      registry.audit(actor, 'token.create', { id: created.id, kind: body.kind, label: body.label });
      return created;
    },
    { body: CreateTokenSchema },
  );
  guarded('DELETE', '/api/admin/tokens/:id', (ctx, actor) => {
    const id = Number(ctx.params.id);
    const row = Number.isInteger(id) ? registry.getToken(id) : undefined;
    if (!row || row.revoked_at !== null) throw new HttpError(404, `no live token #${ctx.params.id}`);
    // Never lock everyone out: the last live admin token cannot be revoked over the API.
    if (row.kind === 'admin' && registry.countLiveTokens('admin') <= 1) {
      throw new HttpError(
        409,
        'refusing to revoke the last live admin token (create another admin token first, e.g. npm run admin -- admin-token)',
      );
    }
    registry.revokeToken(id);
    registry.audit(actor, 'token.revoke', { id });
    sessions?.sweep(); // live sockets of this token go now
    return { ok: true };
  });
  guarded('POST', '/api/admin/rounds/pause', (_ctx, actor) => {
    coordinator.pause();
    registry.audit(actor, 'rounds.pause');
    return coordinator.status();
  });
  guarded('POST', '/api/admin/rounds/resume', (_ctx, actor) => {
    coordinator.resume();
    registry.audit(actor, 'rounds.resume');
    return coordinator.status();
  });
  guarded(
    'PUT',
    '/api/admin/config',
    async (ctx, actor) => {
      const cfg = parse(RoundConfigSchema, await ctx.body());
      coordinator.updateConfig(cfg);
      registry.setSetting('round_config', JSON.stringify(cfg));
      registry.audit(actor, 'config.update', cfg);
      return cfg;
    },
    { body: RoundConfigSchema },
  );
  guarded(
    'POST',
    '/api/admin/rollback',
    async (ctx, actor) => {
      const { version } = parse(RollbackSchema, await ctx.body());
      versionParam(registry, String(version));
      try {
        const m = await coordinator.rollback(version);
        registry.audit(actor, 'model.rollback', { to: version, newVersion: m.version });
        return { ok: true, version: m.version, parent: version };
      } catch (err) {
        throw new HttpError(409, (err as Error).message);
      }
    },
    { body: RollbackSchema },
  );
  guarded('DELETE', '/api/admin/clients/:id', (ctx, actor) => {
    const id = ctx.params.id!;
    const known = registry.getClient(id);
    if (!known || !registry.setClientRemoved(id, true)) throw new HttpError(404, `unknown client ${id}`);
    // ?revokeToken=1 also revokes the join token the client was bound to (its other devices go too).
    const revoke = ['1', 'true'].includes(ctx.url.searchParams.get('revokeToken') ?? '') && known.token_id !== null;
    if (revoke) registry.revokeToken(known.token_id!);
    coordinator.pool.get(id)?.disconnect('removed by the administrator');
    sessions?.sweep();
    registry.audit(actor, 'client.remove', { id, ...(revoke ? { revokedToken: known.token_id } : {}) });
    return { ok: true, ...(revoke ? { revokedToken: known.token_id } : {}) };
  });

  // Pinned versions keep their checkpoint file under retention.
  for (const [method, pinned] of [
    ['PUT', true],
    ['DELETE', false],
  ] as const) {
    guarded(method, '/api/admin/versions/:version/pin', (ctx, actor) => {
      const v = versionParam(registry, ctx.params.version);
      if (pinned && registry.getVersion(v)!.pruned_at !== null)
        throw new HttpError(409, `the checkpoint of v${v} was already deleted by retention`);
      registry.setPinned(v, pinned);
      registry.audit(actor, pinned ? 'version.pin' : 'version.unpin', { version: v });
      return { ok: true, version: v, pinned };
    });
  }

  guarded('GET', '/api/admin/models/:version/model.json', async (ctx) => {
    const v = versionParam(registry, ctx.params.version);
    const part = ctx.url.searchParams.get('part') === 'head' ? 'head' : 'encoder';
    const out = await exportTfjs(loadVersion(registry, v), part);
    const json = out.modelJson as { weightsManifest: { paths: string[] }[] };
    // Point the manifest at the sibling weights route (and keep the token out of URLs). The part is in the
    // file name, not a query: tf.io.http appends model.json's query string to every weights path.
    json.weightsManifest[0]!.paths = [part === 'head' ? 'head.weights.bin' : 'weights.bin'];
    return json;
  });
  const weightsRoute = (part: 'encoder' | 'head') => async (ctx: RouteContext) => {
    const v = versionParam(registry, ctx.params.version);
    const out = await exportTfjs(loadVersion(registry, v), part);
    ctx.res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': out.weights.byteLength,
      'Content-Disposition': `attachment; filename="fedssl-v${v}-${part}.weights.bin"`,
    });
    ctx.res.end(out.weights);
    return undefined;
  };
  guarded('GET', '/api/admin/models/:version/weights.bin', weightsRoute('encoder'));
  guarded('GET', '/api/admin/models/:version/head.weights.bin', weightsRoute('head'));
  return router;
}
