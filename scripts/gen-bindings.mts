#!/usr/bin/env tsx
/** `npm run gen`: generates the OpenStack provider bindings in `.gen/` offline, only when the schema changed. */
import { EXIT, parseCliArgs, UsageError } from '../edge/shared/cli.js';
import { ensureBindings } from '../stacks/tooling/bindings.js';

let args;
try {
  args = parseCliArgs(
    process.argv.slice(2),
    { help: { type: 'boolean' }, force: { type: 'boolean' }, quiet: { type: 'boolean' } },
    { unknown: 'unknown argument(s):' },
  );
  if (args.positionals.length > 0) throw new UsageError(`unknown argument(s): ${args.positionals.join(' ')}`);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`gen-bindings: ${error.message} (see --help)`);
  process.exit(EXIT.usage);
}
if (args.values.help) {
  console.log(`usage: npm run gen [-- --force] [--quiet]
Generates .gen/ (OpenStack provider bindings) from stacks/providers/openstack.schema.json with the cdktf
generator, offline and without terraform. Skips the work when .gen/schema.sha256 matches the schema.
  --force   regenerate even when the stamp matches
  --quiet   print nothing on success`);
  process.exit(0);
}
try {
  const started = performance.now();
  const result = await ensureBindings({ force: args.values.force ?? false });
  if (!args.values.quiet) {
    const what = result.generated ? 'generated' : 'up to date';
    console.error(`.gen/ ${what} (schema ${result.stamp.slice(0, 12)}, ${Math.round(performance.now() - started)} ms)`);
  }
} catch (error) {
  console.error(`gen-bindings: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT.failed);
}
