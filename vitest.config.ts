import { defineConfig } from 'vitest/config';

// Restarts the Docker engine: it runs on its own, after every other test file has finished.
const ENGINE_RESTART = 'test/e2e/docker-restart.test.ts';
// End-to-end tests build images and start containers on the real engine.
const timeouts = { testTimeout: 240_000, hookTimeout: 240_000 };

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        test: {
          name: 'suite',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', '.paas-data/**', ENGINE_RESTART],
          ...timeouts,
          // Two cores: more parallel builds only queue on the engine.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: { name: 'engine-restart', include: [ENGINE_RESTART], ...timeouts, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
