#!/usr/bin/env tsx
/**
 * `npm run create-accounts`: the account worker's safety net, run by cron or a systemd timer every minute
 * beside the agent (same environment as the agent, minus the signing secrets). It works through every job in
 * the agent's inbox that is due now, the agent process's own worker being free to run at the same time (jobs
 * are claimed under a lease, so no job is worked on twice), prints one line per job and a summary.
 *
 * Exit 0 when every due job got a result (created, conflict or failed), 75 (EX_TEMPFAIL) when some were put
 * back for a later try (e.g. Prosody was down), 2 on bad arguments or configuration, 1 on an inbox error.
 */
import { ConfigError, loadAgentConfig } from '../edge/agent/config.js';
import { openAgentParts } from '../edge/agent/setup.js';
import { EXIT, ExitStatus, parseCliArgs, processIo, runCli, UsageError } from '../edge/shared/cli.js';
import { createLogger } from '../edge/shared/log.js';
import { terminalSafe } from '../edge/shared/terminal.js';

const HELP = `usage: npm run create-accounts [-- --quiet]

Creates the Prosody accounts waiting in the agent's inbox ($MEET_DATA_DIR/agent.sqlite), once, then exits.
Meant for cron / a systemd timer every minute, beside the agent.

Environment (as for the agent): MEET_DATA_DIR (.meet), MEET_AGENT_SEALING_KEYS (required),
MEET_PROSODY_MODE (socket | prosodyctl), MEET_PROSODY_SOCKET (socket mode), MEET_PROSODYCTL_CONFIG,
MEET_PROSODYCTL (prosodyctl mode), MEET_XMPP_DOMAIN (meet.jitsi).

Options:
  --quiet   print only the summary
  --help    show this help

Exit status: 0 all due jobs done, 75 some put back to retry later (or the disk is full), 2 bad arguments or
configuration, 1 error.`;

process.exitCode = await runCli(processIo, 'create-accounts', HELP, async () => {
  const { values: args, positionals } = parseCliArgs(process.argv.slice(2), {
    help: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  if (args.help) {
    console.log(HELP);
    return undefined;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);

  let config;
  try {
    config = loadAgentConfig(process.env, { requireSigningSecrets: false });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }

  // Worker log lines go to stderr only for warnings; stdout carries the progress lines and the summary.
  const log = createLogger({ level: 'warn', name: 'create-accounts', destination: process.stderr as never });
  const { inbox, accounts, worker } = openAgentParts(config, log);
  try {
    const started = Date.now();
    const summary = await worker.drain((settled) => {
      if (!args.quiet)
        console.log(
          [settled.id, settled.status, ...(settled.detail ? [settled.detail] : [])].map(terminalSafe).join('\t'),
        );
    });
    const left = inbox.counts();
    console.log(
      `created ${summary.created}, conflict ${summary.conflict}, failed ${summary.failed}, put back ${summary.retry} ` +
        `(${left.pending + left.attempting} waiting in the inbox) in ${Date.now() - started} ms`,
    );
    // A full disk claimed nothing: the due jobs wait for a later run, as after a put-back.
    if (worker.storage.full) console.error('create-accounts: the disk is full; the jobs wait for a later run');
    return summary.retry > 0 || worker.storage.full ? new ExitStatus(EXIT.tempFail) : undefined;
  } finally {
    await accounts.close();
    inbox.close();
  }
});
