import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type { ServerConfig } from './config';
import { createStaticHandler, setIsolationHeaders } from './http/static-files';

export interface RunningServer {
  http: Server;
  url: string;
  port: number;
  log: Logger;
  close(): Promise<void>;
}

/** Starts the HTTP server that serves the web app (and, later, the federation). */
export async function startServer(cfg: ServerConfig): Promise<RunningServer> {
  const log = pino({ level: cfg.logLevel, name: 'fedssl' });
  if (!existsSync(cfg.staticDir)) {
    log.warn({ staticDir: cfg.staticDir }, 'web app not built yet: run "npm run build"');
  }
  const serveStatic = createStaticHandler(cfg.staticDir);
  const http = createServer((req, res) => {
    serveStatic(req, res)
      .then((served) => {
        if (served) return;
        setIsolationHeaders(res);
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'not found', path: req.url }));
      })
      .catch((err: unknown) => {
        log.error({ err, url: req.url }, 'request failed');
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error' }));
      });
  });
  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(cfg.port, cfg.host, () => ok());
  });
  const port = (http.address() as AddressInfo).port;
  const url = `http://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${port}`;
  log.info({ url, dataDir: cfg.dataDir }, 'FedSSL server listening');
  return {
    http,
    url,
    port,
    log,
    close: () => new Promise<void>((ok) => http.close(() => ok())),
  };
}
