#!/usr/bin/env tsx
/** `npm run restore -- ARCHIVE` (see --help). Logic: scripts/lib/backup/. */
import { processIo } from '../edge/auth/admin/io.js';
import { runRestoreCli } from './lib/backup/cli.js';

process.exitCode = await runRestoreCli(process.argv.slice(2), processIo);
