import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Sources run under test get the version the bundles get (scripts/bundle.mjs, server/version.ts).
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

export default defineConfig({
  define: { PAIRFORGE_VERSION: JSON.stringify(version) },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration and e2e tests start real processes; keep files sequential on 2-core machines.
    fileParallelism: false,
  },
});
