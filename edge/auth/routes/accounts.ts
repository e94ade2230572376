/** `/create` (redeem a ticket for an account) and `/status/:id` (how far the account got on each server). */
import { Hono } from 'hono';
import { seal, sealContext } from '../../shared/sealing.js';
import { checkPassword } from '../../shared/passwords.js';
import { lookalikeProblem } from '../../shared/lookalikes.js';
import { normaliseUsername } from '../../shared/usernames.js';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { readFields } from '../middleware/fields.js';
import { createPage, statusPage } from '../pages/create.js';
import { randomId } from '../store/ids.js';
import { getRequest, isLookalikeReserved, isUsernameTaken, redeemSoon } from '../store/requests.js';
import { checkTicket } from '../store/tickets.js';
import { credentialFailure, formErrorOf, renderFormError } from './respond.js';

const REQUEST_ID = /^[A-Za-z0-9_-]{22}$/;
const LOOKALIKE_MESSAGE =
  'That username looks too much like one that is taken. Choose another; your ticket is still valid.';

export function accountRoutes(deps: AppDeps) {
  const now = deps.now ?? Date.now;
  return new Hono<AuthEnv>()
    .get('/create', (c) => c.html(createPage(c.get('i18n'))))
    .post('/create', async (c) => {
      let user: string | undefined;
      let keepToken: string | undefined;
      try {
        const fields = await readFields(c, ['user', 'password', 'token']);
        user = fields.user;
        const token = fields.token?.trim();
        if (!token)
          throw new AppError('bad_request', { message: 'Enter the ticket a ticketmaster gave you.', field: 'token' });
        // The ticket first: nobody without one learns anything about usernames.
        const ticket = checkTicket(deps.db, token, now());
        if (!ticket.ok) {
          deps.metrics.redemptions.inc({ outcome: 'bad_ticket' });
          return await credentialFailure(c, deps, 'ticket', ticket.credential);
        }
        keepToken = token;
        const name = normaliseUsername(fields.user);
        if (!name.ok) throw new AppError('bad_request', { message: name.error, field: 'user' });
        const lookalike = lookalikeProblem(name.username);
        if (lookalike) throw new AppError('bad_request', { message: lookalike, field: 'user' });
        const password = checkPassword(fields.password, name.username);
        if (!password.ok) throw new AppError('bad_request', { message: password.error, field: 'password' });
        if (isUsernameTaken(deps.db, name.username)) throw new AppError('username_taken', { field: 'user' });
        if (isLookalikeReserved(deps.db, name.username))
          throw new AppError('username_taken', { message: LOOKALIKE_MESSAGE, field: 'user' });

        const requestId = randomId(16);
        const jobs = deps.config.agents.map((agent) => {
          const id = randomId(16);
          return {
            id,
            server: agent.name,
            sealedPassword: seal(agent.sealingPublicKey, fields.password!, sealContext(id, name.username)),
          };
        });
        const outcome = await redeemSoon(deps.db, {
          requestId,
          selector: ticket.selector,
          issuer: ticket.issuer,
          username: name.username,
          jobs,
          now: now(),
        });
        if (!outcome.ok) {
          // Lost a race: another request took the ticket's last use or the name a moment ago.
          deps.metrics.redemptions.inc({ outcome: outcome.reason === 'ticket' ? 'raced' : 'taken' });
          if (outcome.reason === 'ticket') throw new AppError('bad_credentials', { field: 'token' });
          throw new AppError('username_taken', {
            message: outcome.reason === 'lookalike' ? LOOKALIKE_MESSAGE : undefined,
            field: 'user',
          });
        }
        deps.dispatcher.storage.wrote();
        deps.metrics.redemptions.inc({ outcome: 'accepted' });
        c.get('log').info(
          { request: requestId, username: name.username, selector: ticket.selector, issuer: ticket.issuer },
          'ticket redeemed',
        );
        deps.dispatcher.kick(jobs.map((job) => job.id));
        const status = await deps.dispatcher.waitForRequest(requestId, deps.config.holdMs);
        if (c.get('wantsJson')) return c.json({ request: requestId, status }, 202);
        return c.redirect(c.get('i18n').href(`/status/${requestId}`), 303);
      } catch (error) {
        return renderFormError(c, error, (e) =>
          c.html(
            createPage(c.get('i18n'), {
              error: formErrorOf(c, e),
              ...(user !== undefined ? { user } : {}),
              // Only a ticket that was fine is put back in the form.
              ...(keepToken !== undefined && e.code !== 'bad_credentials' ? { token: keepToken } : {}),
            }),
            e.status,
          ),
        );
      }
    })
    .get('/status/:id', (c) => {
      const id = c.req.param('id');
      const request = REQUEST_ID.test(id) ? getRequest(deps.db, id) : null;
      if (!request) throw new AppError('not_found', { message: 'No account request has that id.' });
      if (c.get('wantsJson')) {
        return c.json({
          status: request.status,
          servers: request.servers.map(({ name, status }) => ({ name, status })),
        });
      }
      const way = { meetingUrl: deps.config.meetingUrl, xmppDomain: deps.config.xmppDomain };
      return c.html(statusPage(c.get('i18n'), request, way, `/status/${id}`));
    });
}
