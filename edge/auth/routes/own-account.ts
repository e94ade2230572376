/**
 * `/account`: an account's owner changes its password (`POST /account/password`: user, password, new_password) or
 * deletes it (`POST /account/delete`: user, password, confirm), with no admin. The current password is checked by
 * every Jitsi server's agent against its Prosody's stored credentials (a signed, sealed, once-only call; no login),
 * and only a password valid on every server changes anything: a server holding another person's account of that name
 * is never touched. A new password meets the /create rules and is set on every server as an admin reset does; a
 * delete is an admin delete, the name freed once every server confirmed. Both go to the audit trail, never a password.
 *
 * Failed passwords count against the address and against the name-from-that-address pair (as ticketmaster tokens):
 * a stranger's failures elsewhere cannot lock the owner out, and a spent pair or address is refused before any agent
 * is asked. At most two checks run at once per address.
 */
import { Hono, type Context } from 'hono';
import { englishMessage } from '../../i18n/errors.js';
import { checkPassword } from '../../shared/passwords.js';
import { normaliseUsername } from '../../shared/usernames.js';
import { deleteAccount, resetPassword, verifyPassword, type AgentAnswer } from '../admin/agent-calls.js';
import type { AgentConfig } from '../config.js';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { addressKey, InFlightPerKey } from '../limits.js';
import { readFields } from '../middleware/fields.js';
import { accountDonePage, accountPage, type AccountForm } from '../pages/account.js';
import { audit } from '../store/audit.js';
import { recordAccountDeleted, registryEntry } from '../store/registry.js';
import { formErrorOf, renderFormError } from './respond.js';

const CHECKS_PER_ADDRESS = 2;
const CONFIRMED = new Set(['yes', 'true', 'on', '1']);

type Answers<T> = readonly (readonly [AgentConfig, AgentAnswer<T>])[];

async function everyAgent<T>(
  agents: readonly AgentConfig[],
  ask: (agent: AgentConfig) => Promise<AgentAnswer<T>>,
): Promise<Answers<T>> {
  return Promise.all(agents.map(async (agent) => [agent, await ask(agent)] as const));
}

const summary = <T>(answers: Answers<T>) =>
  answers.map(([agent, answer]) => `${agent.name}: ${answer.ok ? String(answer.value) : 'failed'}`).join(', ');

