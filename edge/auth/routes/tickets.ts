/** `/generate_token`: a ticketmaster turns their token into a ticket. */
import { Hono } from 'hono';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { generateTokenPage, ticketPage } from '../pages/generate-token.js';
import { ticketmasterIdOf, verifyTicketmasterToken } from '../store/ticketmasters.js';
import { DEFAULT_TICKET_HOURS, MAX_TICKET_HOURS, MAX_TICKET_USES, mintTicket } from '../store/tickets.js';
import { readFields } from '../middleware/fields.js';
import { addressKey, InFlightPerKey } from '../limits.js';
import { credentialFailure, renderFormError } from './respond.js';

function wholeNumber(raw: string | undefined, fallback: number, min: number, max: number, field: 'uses' | 'expires_in_hours', what: string): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!/^\d{1,6}$/.test(raw.trim()) || value < min || value > max) {
    throw new AppError('bad_request', `${what} must be a whole number from ${min} to ${max}.`, field);
  }
  return value;
}

/** bcrypt verifies in flight per client address (each ~50 ms of a libuv thread at cost 10). */
const BCRYPT_PER_ADDRESS = 2;

export function ticketRoutes(deps: AppDeps) {
  const now = deps.now ?? Date.now;
  const verifying = new InFlightPerKey(BCRYPT_PER_ADDRESS);
  return new Hono<AuthEnv>()
    .get('/', (c) => c.html(generateTokenPage()))
    .post('/', async (c) => {
      let hours = DEFAULT_TICKET_HOURS;
      let uses = 1;
      try {
        const fields = await readFields(c, ['token', 'uses', 'expires_in_hours']);
        hours = wholeNumber(fields.expires_in_hours, DEFAULT_TICKET_HOURS, 1, MAX_TICKET_HOURS, 'expires_in_hours', 'Expiry in hours');
        uses = wholeNumber(fields.uses, 1, 1, MAX_TICKET_USES, 'uses', 'Uses');
        const token = fields.token?.trim();
        if (!token) throw new AppError('bad_request', 'Enter your ticketmaster token.', 'token');
        const id = ticketmasterIdOf(token);
        const client = addressKey(c.get('clientAddress'));
        // Failures count per id AND address: only failures from where the owner is can lock the owner out. A pair
        // under attack is refused before the bcrypt verify, so a flood cannot burn the CPU.
        const credential = id ? `${id}@${client}` : null;
        const blocked = credential ? await deps.limiter.credentialBlocked(`ticketmaster:${credential}`) : { limited: false as const };
        if (blocked.limited) {
          deps.metrics.rateLimited.inc({ kind: 'ticketmaster' });
          throw new AppError('rate_limited', undefined, undefined, blocked.retryAfterSeconds);
        }
        // Every well-formed token costs one bcrypt verify (unknown ids too): at most a few at once per address.
        const release = id ? verifying.enter(client) : () => undefined;
        if (!release) {
          deps.metrics.rateLimited.inc({ kind: 'ticketmaster' });
          throw new AppError('rate_limited', undefined, undefined, 1);
        }
        let check: Awaited<ReturnType<typeof verifyTicketmasterToken>>;
        try {
          check = await verifyTicketmasterToken(deps.db, token);
        } finally {
          release();
        }
        if (!check.ok) return await credentialFailure(c, deps, 'ticketmaster', credential);
        const minted = mintTicket(deps.db, check.ticketmaster, { expiresInHours: hours, uses }, now());
        deps.metrics.ticketsMinted.inc();
        c.get('log').info({ ticketmaster: check.ticketmaster.name, selector: minted.selector, uses, hours }, 'ticket minted');
        if (c.get('wantsJson')) return c.json({ ticket: minted.ticket });
        return c.html(ticketPage(minted.ticket, minted.expiresAt, minted.usesAllowed));
      } catch (error) {
        return renderFormError(c, error, (e) => c.html(generateTokenPage({ error: e.message, ...(e.field ? { field: e.field } : {}), hours, uses }), e.status));
      }
    });
}
