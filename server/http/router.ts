import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  url: URL;
  body(): Promise<unknown>;
}

type Handler = (ctx: RouteContext) => Promise<unknown> | unknown;

export interface RouteSchema {
  /** Body schema Fastify validates (fastify-type-provider-zod) before the handler runs. */
  body?: z.ZodType;
  /** Runs first (Fastify onRequest), before the body is read or validated: authentication. */
  guard?: (req: IncomingMessage) => void;
}

interface Route {
  method: string;
  path: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
  schema?: RouteSchema | undefined;
}

const MAX_BODY = 256 * 1024;

/**
 * A table of JSON routes (`/api/x/:id` patterns, JSON in and out, errors as {error}). The
 * server mounts it on Fastify (`mount`), which parses bodies within its limit, validates
 * them with the route's zod schema and maps errors; `handle` is the standalone fallback.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler, schema?: RouteSchema): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      '^' +
        path.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
          keys.push(k);
          return '([^/]+)';
        }) +
        '$',
    );
    this.routes.push({ method, path, pattern, keys, handler, schema });
    return this;
  }

  /** Registers every route on a Fastify instance (zod type provider). */
  mount(app: FastifyInstance): void {
    const typed = app.withTypeProvider<ZodTypeProvider>();
    for (const r of this.routes) {
      typed.route({
        method: r.method as HTTPMethods,
        url: r.path,
        ...(r.schema?.body ? { schema: { body: r.schema.body } } : {}),
        ...(r.schema?.guard
          ? { onRequest: async (request: { raw: IncomingMessage }) => r.schema!.guard!(request.raw) }
          : {}),
        handler: async (request, reply) => {
          const url = new URL(request.url, 'http://local');
          const ctx: RouteContext = {
            req: request.raw,
            res: reply.raw,
            params: request.params as Record<string, string>,
            url,
            body: () => Promise.resolve(request.body ?? {}),
          };
          const result = await r.handler(ctx);
          // A handler that wrote the raw response itself (binary downloads) has answered.
          if (reply.raw.headersSent || reply.raw.writableEnded) return reply.hijack();
          return reply.header('Cache-Control', 'no-store').send(result ?? { ok: true });
        },
      });
    }
  }

  /** Every registered route (tests enumerate them, e.g. to check that all admin routes are guarded). */
  list(): { method: string; path: string }[] {
    return this.routes.map((r) => ({ method: r.method, path: r.path }));
  }

  /** Returns false when no route matches the path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://local');
    } catch {
      sendJson(res, 400, { error: 'malformed request URL' });
      return true;
    }
    const matching = this.routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) return false;
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      sendJson(res, 405, { error: `method ${req.method} not allowed on ${url.pathname}` });
      return true;
    }
    try {
      const m = route.pattern.exec(url.pathname)!;
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeParam(m[i + 1]!)]));
      const result = await route.handler({ req, res, params, url, body: () => readJsonBody(req) });
      if (!res.headersSent && !res.writableEnded) sendJson(res, 200, result ?? { ok: true });
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      // After a 413 the rest of the body is unread: close the connection rather than parse it as the next request.
      if (status === 413) res.setHeader('Connection', 'close');
      if (!res.headersSent)
        sendJson(res, status, { error: status === 500 ? 'internal error' : (err as Error).message });
      if (status === 500) throw err;
    }
    return true;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'malformed %-escape in the URL');
  }
}

/**
 * Reads a JSON body up to MAX_BODY. Too large: refused from Content-Length before reading,
 * or as soon as the count passes the limit; either way the request stream is left alone (no
 * destroy mid-body), the 413 goes out with Connection: close, and Node discards the rest.
 */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY)
    throw new HttpError(413, `request body larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((done, fail) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.off('data', onData);
        req.off('end', done);
        fail(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('error', fail);
  });
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}