export function ownAccountRoutes(deps: AppDeps) {
  const now = deps.now ?? Date.now;
  const checking = new InFlightPerKey(CHECKS_PER_ADDRESS);

  /** The folded name, once its password is valid on every server; else 400, 403, 429 or 503. */
  async function verifiedOwner(
    c: Context<AuthEnv>,
    rawUser: string | undefined,
    password: string | undefined,
    extra: () => void,
  ): Promise<string> {
    const name = normaliseUsername(rawUser);
    if (!name.ok) throw new AppError('bad_request', { message: name.error, field: 'user' });
    if (!password)
      throw new AppError('bad_request', { message: englishMessage('meet-error-password-required'), field: 'password' });
    extra();
    const address = c.get('clientAddress');
    const credential = `account:${name.username}@${addressKey(address)}`;
    for (const verdict of [
      await deps.limiter.addressBlocked(address),
      await deps.limiter.credentialBlocked(credential),
    ]) {
      if (verdict.limited) {
        deps.metrics.rateLimited.inc({ kind: 'account' });
        throw new AppError('rate_limited', { retryAfter: verdict.retryAfterSeconds });
      }
    }
    const release = checking.enter(addressKey(address));
    if (!release) {
      deps.metrics.rateLimited.inc({ kind: 'account' });
      throw new AppError('rate_limited', { retryAfter: 1 });
    }
    let answers: Answers<'valid' | 'invalid'>;
    try {
      answers = await everyAgent(deps.config.agents, (agent) => verifyPassword(agent, name.username, password));
    } finally {
      release();
    }
    const unreachable = answers.filter(([, answer]) => !answer.ok);
    if (unreachable.length > 0) {
      c.get('log').warn(
        {
          username: name.username,
          servers: unreachable.map(([agent, answer]) => `${agent.name}: ${answer.ok ? '' : answer.reason}`),
        },
        'password check: a server did not answer',
      );
      throw new AppError('unavailable');
    }
    if (answers.some(([, answer]) => answer.ok && answer.value !== 'valid')) {
      deps.metrics.verificationFailures.inc({ kind: 'account' });
      const verdict = await deps.limiter.fail(address, credential);
      c.get('log').info({ username: name.username }, 'account: wrong name or password');
      if (verdict.limited) {
        deps.metrics.rateLimited.inc({ kind: 'account' });
        throw new AppError('rate_limited', { retryAfter: verdict.retryAfterSeconds });
      }
      throw new AppError('bad_account', { field: 'password' });
    }
    return name.username;
  }

  const formBack = (c: Context<AuthEnv>, form: AccountForm, user: string | undefined, error: unknown) =>
    renderFormError(c, error, (e) =>
      c.html(
        accountPage(c.get('i18n'), { form, error: formErrorOf(c, e), ...(user !== undefined ? { user } : {}) }),
        e.status,
      ),
    );

  return new Hono<AuthEnv>()
    .get('/', (c) => c.html(accountPage(c.get('i18n'))))
    .post('/password', async (c) => {
      let user: string | undefined;
      try {
        const fields = await readFields(c, ['user', 'password', 'new_password']);
        user = fields.user;
        const username = await verifiedOwner(c, fields.user, fields.password, () => {
          const folded = normaliseUsername(fields.user);
          const policy = checkPassword(fields.new_password, folded.ok ? folded.username : '');
          if (!policy.ok) throw new AppError('bad_request', { message: policy.error, field: 'new_password' });
        });
        const answers = await everyAgent(deps.config.agents, (agent) =>
          resetPassword(agent, username, fields.new_password!),
        );
        audit(deps.db, {
          at: now(),
          event: 'password-changed',
          username,
          requestId: registryEntry(deps.db, username)?.requestId ?? null,
          detail: `by its owner at /account; ${summary(answers)}`,
        });
        const failed = answers.filter(([, answer]) => !answer.ok || answer.value !== 'changed');
        if (failed.length > 0) {
          c.get('log').warn(
            { username, failed: failed.map(([agent]) => agent.name) },
            'password change did not reach every server',
          );
          throw new AppError('unavailable', { message: englishMessage('meet-error-partial-change') });
        }
        c.get('log').info({ username }, 'password changed by its owner');
        if (c.get('wantsJson')) return c.json({ status: 'changed' });
        return c.html(accountDonePage(c.get('i18n'), 'changed', username));
      } catch (error) {
        return formBack(c, 'password', user, error);
      }
    })
    .post('/delete', async (c) => {
      let user: string | undefined;
      try {
        const fields = await readFields(c, ['user', 'password', 'confirm']);
        user = fields.user;
        const username = await verifiedOwner(c, fields.user, fields.password, () => {
          // A ticked box ("yes"), or the account's own name typed again.
          const confirm = (fields.confirm ?? '').trim();
          const folded = normaliseUsername(fields.user);
          const typed = normaliseUsername(confirm);
          if (!CONFIRMED.has(confirm.toLowerCase()) && !(folded.ok && typed.ok && typed.username === folded.username)) {
            throw new AppError('bad_request', { message: englishMessage('meet-error-confirm'), field: 'confirm' });
          }
        });
        const entry = registryEntry(deps.db, username);
        // A delivery still under way could make the account again after the delete.
        if (entry && entry.pendingOn.length > 0)
          throw new AppError('unavailable', { message: englishMessage('meet-error-still-creating') });
        const answers = await everyAgent(deps.config.agents, (agent) => deleteAccount(agent, username));
        const failed = answers.filter(([, answer]) => !answer.ok);
        const freed = recordAccountDeleted(
          deps.db,
          username,
          `by its owner at /account; ${summary(answers)}`,
          failed.length === 0,
          now(),
        );
        if (failed.length > 0) {
          c.get('log').warn(
            { username, failed: failed.map(([agent]) => agent.name) },
            'own delete did not reach every server; the name stays reserved',
          );
          throw new AppError('unavailable', { message: englishMessage('meet-error-partial-change') });
        }
        c.get('log').info({ username, freed }, 'account deleted by its owner');
        if (c.get('wantsJson')) return c.json({ status: 'deleted' });
        return c.html(accountDonePage(c.get('i18n'), 'deleted', username));
      } catch (error) {
        return formBack(c, 'delete', user, error);
      }
    });
}
