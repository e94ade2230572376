/** `npm run ticketmaster -- add <name> | list | revoke <name>`: per-person ticketmaster credentials. */
import { isBlank } from '../../../common/config.js';
import { addTicketmaster, DEFAULT_BCRYPT_COST, listTicketmasters, revokeTicketmaster } from '../store/ticketmasters.js';
import { formatTime, openStore, parseCliArgs, printTable, runCli, UsageError, type CliIo } from './io.js';

const TICKETMASTER_USAGE = `usage: npm run ticketmaster -- <command>

commands:
  add <name>      add a ticketmaster; prints their token alone on the last line of stdout (shown only once)
  list [--json]   list ticketmasters with how many tickets they issued and accounts were requested with them
  revoke <name>   revoke a ticketmaster and void their tickets that still have uses left

environment:
  MEET_DATA_DIR     where meet-auth keeps its database (default .meet)
  MEET_BCRYPT_COST  bcrypt cost for new tokens, 4 to 15 (default ${DEFAULT_BCRYPT_COST})

A running meet-auth accepts a new token at once (same database).`;

function bcryptCost(io: CliIo): number {
  const raw = io.env.MEET_BCRYPT_COST;
  if (isBlank(raw)) return DEFAULT_BCRYPT_COST;
  const cost = Number(raw);
  if (!Number.isInteger(cost) || cost < 4 || cost > 15)
    throw new UsageError('MEET_BCRYPT_COST must be a whole number from 4 to 15');
  return cost;
}

export function runTicketmasterCli(args: readonly string[], io: CliIo): Promise<number> {
  return runCli(io, 'ticketmaster', TICKETMASTER_USAGE, async () => {
    const { values: argv, positionals } = parseCliArgs(args, {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
    });
    const [command, ...rest] = positionals;
    if (argv.help) {
      io.out(TICKETMASTER_USAGE);
      return;
    }
    const name = rest.join(' ');
    switch (command) {
      case 'add': {
        if (!name) throw new UsageError("add needs the ticketmaster's name");
        const cost = bcryptCost(io);
        const db = openStore(io);
        try {
          const token = await addTicketmaster(db, name, cost);
          io.err(
            `Added ticketmaster "${name.trim()}". Their token is on the next line; it is shown only now. Give it to them privately.`,
          );
          io.out(token);
        } finally {
          db.close();
        }
        return;
      }
      case 'list': {
        const db = openStore(io);
        try {
          const rows = listTicketmasters(db);
          if (argv.json) {
            io.out(
              JSON.stringify(
                rows.map(({ id: _id, ...row }) => row),
                null,
                2,
              ),
            );
            return;
          }
          printTable(
            io,
            ['NAME', 'STATUS', 'ADDED', 'TICKETS', 'ACCOUNTS'],
            rows.map((row) => [
              row.name,
              row.revokedAt === null ? 'active' : `revoked ${formatTime(row.revokedAt)}`,
              formatTime(row.createdAt),
              String(row.ticketsIssued),
              String(row.accountsRequested),
            ]),
            'No ticketmasters yet. Add one with: npm run ticketmaster -- add <name>',
          );
        } finally {
          db.close();
        }
        return;
      }
      case 'revoke': {
        if (!name) throw new UsageError("revoke needs the ticketmaster's name");
        const db = openStore(io);
        try {
          const voided = revokeTicketmaster(db, name);
          io.out(`Revoked ticketmaster "${name.trim()}"; ${voided} unredeemed ticket(s) voided.`);
        } finally {
          db.close();
        }
        return;
      }
      case undefined:
        throw new UsageError('a command is required');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  });
}
