import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { UNIT_PROJECT_ENV } from './test/support/installed.js';
import { OWN_MODULE_GRAPH } from './test/support/test-projects.js';

// Projects by what a test needs: the unit tests (Node and npm packages only: no root, Prosody, Pebble, Chromium,
// cloud-init, systemd, nginx, namespaces or mounts) and `integration` (`*.int.test.ts`, real installed
// components). `npm test` runs all; `npm run test:unit` the unit ones. test/support/installed.ts guards the line.
// The unit tests are `unit` (one module graph per worker) and `unit-isolated`, those that mock modules and so need
// a graph of their own (test/support/test-projects.ts).
const INTEGRATION = 'test/**/*.int.test.ts';
const unit = {
  env: { [UNIT_PROJECT_ENV]: 'unit' },
  // Unit tests mostly wait (child CLIs, timers), so two per core (vitest's default is one fewer than the
  // cores: a single worker on two).
  maxWorkers: 2 * availableParallelism(),
  // Projects with different worker counts run as separate groups: the unit tests first.
  sequence: { groupOrder: 0 },
};

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
          ...unit,
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [INTEGRATION, ...OWN_MODULE_GRAPH],
          // One module graph per worker, not per file: cdktf, the provider bindings and Hono load once per worker.
          isolate: false,
        },
      },
      { extends: true, test: { ...unit, name: 'unit-isolated', include: [...OWN_MODULE_GRAPH] } },
      { extends: true, test: { name: 'integration', include: [INTEGRATION], sequence: { groupOrder: 1 } } },
    ],
  },
});
