#!/usr/bin/env tsx
/** `npm run ticketmaster -- add <name> | list | revoke <name>` (see --help). Logic: edge/auth/admin/ticketmaster-cli.ts. */
import { processIo } from '../edge/auth/admin/io.js';
import { runTicketmasterCli } from '../edge/auth/admin/ticketmaster-cli.js';

process.exitCode = await runTicketmasterCli(process.argv.slice(2), processIo);
