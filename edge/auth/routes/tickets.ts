/**
 * `/generate_token`: a ticketmaster turns their token into a ticket, and sees (`/generate_token/tickets`) and revokes
 * (`/generate_token/revoke`) the tickets they made. Each POST carries the token; the same rate limits guard it.
 */
import { Hono, type Context } from 'hono';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { englishMessage } from '../../i18n/errors.js';
import { generateTokenPage, ticketPage, ticketsPage } from '../pages/generate-token.js';
import { revokeOwnTicket, ticketsOf } from '../store/own-tickets.js';
import { ticketmasterIdOf, verifyTicketmasterToken, type Ticketmaster } from '../store/ticketmasters.js';
import {
  DEFAULT_TICKET_HOURS,
  MAX_TICKET_HOURS,
  MAX_TICKET_USES,
  mintTicket,
  type TicketListing,
} from '../store/tickets.js';
import { readFields } from '../middleware/fields.js';
import { addressKey, InFlightPerKey } from '../limits.js';
import { credentialFailure, formErrorOf, renderFormError } from './respond.js';

function wholeNumber(
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  field: 'uses' | 'expires_in_hours',
  what: string,
): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!/^\d{1,6}$/.test(raw.trim()) || value < min || value > max) {
    throw new AppError('bad_request', { message: `${what} must be a whole number from ${min} to ${max}.`, field });
  }
  return value;
}

const SELECTOR = /^[A-Za-z0-9_-]{16}$/;

/** bcrypt verifies in flight per client address (each ~50 ms of a libuv thread at cost 10). */
const BCRYPT_PER_ADDRESS = 2;

/**
 * The ticketmaster a token belongs to. Failures count per id AND address: only failures from where the owner is can
 * lock the owner out. A pair under attack is refused before the bcrypt verify, so a flood cannot burn the CPU; every
 * well-formed token costs one bcrypt verify (unknown ids too), at most a few at once per address.
 */
async function ticketmasterOf(
  c: Context<AuthEnv>,
  deps: AppDeps,
  verifying: InFlightPerKey,
  raw: string | undefined,
): Promise<Ticketmaster> {
  const token = raw?.trim();
  if (!token)
    throw new AppError('bad_request', { message: englishMessage('meet-error-enter-tm-token'), field: 'token' });
  const id = ticketmasterIdOf(token);
  const client = addressKey(c.get('clientAddress'));
  const credential = id ? `${id}@${client}` : null;
  const blocked = credential
    ? await deps.limiter.credentialBlocked(`ticketmaster:${credential}`)
    : { limited: false as const };
  if (blocked.limited) {
    deps.metrics.rateLimited.inc({ kind: 'ticketmaster' });
    throw new AppError('rate_limited', { retryAfter: blocked.retryAfterSeconds });
  }
  const release = id ? verifying.enter(client) : () => undefined;
  if (!release) {
    deps.metrics.rateLimited.inc({ kind: 'ticketmaster' });
    throw new AppError('rate_limited', { retryAfter: 1 });
  }
  let check: Awaited<ReturnType<typeof verifyTicketmasterToken>>;
  try {
    check = await verifyTicketmasterToken(deps.db, token);
  } finally {
    release();
  }
  if (!check.ok) return await credentialFailure(c, deps, 'ticketmaster', credential);
  return check.ticketmaster;
}

/** A ticket as a ticketmaster's list shows it in JSON: never the secret part. */
const listed = (ticket: TicketListing) => ({
  selector: ticket.selector,
  createdAt: new Date(ticket.createdAt).toISOString(),
  expiresAt: new Date(ticket.expiresAt).toISOString(),
  usesAllowed: ticket.usesAllowed,
  usesLeft: Math.max(0, ticket.usesAllowed - ticket.uses),
  state: ticket.state,
  redeemedBy: ticket.usernames,
});

export function ticketRoutes(deps: AppDeps) {
  const now = deps.now ?? Date.now;
  const verifying = new InFlightPerKey(BCRYPT_PER_ADDRESS);
  const formBack = (c: Context<AuthEnv>, error: unknown, hours = DEFAULT_TICKET_HOURS, uses = 1) =>
    renderFormError(c, error, (e) =>
      c.html(generateTokenPage(c.get('i18n'), { error: formErrorOf(c, e), hours, uses }), e.status),
    );
  return new Hono<AuthEnv>()
    .get('/', (c) => c.html(generateTokenPage(c.get('i18n'))))
    .post('/', async (c) => {
      let hours = DEFAULT_TICKET_HOURS;
      let uses = 1;
      try {
        const fields = await readFields(c, ['token', 'uses', 'expires_in_hours']);
        hours = wholeNumber(
          fields.expires_in_hours,
          DEFAULT_TICKET_HOURS,
          1,
          MAX_TICKET_HOURS,
          'expires_in_hours',
          'Expiry in hours',
        );
        uses = wholeNumber(fields.uses, 1, 1, MAX_TICKET_USES, 'uses', 'Uses');
        const ticketmaster = await ticketmasterOf(c, deps, verifying, fields.token);
        const minted = mintTicket(deps.db, ticketmaster, { expiresInHours: hours, uses }, now());
        deps.metrics.ticketsMinted.inc();
        c.get('log').info({ ticketmaster: ticketmaster.name, selector: minted.selector, uses, hours }, 'ticket minted');
        if (c.get('wantsJson')) return c.json({ ticket: minted.ticket });
        const view = { ticket: minted.ticket, expiresAt: minted.expiresAt, uses: minted.usesAllowed };
        return c.html(
          ticketPage(c.get('i18n'), view, fields.token!.trim(), ticketsOf(deps.db, ticketmaster.id, now())),
        );
      } catch (error) {
        return formBack(c, error, hours, uses);
      }
    })
    .post('/tickets', async (c) => {
      try {
        const fields = await readFields(c, ['token']);
        const ticketmaster = await ticketmasterOf(c, deps, verifying, fields.token);
        const tickets = ticketsOf(deps.db, ticketmaster.id, now());
        if (c.get('wantsJson')) return c.json({ tickets: tickets.map(listed) });
        return c.html(ticketsPage(c.get('i18n'), fields.token!.trim(), tickets));
      } catch (error) {
        return formBack(c, error);
      }
    })
    .post('/revoke', async (c) => {
      try {
        const fields = await readFields(c, ['token', 'selector']);
        const ticketmaster = await ticketmasterOf(c, deps, verifying, fields.token);
        const selector = fields.selector?.trim() ?? '';
        // Another's ticket, an unknown one and an already revoked one look the same.
        const revoked = SELECTOR.test(selector) && revokeOwnTicket(deps.db, ticketmaster, selector, now());
        const tickets = ticketsOf(deps.db, ticketmaster.id, now());
        if (!revoked) {
          const error = new AppError('bad_request', {
            message: englishMessage('meet-error-selector'),
            field: 'selector',
          });
          if (c.get('wantsJson')) throw error;
          return c.html(
            ticketsPage(c.get('i18n'), fields.token!.trim(), tickets, undefined, formErrorOf(c, error)),
            400,
          );
        }
        c.get('log').info({ ticketmaster: ticketmaster.name, selector }, 'ticket revoked by its ticketmaster');
        if (c.get('wantsJson')) return c.json({ status: 'revoked', selector });
        return c.html(ticketsPage(c.get('i18n'), fields.token!.trim(), tickets, selector));
      } catch (error) {
        return formBack(c, error);
      }
    });
}
