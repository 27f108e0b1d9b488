// Worker entry for the parallel unmask: workers do not inherit a TypeScript loader in every
// runner (vitest, tsx), so register tsx here before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./unmask-worker.ts');
