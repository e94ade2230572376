/**
 * Runs once before every test run. Generates the OpenStack bindings in `.gen/` when the committed
 * provider schema changed (offline, without terraform; see stacks/tooling/bindings.ts).
 */
import { ensureBindings } from '../stacks/tooling/bindings.js';

export default async function setup(): Promise<void> {
  process.env.CHECKPOINT_DISABLE = '1';
  await ensureBindings();
}
