/** The account form and the status page ("created on K of N servers", reloading itself until done). */
import { html } from 'hono/html';
import { PASSWORD_MIN_CHARS } from '../../shared/passwords.js';
import { USERNAME_RULES } from '../../shared/usernames.js';
import type { RequestView } from '../store/requests.js';
import { errorBox, layout, type Html } from './layout.js';

export interface CreateFormState {
  readonly error?: string;
  readonly field?: string;
  readonly user?: string;
  /** Kept when the ticket was fine and another field was wrong (the response is no-store). */
  readonly token?: string;
}

const invalid = (state: CreateFormState, field: string) => (state.field === field ? html`aria-invalid="true"` : '');

export function createPage(state: CreateFormState = {}): Html {
  return layout(
    { title: 'Create an account' },
    html`<h1>Create your Wikimedia Meet account</h1>
<p>You need a ticket from a ticketmaster. The account lets you start meetings on Wikimedia Meet.</p>
${errorBox(state.error)}
<form method="post" action="/create">
<label for="user">Username</label>
<input id="user" name="user" type="text" required maxlength="64" autocomplete="username" autocapitalize="none" spellcheck="false"
 value="${state.user ?? ''}" aria-describedby="user-hint" ${invalid(state, 'user')}>
<p class="hint" id="user-hint">${USERNAME_RULES} Capitals do not matter: "Alice" and "alice" are the same account.</p>
<label for="password">Password</label>
<input id="password" name="password" type="password" required minlength="${PASSWORD_MIN_CHARS}" autocomplete="new-password"
 aria-describedby="password-hint" ${invalid(state, 'password')}>
<p class="hint" id="password-hint">At least ${PASSWORD_MIN_CHARS} characters; spaces and any script are fine. Do not reuse a password from elsewhere, and do not put your username in it.</p>
<label for="token">Ticket</label>
<input id="token" name="token" type="text" required autocomplete="off" spellcheck="false" value="${state.token ?? ''}"
 aria-describedby="token-hint" ${invalid(state, 'token')}>
<p class="hint" id="token-hint">The ticket a ticketmaster gave you.</p>
<button type="submit">Create account</button>
</form>`,
  );
}

export function statusPage(request: RequestView, xmppDomain: string): Html {
  const total = request.servers.length;
  const created = request.servers.filter((server) => server.status === 'created').length;
  const headline =
    request.status === 'created'
      ? html`<p class="ok" role="status">Your account <strong>${request.username}</strong> is ready: created on ${created} of ${total} servers.</p>
<p>Log in on the Wikimedia Meet Jitsi page when it asks for a login: username <strong>${request.username}@${xmppDomain}</strong>
(or just <strong>${request.username}</strong>) and the password you chose.</p>`
      : request.status === 'failed'
        ? html`<p class="error" role="alert">Your account <strong>${request.username}</strong> could not be created everywhere: created on ${created} of ${total} servers.</p>
${request.ticketReturned
  ? html`<p>Your ticket's use was given back. <a href="/create">Try again</a>, perhaps with another username, or ask a ticketmaster for help.</p>`
  : html`<p>This ticket has failed too often to be given back; ask a ticketmaster for a new one.</p>`}`
        : html`<p role="status">Creating your account <strong>${request.username}</strong>: created on ${created} of ${total} servers so far.</p>
<p>This page reloads itself until it is done.</p>`;
  return layout(
    { title: 'Account status', ...(request.status === 'pending' ? { refreshSeconds: 2 } : {}) },
    html`<h1>Account status</h1>
${headline}
<ul class="servers">
${request.servers.map((server) => html`<li>${server.name}: ${describe(server.status)}</li>`)}
</ul>`,
  );
}

function describe(status: RequestView['servers'][number]['status']): string {
  switch (status) {
    case 'created':
      return 'created';
    case 'pending':
      return 'in progress';
    case 'conflict':
      return 'this name already exists on this server (not changed)';
    case 'dead':
      return 'could not be reached; an administrator can retry it';
    case 'failed':
      return 'this server refused the account (retrying cannot help)';
  }
}
