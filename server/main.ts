import { Command } from 'commander';
import { loadServerConfig } from './config';
import { startServer } from './app';
import { installCrashPolicy } from './process-policy';

const program = new Command()
  .name('fedssl-server')
  .description('FedSSL aggregation server: serves the web app, the admin console and the federation endpoint')
  .option('-p, --port <port>', 'HTTP port (env FEDSSL_PORT, default 8080)')
  .option('--host <host>', 'interface to bind (env FEDSSL_HOST, default 127.0.0.1)')
  .option('--data-dir <dir>', 'SQLite registry and checkpoints (env FEDSSL_DATA_DIR, default ./data)')
  .option('--static-dir <dir>', 'built web app (env FEDSSL_STATIC_DIR, default dist/client)')
  .option('--log-level <level>', 'pino log level (env FEDSSL_LOG_LEVEL, default info)')
  .option('--open-enrollment', 'DEMO ONLY: let clients join without a join token (env FEDSSL_OPEN_ENROLLMENT=1)')
  .option(
    '--model <name>',
    "encoder: 'default' (GroupNorm, 512-d, with the recipe's training), 'compact' (the old 265k default) or 'tiny' (env FEDSSL_MODEL)",
  )
  .option('--strategy <name>', "server optimiser: 'fedavg' or 'fedadam' (env FEDSSL_STRATEGY)")
  .option('--round-config <file>', 'JSON file with round settings (env FEDSSL_ROUND_CONFIG)')
  .option(
    '--keep-checkpoints <k>',
    'checkpoint files kept: the newest K versions plus pinned ones (env FEDSSL_KEEP_CHECKPOINTS, default 50)',
  )
  .option('--devices-per-token <n>', 'client ids one join token may bind (env FEDSSL_DEVICES_PER_TOKEN, default 1)')
  .action(async (opts: Record<string, string | undefined>) => {
    const cfg = loadServerConfig({
      port: opts.port,
      host: opts.host,
      dataDir: opts.dataDir,
      staticDir: opts.staticDir,
      logLevel: opts.logLevel,
      openEnrollment: opts.openEnrollment,
      model: opts.model,
      strategy: opts.strategy,
      roundConfigFile: opts.roundConfig,
      devicesPerToken: opts.devicesPerToken,
      keepCheckpoints: opts.keepCheckpoints,
    });
    const server = await startServer(cfg);
    installCrashPolicy({ log: server.log, close: () => server.close() });
    if (server.adminToken) {
      // Shown once: only its hash is stored.
      console.log(
        `\n  Admin token (shown once, store it safely): ${server.adminToken}\n  Admin console: ${server.url}/admin/\n`,
      );
    }
    console.log(`  FedSSL is running at ${server.url}/\n`);
    const stop = () => {
      server.log.info('shutting down');
      void server.close().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program.parseAsync().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
