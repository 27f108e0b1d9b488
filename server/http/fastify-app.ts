import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Router } from './router';
import { HttpError, sendJson } from './router';
import { setIsolationHeaders } from './static-files';
import { setSecurityHeaders } from './security-headers';

/** Largest JSON body the admin API accepts. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface HttpAppOptions {
  log: Logger;
  /** JSON route tables (admin REST API and the admin services' extra routes). */
  routers: Router[];
  health: () => unknown;
  /** Raw handlers tried before the static files (e.g. /metrics); true when they answered. */
  raw: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>)[];
  /** The built web app; false when no file matches. */
  serveStatic: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

/**
 * The HTTP side on Fastify: body limits and JSON parsing, zod validation (type provider),
 * one error handler (4xx with the reason, 5xx logged without details to the client), the
 * isolation and security headers on every response. socket.io attaches to `app.server`.
 */
export function createHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    // Open sockets (websockets) must not keep close() waiting.
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: false },
    // A malformed %-escape (or other bad URL) is the client's error, answered before any route runs.
    frameworkErrors: (err, _request, reply) => {
      reply.hijack();
      setIsolationHeaders(reply.raw);
      setSecurityHeaders(reply.raw, undefined);
      sendJson(reply.raw, err.statusCode ?? 400, { error: `malformed request: ${err.message}` });
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // An empty JSON body is {} (POST /rounds/pause); any content type is parsed as JSON.
  const parseJson = (_req: unknown, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new HttpError(400, 'request body is not valid JSON'));
    }
  };
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, parseJson);

  app.addHook('onRequest', async (request, reply) => {
    setIsolationHeaders(reply.raw);
    setSecurityHeaders(reply.raw, request.raw.url);
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    let status = err instanceof HttpError ? err.status : ((err as FastifyError).statusCode ?? 500);
    let message = err.message;
    if (hasZodFastifySchemaValidationErrors(err)) {
      status = 400;
      message = err.validation
        .map((v) => `${v.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'body'}: ${v.message}`)
        .join('; ');
    }
    // The rest of an oversized body is unread: end the connection rather than parse it as a request.
    if (status === 413) void reply.header('Connection', 'close');
    if (status >= 500) {
      opts.log.error({ err, url: request.url }, 'request failed');
      message = 'internal error';
    }
    void reply.code(status).header('Cache-Control', 'no-store').send({ error: message });
  });

  app.get('/api/health', async (_req, reply) => reply.header('Cache-Control', 'no-store').send(opts.health()));
  for (const r of opts.routers) r.mount(app);

  // Everything else: raw handlers (/metrics), then the web app, then a JSON 404.
  app.setNotFoundHandler(async (request, reply) => {
    reply.hijack();
    const { raw: req } = request;
    const res = reply.raw;
    try {
      for (const h of opts.raw) if (await h(req, res)) return;
      if (await opts.serveStatic(req, res)) return;
      sendJson(res, 404, { error: 'not found', path: req.url });
    } catch (err) {
      opts.log.error({ err, url: req.url }, 'request failed');
      if (!res.headersSent)
        sendJson(res, err instanceof HttpError ? err.status : 500, {
          error: err instanceof HttpError ? err.message : 'internal error',
        });
      else res.end();
    }
  });
  return app;
}
