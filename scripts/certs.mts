#!/usr/bin/env tsx
/**
 * `npm run certs -- issue|renew|status` (see --help): the host's TLS certificate from Let's Encrypt over HTTP-01.
 * In production the meet-cert-renewal timer runs `docker exec <meet-agent|meet-edge> timeout ... node
 * dist/scripts/certs.mjs renew` daily (stacks/cloud-init.ts). Logic: scripts/lib/certs/.
 */
import { terminalIo } from '../edge/shared/terminal.js';
import { runCertsCli } from './lib/certs/cli.js';

process.exitCode = await runCertsCli(
  process.argv.slice(2),
  terminalIo({
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  }),
);
