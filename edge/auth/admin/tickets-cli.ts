/** `npm run tickets -- list | revoke <selector> | jobs | retry <job-id> | audit`: tickets, the outbox, the audit trail. */
import { listAudit } from '../store/audit.js';
import { listJobs, retryDeadJob } from '../store/outbox.js';
import { listTickets, revokeTicket } from '../store/tickets.js';
import { formatTime, openStore, parseCliArgs, printTable, runCli, UsageError, type CliIo } from './io.js';

const TICKETS_USAGE = `usage: npm run tickets -- <command>

commands:
  list [--all] [--json]         tickets that can still be used (--all: also used, expired and revoked),
                                with issuer, uses, expiry and the usernames requested with each
  revoke <selector>             revoke a ticket (the selector is the part before the dot; see list)
  jobs [--dead] [--json]        account jobs per Jitsi server (--dead: only those that gave up)
  retry <job-id>... | --all-dead
                                put dead jobs back in the queue; a running meet-auth sends them within a second
  audit [--limit N] [--json]    who invited whom: ticketmaster, ticket, username, with timestamps

environment:
  MEET_DATA_DIR   where meet-auth keeps its database (default .meet)`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  all: { type: 'boolean' },
  dead: { type: 'boolean' },
  'all-dead': { type: 'boolean' },
  limit: { type: 'string' },
} as const;

export function runTicketsCli(args: readonly string[], io: CliIo): Promise<number> {
  return runCli(io, 'tickets', TICKETS_USAGE, () => {
    const { values: argv, positionals } = parseCliArgs(args, OPTIONS);
    if (argv.help) {
      io.out(TICKETS_USAGE);
      return;
    }
    const [command, ...rest] = positionals;
    if (command === undefined) throw new UsageError('a command is required');
    if (!['list', 'revoke', 'jobs', 'retry', 'audit'].includes(command))
      throw new UsageError(`unknown command "${command}"`);
    if (command === 'revoke' && rest.length !== 1) throw new UsageError('revoke needs exactly one selector');
    if (command === 'retry' && rest.length === 0 && !argv['all-dead'])
      throw new UsageError('retry needs job ids or --all-dead');
    const limit = argv.limit === undefined ? 100 : Number(argv.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
    const db = openStore(io);
    try {
      switch (command) {
        case 'list': {
          const tickets = listTickets(db, { all: argv.all ?? false });
          if (argv.json) return io.out(JSON.stringify(tickets, null, 2));
          return printTable(
            io,
            ['SELECTOR', 'ISSUER', 'STATE', 'USES', 'CREATED', 'EXPIRES', 'USERNAMES'],
            tickets.map((t) => [
              t.selector,
              t.issuer,
              t.state,
              `${t.uses}/${t.usesAllowed}`,
              formatTime(t.createdAt),
              formatTime(t.expiresAt),
              t.usernames.join(' ') || '-',
            ]),
            argv.all ? 'No tickets.' : 'No usable tickets (use --all to see used, expired and revoked ones).',
          );
        }
        case 'revoke':
          revokeTicket(db, rest[0]!);
          return io.out(`Revoked ticket ${rest[0]}.`);
        case 'jobs': {
          const jobs = listJobs(db, argv.dead ? { status: 'dead' } : {});
          if (argv.json) return io.out(JSON.stringify(jobs, null, 2));
          return printTable(
            io,
            ['JOB', 'SERVER', 'USERNAME', 'STATUS', 'ATTEMPTS', 'UPDATED', 'LAST ERROR'],
            jobs.map((j) => [
              j.id,
              j.server,
              j.username,
              j.status + (j.status === 'dead' && !j.retryable ? ' (seal purged)' : ''),
              String(j.attempts),
              formatTime(j.updatedAt),
              j.lastError ?? '-',
            ]),
            argv.dead ? 'No dead jobs.' : 'No jobs.',
          );
        }
        case 'retry': {
          const ids = argv['all-dead']
            ? listJobs(db, { status: 'dead' })
                .filter((j) => j.retryable)
                .map((j) => j.id)
            : rest;
          const failures: string[] = [];
          for (const id of ids) {
            try {
              retryDeadJob(db, id);
              io.out(`Job ${id} is queued again.`);
            } catch (error) {
              failures.push((error as Error).message);
            }
          }
          if (ids.length === 0) io.err('No dead jobs to retry.');
          if (failures.length > 0) throw new Error(failures.join('\n'));
          return;
        }
        case 'audit': {
          const entries = listAudit(db, limit);
          if (argv.json) return io.out(JSON.stringify(entries, null, 2));
          return printTable(
            io,
            ['AT', 'EVENT', 'TICKETMASTER', 'TICKET', 'USERNAME', 'DETAIL'],
            entries.map((e) => [
              formatTime(e.at),
              e.event,
              e.ticketmaster ?? '-',
              e.ticketSelector ?? '-',
              e.username ?? '-',
              e.detail ?? '-',
            ]),
            'The audit trail is empty.',
          );
        }
      }
    } finally {
      db.close();
    }
  });
}
