import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

const root = import.meta.dirname;

// The app (client/) and the admin console (client/admin/) are one vite build.
export default defineConfig({
  root: resolve(root, 'client'),
  publicDir: resolve(root, 'client/public'),
  build: {
    outDir: resolve(root, 'dist/client'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        app: resolve(root, 'client/index.html'),
        admin: resolve(root, 'client/admin/index.html'),
      },
    },
  },
  worker: {
    format: 'es',
    // The threaded WASM backend ships its module factory to pthread workers as
    // source text (Function.toString). Mangling or compressing it (e.g. turning
    // `typeof _scriptDir !== "undefined"` into `_scriptDir !== void 0`) breaks
    // that copy with "_scriptDir is not defined", so only strip whitespace.
    rolldownOptions: {
      output: { minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } } },
    },
  },
  test: {
    root: root,
    include: ['shared/**/*.test.ts', 'server/**/*.test.ts', 'e2e/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
