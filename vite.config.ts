import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

// The app (client/) and the admin console (client/admin/) are one vite build.
export default defineConfig({
  root: resolve(__dirname, 'client'),
  publicDir: resolve(__dirname, 'client/public'),
  build: {
    outDir: resolve(__dirname, 'dist/client'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        app: resolve(__dirname, 'client/index.html'),
      },
    },
  },
  worker: {
    format: 'es',
  },
  test: {
    root: __dirname,
    include: ['shared/**/*.test.ts', 'server/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
