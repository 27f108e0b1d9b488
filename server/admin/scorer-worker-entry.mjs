// Worker entry for the evaluation's scorer: workers do not inherit a TypeScript loader in every runner
// (vitest, tsx), so register tsx here before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./scorer-worker.ts');
