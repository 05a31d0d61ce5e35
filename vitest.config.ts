import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    exclude: ['node_modules/**', '.paas-data/**'],
    // End-to-end tests build images and start containers on the real engine.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Two cores: more parallel builds only queue on the engine.
    maxWorkers: 2,
  },
});
