#!/usr/bin/env tsx
/** `npm run gen`: generates the OpenStack provider bindings in `.gen/` offline, only when the schema changed. */
import { ensureBindings } from '../stacks/tooling/bindings.js';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`usage: npm run gen [-- --force] [--quiet]
Generates .gen/ (OpenStack provider bindings) from stacks/providers/openstack.schema.json with the cdktf
generator, offline and without terraform. Skips the work when .gen/schema.sha256 matches the schema.
  --force   regenerate even when the stamp matches
  --quiet   print nothing on success`);
  process.exit(0);
}
const unknown = args.filter((arg) => arg !== '--force' && arg !== '--quiet');
if (unknown.length > 0) {
  console.error(`gen-bindings: unknown argument(s): ${unknown.join(' ')} (see --help)`);
  process.exit(2);
}
try {
  const started = performance.now();
  const result = await ensureBindings({ force: args.includes('--force') });
  if (!args.includes('--quiet')) {
    const what = result.generated ? 'generated' : 'up to date';
    console.error(`.gen/ ${what} (schema ${result.stamp.slice(0, 12)}, ${Math.round(performance.now() - started)} ms)`);
  }
} catch (error) {
  console.error(`gen-bindings: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
