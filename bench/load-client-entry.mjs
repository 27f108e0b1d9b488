// Worker entry for bench:load's honest clients: tsx for TypeScript, and (unless disabled) the hook that
// gives shared/secagg/keys.ts the OpenSSL X25519. Workers do not inherit loaders in every runner.
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
if (workerData.nodeX25519) register('./load-hooks.mjs', import.meta.url);
await import('./load-clients.ts');
