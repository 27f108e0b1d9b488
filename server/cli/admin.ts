/**
 * npm run admin -- token create --label alice [--kind client|metrics] [--expires-in-hours 24]
 * npm run admin -- token list | token revoke <id> | admin-token rotate | versions
 * Works directly on the registry in --data-dir (default ./data, env FEDSSL_DATA_DIR).
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { Registry } from '../registry/registry';

const program = new Command()
  .name('admin')
  .description('FedSSL registry administration')
  .option('--data-dir <dir>', 'data directory', process.env.FEDSSL_DATA_DIR ?? 'data');
const registry = () => new Registry(resolve(program.opts<{ dataDir: string }>().dataDir));
const when = (t: number | null) => (t ? new Date(t).toISOString() : '–');

const token = program.command('token').description('join and metrics tokens');
token
  .command('create')
  .option('--label <label>', 'who or what the token is for')
  .option('--kind <kind>', 'client (join token) or metrics', 'client')
  .option('--expires-in-hours <h>', 'expiry', (v) => {
    const n = Number(v);
    if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
    return n;
  })
  .action((o: { label?: string; kind: string; expiresInHours?: number }) => {
    if (o.kind !== 'client' && o.kind !== 'metrics') throw new InvalidArgumentError('--kind must be client or metrics');
    const reg = registry();
    const created = reg.createToken(
      o.kind,
      o.label,
      o.expiresInHours ? Date.now() + o.expiresInHours * 3600_000 : undefined,
    );
    reg.audit('cli', 'token.create', { id: created.id, kind: o.kind, label: o.label });
    reg.close();
    console.log(`token #${created.id} (${o.kind}${o.label ? `, ${o.label}` : ''}): ${created.token}`);
    console.log('It is shown only now; the server stores its hash.');
  });
token.command('list').action(() => {
  const reg = registry();
  console.table(
    reg.listTokens().map((t) => ({
      id: t.id,
      kind: t.kind,
      label: t.label ?? '',
      created: when(t.created_at),
      expires: when(t.expires_at),
      revoked: when(t.revoked_at),
    })),
  );
  reg.close();
});
token.command('revoke <id>').action((id: string) => {
  const reg = registry();
  const ok = reg.revokeToken(Number(id));
  if (ok) reg.audit('cli', 'token.revoke', { id: Number(id) });
  reg.close();
  if (!ok) {
    console.error(`no live token #${id}`);
    process.exitCode = 1;
  } else console.log(`token #${id} revoked`);
});
program
  .command('admin-token')
  .description('create a new admin token (the old ones stay valid until revoked)')
  .action(() => {
    const reg = registry();
    const created = reg.createToken('admin', 'cli');
    reg.audit('cli', 'admin-token.create', { id: created.id });
    reg.close();
    console.log(`admin token #${created.id}: ${created.token}`);
  });
program
  .command('versions')
  .description('list model versions')
  .action(() => {
    const reg = registry();
    console.table(
      reg.listVersions().map((v) => ({
        version: v.version,
        parent: v.parent,
        round: v.round_id,
        survivors: v.survivors,
        loss: v.mean_loss?.toFixed(4) ?? '',
        created: when(v.created_at),
        note: v.note ?? '',
      })),
    );
    reg.close();
  });

program.parseAsync().catch((err: unknown) => {
  console.error(`admin: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
