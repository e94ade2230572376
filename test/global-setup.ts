/**
 * Runs once before every test run. Generates the OpenStack bindings in `.gen/` when the committed
 * provider schema changed (offline, without terraform; see stacks/tooling/bindings.ts), and makes the run's
 * directory of port claims (scripts/lib/free-port.ts), which its workers and their children inherit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORT_CLAIMS_ENV } from '../scripts/lib/free-port.js';
import { ensureBindings } from '../stacks/tooling/bindings.js';

export default async function setup(): Promise<() => void> {
  process.env.CHECKPOINT_DISABLE = '1';
  const claims = mkdtempSync(join(tmpdir(), 'meet-test-ports-'));
  process.env[PORT_CLAIMS_ENV] = claims;
  await ensureBindings();
  return () => rmSync(claims, { recursive: true, force: true });
}
