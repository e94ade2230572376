#!/usr/bin/env tsx
/** `npm run rotate -- <secret> [--dry-run]` (see --help). Logic: scripts/lib/rotate/. */
import { processIo } from '../edge/auth/admin/io.js';
import { runRotateCli } from './lib/rotate/cli.js';

process.exitCode = await runRotateCli(process.argv.slice(2), processIo);
