#!/usr/bin/env tsx
/**
 * `npx tsx scripts/gen-nodeprep-table.mts`: regenerates edge/shared/nodeprep-table.ts from the real Prosody
 * installed here (Debian's prosody 13: /usr/lib/prosody, ICU), so meet-auth folds usernames exactly as Prosody does.
 * Run it when Prosody (or the ICU it links) changes; test/edge/shared/nodeprep.test.ts proves the result.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROSODY_LIB, probeNodeprep, tableSource } from './lib/prosody-nodeprep.js';

if (process.argv.includes('--help')) {
  console.log('usage: npx tsx scripts/gen-nodeprep-table.mts\nWrites edge/shared/nodeprep-table.ts from the Prosody in MEET_PROSODY_LIB (/usr/lib/prosody).');
  process.exit(0);
}
if (process.argv.length > 2) {
  console.error(`gen-nodeprep-table: unknown argument(s): ${process.argv.slice(2).join(' ')} (see --help)`);
  process.exit(2);
}
try {
  let origin = PROSODY_LIB;
  try {
    const version = execFileSync('dpkg-query', ['-W', '-f', 'prosody ${Version}, linked against ICU ${Depends}', 'prosody'], { encoding: 'utf8' });
    origin = version.replace(/ICU .*?(libicu\d+)[^,]*.*/, 'ICU $1');
  } catch {
    // not Debian's package: name the directory only
  }
  const target = fileURLToPath(new URL('../edge/shared/nodeprep-table.ts', import.meta.url));
  writeFileSync(target, tableSource(await probeNodeprep(), origin));
  console.error(`wrote ${target}`);
} catch (error) {
  console.error(`gen-nodeprep-table: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
