#!/usr/bin/env tsx
/**
 * `npx tsx scripts/gen-nodeprep-table.mts`: regenerates edge/shared/nodeprep-table.json from the real Prosody
 * installed here (Debian's prosody 13: /usr/lib/prosody, ICU), so meet-auth folds usernames exactly as Prosody does.
 * Run it when Prosody (or the ICU it links) changes; test/edge/shared/nodeprep.int.test.ts proves the result.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { EXIT, parseCliArgs, UsageError } from '../edge/shared/cli.js';
import { PROSODY_LIB, probeNodeprep, tableJson } from './lib/prosody-nodeprep.js';

let args;
try {
  args = parseCliArgs(process.argv.slice(2), { help: { type: 'boolean' } }, { unknown: 'unknown argument(s):' });
  if (args.positionals.length > 0) throw new UsageError(`unknown argument(s): ${args.positionals.join(' ')}`);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`gen-nodeprep-table: ${error.message} (see --help)`);
  process.exit(EXIT.usage);
}
if (args.values.help) {
  console.log(
    'usage: npx tsx scripts/gen-nodeprep-table.mts\nWrites edge/shared/nodeprep-table.json from the Prosody in MEET_PROSODY_LIB (/usr/lib/prosody).',
  );
  process.exit(EXIT.done);
}
try {
  let origin = PROSODY_LIB;
  try {
    const format = 'prosody ${Version}, linked against ICU ${Depends}';
    const version = (await $({ quiet: true })`dpkg-query -W -f ${format} prosody`).stdout;
    origin = version.replace(/ICU .*?(libicu\d+)[^,]*.*/, 'ICU $1');
  } catch {
    // not Debian's package: name the directory only
  }
  const target = fileURLToPath(new URL('../edge/shared/nodeprep-table.json', import.meta.url));
  writeFileSync(target, tableJson(await probeNodeprep(), origin));
  console.error(`wrote ${target}`);
} catch (error) {
  console.error(`gen-nodeprep-table: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(EXIT.failed);
}
