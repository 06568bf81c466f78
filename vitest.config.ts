import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tests run the client's wire schemas from source, so they never see a stale build.
    alias: [
      { find: /^kpiggybank-client$/, replacement: fileURLToPath(new URL('./client/src/index.ts', import.meta.url)) },
      { find: /^kpiggybank-client\/(.*)$/, replacement: fileURLToPath(new URL('./client/src/$1.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
