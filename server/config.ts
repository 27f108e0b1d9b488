import { resolve } from 'node:path';
import { z } from 'zod';

/** Server settings: flags override env vars, env vars override defaults. */
export const ServerConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().default('127.0.0.1'),
  dataDir: z.string().default('data'),
  staticDir: z.string().default('dist/client'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Accept clients without join tokens. Demo only; off unless explicitly enabled. */
  openEnrollment: z.preprocess((v) => v === true || v === 'true' || v === '1', z.boolean()).default(false),
  /** Encoder: 'default' (≈405k parameters, GroupNorm, 512-d), 'compact' (≈265k, the old default) or 'tiny' (tests). */
  model: z.enum(['default', 'compact', 'tiny']).default('default'),
  strategy: z.enum(['fedavg', 'fedadam']).default('fedavg'),
  /** Client ids (devices) one join token may bind; removed clients keep their slot. */
  devicesPerToken: z.coerce.number().int().min(1).max(1_000_000).default(1),
  /** Checkpoint retention: files of the newest K versions (plus pinned ones) are kept; rows always. */
  keepCheckpoints: z.coerce.number().int().min(1).default(50),
  /** Socket.io handshakes per second per remote address (sustained), and at once. */
  handshakesPerSecond: z.coerce.number().positive().default(20),
  handshakeBurst: z.coerce.number().int().min(1).default(200),
  /** socket.io ping timeout: a client that leaves a ping unanswered this long is dropped (and leaves the round). */
  pingTimeoutMs: z.coerce.number().int().min(1000).max(600_000).default(20_000),
  /** JSON file with round settings (see RoundConfigSchema); admin edits override it. */
  roundConfigFile: z.string().optional(),
});
export type ServerConfig = z.infer<typeof ServerConfigSchema>;

export function loadServerConfig(flags: Partial<Record<keyof ServerConfig, unknown>>, env = process.env): ServerConfig {
  const fromEnv = {
    port: env.FEDSSL_PORT,
    host: env.FEDSSL_HOST,
    dataDir: env.FEDSSL_DATA_DIR,
    staticDir: env.FEDSSL_STATIC_DIR,
    logLevel: env.FEDSSL_LOG_LEVEL,
    openEnrollment: env.FEDSSL_OPEN_ENROLLMENT,
    model: env.FEDSSL_MODEL,
    strategy: env.FEDSSL_STRATEGY,
    roundConfigFile: env.FEDSSL_ROUND_CONFIG,
    devicesPerToken: env.FEDSSL_DEVICES_PER_TOKEN,
    keepCheckpoints: env.FEDSSL_KEEP_CHECKPOINTS,
    handshakesPerSecond: env.FEDSSL_HANDSHAKES_PER_SECOND,
    handshakeBurst: env.FEDSSL_HANDSHAKE_BURST,
    pingTimeoutMs: env.FEDSSL_PING_TIMEOUT_MS,
  };
  const defined = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const cfg = ServerConfigSchema.parse({ ...defined(fromEnv), ...defined(flags) });
  return { ...cfg, dataDir: resolve(cfg.dataDir), staticDir: resolve(cfg.staticDir) };
}
