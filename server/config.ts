import { resolve } from 'node:path';
import { z } from 'zod';

/** Server settings: flags override env vars, env vars override defaults. */
export const ServerConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().default('127.0.0.1'),
  dataDir: z.string().default('data'),
  staticDir: z.string().default('dist/client'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type ServerConfig = z.infer<typeof ServerConfigSchema>;

export function loadServerConfig(flags: Partial<Record<keyof ServerConfig, unknown>>, env = process.env): ServerConfig {
  const fromEnv = {
    port: env.FEDSSL_PORT,
    host: env.FEDSSL_HOST,
    dataDir: env.FEDSSL_DATA_DIR,
    staticDir: env.FEDSSL_STATIC_DIR,
    logLevel: env.FEDSSL_LOG_LEVEL,
  };
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const cfg = ServerConfigSchema.parse({ ...defined(fromEnv), ...defined(flags) });
  return { ...cfg, dataDir: resolve(cfg.dataDir), staticDir: resolve(cfg.staticDir) };
}
