import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { UNIT_PROJECT_ENV } from './test/support/installed.js';

// Two projects by what a test needs: `unit` (Node and npm packages only: no root, Prosody, Pebble, Chromium,
// cloud-init, systemd, nginx, namespaces or mounts) and `integration` (`*.int.test.ts`, real installed
// components). `npm test` runs both; `npm run test:unit` only the first. test/support/installed.ts guards the line.
const INTEGRATION = 'test/**/*.int.test.ts';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start real Prosody servers and SQLite stores run in separate forks.
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [INTEGRATION],
          env: { [UNIT_PROJECT_ENV]: 'unit' },
          // Unit tests mostly wait (child CLIs, timers), so two per core (vitest's default is one fewer than the
          // cores: a single worker on two).
          maxWorkers: 2 * availableParallelism(),
          // Projects with different worker counts run as separate groups: the unit tests first.
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'integration', include: [INTEGRATION], sequence: { groupOrder: 1 } } },
    ],
  },
});
