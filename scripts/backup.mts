#!/usr/bin/env tsx
/** `npm run backup -- --out DIR | --to s3://bucket/prefix | list` (see --help). Logic: scripts/lib/backup/. */
import { processIo } from '../edge/auth/admin/io.js';
import { runBackupCli } from './lib/backup/cli.js';

process.exitCode = await runBackupCli(process.argv.slice(2), processIo);
