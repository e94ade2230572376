/**
 * The line between the two vitest projects (vitest.config.ts). Unit tests (`*.test.ts`) need only Node and the npm
 * packages; integration tests (`*.int.test.ts`) may use what the machine has installed. Every helper that starts or
 * runs an installed component calls `requireInstalled` when it is imported, so a unit test that reaches for one
 * fails at once with a message saying how to fix it, instead of passing here and failing on a bare machine.
 */

/** Set by the unit project; its value names the project. */
export const UNIT_PROJECT_ENV = 'MEET_TEST_UNIT';

/** What an integration test may need that a unit run has not got. */
export type InstalledComponent =
  | 'Prosody'
  | 'Pebble'
  | 'Chromium'
  | 'cloud-init'
  | 'systemd'
  | 'nginx'
  | 'root (mounts, network or mount namespaces, other users)'
  | 'apt (Debian packages fetched at test time)';

export function requireInstalled(component: InstalledComponent, by: string): void {
  if (process.env[UNIT_PROJECT_ENV]) {
    throw new Error(
      `${by} needs ${component}, which the unit project (npm run test:unit) does not have: ` +
        'name the test file *.int.test.ts so it runs in the integration project (npm test), or keep it off that helper',
    );
  }
}
