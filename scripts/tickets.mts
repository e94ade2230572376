#!/usr/bin/env tsx
/** `npm run tickets -- list | revoke <selector> | jobs | retry <job-id> | audit` (see --help). Logic: edge/auth/admin/tickets-cli.ts. */
import { processIo } from '../edge/auth/admin/io.js';
import { runTicketsCli } from '../edge/auth/admin/tickets-cli.js';

process.exitCode = await runTicketsCli(process.argv.slice(2), processIo);
