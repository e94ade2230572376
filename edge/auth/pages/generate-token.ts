/** The ticketmaster's form and the page that shows a freshly minted ticket (sent with Cache-Control: no-store). */
import { html } from 'hono/html';
import { DEFAULT_TICKET_HOURS, MAX_TICKET_USES } from '../store/tickets.js';
import { errorBox, layout, type Html } from './layout.js';

export const EXPIRY_CHOICES: readonly { hours: number; label: string }[] = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '1 day' },
  { hours: DEFAULT_TICKET_HOURS, label: '7 days' },
  { hours: 30 * 24, label: '30 days' },
];

export interface GenerateFormState {
  readonly error?: string;
  readonly field?: string;
  readonly hours?: number;
  readonly uses?: number;
}

export function generateTokenPage(state: GenerateFormState = {}): Html {
  const hours = state.hours ?? DEFAULT_TICKET_HOURS;
  return layout(
    { title: 'Make a ticket' },
    html`<h1>Make a ticket</h1>
<p>Ticketmasters make tickets here. Give a ticket to one person; they use it to create their Wikimedia Meet account.</p>
${errorBox(state.error)}
<form method="post" action="/generate_token">
<label for="token">Your ticketmaster token</label>
<input id="token" name="token" type="password" required autocomplete="off" spellcheck="false" aria-describedby="token-hint"
 ${state.field === 'token' ? html`aria-invalid="true"` : ''}>
<p class="hint" id="token-hint">Starts with <code>tm_</code>. An administrator gave it to you.</p>
<div class="row">
<div><label for="expires_in_hours">Valid for</label>
<select id="expires_in_hours" name="expires_in_hours">
${EXPIRY_CHOICES.map((choice) => html`<option value="${choice.hours}"${choice.hours === hours ? ' selected' : ''}>${choice.label}</option>`)}
</select></div>
<div><label for="uses">Accounts it may create</label>
<input id="uses" name="uses" type="number" min="1" max="${MAX_TICKET_USES}" value="${state.uses ?? 1}" required
 ${state.field === 'uses' ? html`aria-invalid="true"` : ''}></div>
</div>
<button type="submit">Make a ticket</button>
</form>`,
  );
}

export function ticketPage(ticket: string, expiresAt: number, uses: number): Html {
  return layout(
    { title: 'Your ticket' },
    html`<h1>Here is the ticket</h1>
<p class="ok" role="status">The ticket was made. It is shown only this once.</p>
<label for="ticket">Ticket</label>
<output id="ticket" class="ticket">${ticket}</output>
<p>Give it to the person privately (not in a public channel). They open <a href="/create">the account page</a> and paste it there.</p>
<p>It can create ${uses === 1 ? 'one account' : `${uses} accounts`} and expires on
<time datetime="${new Date(expiresAt).toISOString()}">${new Date(expiresAt).toUTCString()}</time>.</p>
<p><a href="/generate_token">Make another ticket</a></p>`,
  );
}
