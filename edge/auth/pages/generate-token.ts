/**
 * The ticketmaster's pages: the token form, a freshly minted ticket (sent with Cache-Control: no-store), and the
 * list of the ticketmaster's own tickets with a revoke button on each valid one. Without a session, the list's
 * forms carry the token in a hidden field of this no-store page, as the /create form keeps a valid ticket.
 */
import { html } from 'hono/html';
import type { I18n } from '../../i18n/index.js';
import { DEFAULT_TICKET_HOURS, MAX_TICKET_USES, type TicketListing } from '../store/tickets.js';
import { formField, formPage, textInput } from './form.js';
import { errorSummary, layout, message, primaryButton, type FormError, type Html } from './layout.js';

const EXPIRY_CHOICES: readonly number[] = [1, 24, DEFAULT_TICKET_HOURS, 30 * 24];

export interface GenerateFormState {
  readonly error?: FormError;
  readonly hours?: number;
  readonly uses?: number;
}

const expiryLabel = (i18n: I18n, hours: number) =>
  hours % 24 === 0 ? i18n.text('meet-expiry-days', hours / 24) : i18n.text('meet-expiry-hours', hours);

export function generateTokenPage(i18n: I18n, state: GenerateFormState = {}): Html {
  const hours = state.hours ?? DEFAULT_TICKET_HOURS;
  const ids = { token: 'token', uses: 'uses', expires_in_hours: 'expires_in_hours' };
  return formPage(
    i18n,
    {
      title: 'meet-ticketmaster-title',
      heading: 'meet-ticketmaster-heading',
      intro: 'meet-ticketmaster-intro',
      path: '/generate_token',
    },
    state.error,
    ids,
    html`${formField(state.error, 'token', {
      label: i18n.t('meet-field-tm-token'),
      hint: i18n.t('meet-field-tm-token-hint', html`<code>tm_</code>`),
      control: (a) => textInput(a, html`type="password" required autocomplete="off" spellcheck="false" dir="ltr"`),
    })}
<div class="row">
${formField(state.error, 'expires_in_hours', {
  label: i18n.t('meet-field-valid-for'),
  control: (a) => html`<select class="cdx-select" ${a}>
${EXPIRY_CHOICES.map((choice) => html`<option value="${choice}"${choice === hours ? ' selected' : ''}>${expiryLabel(i18n, choice)}</option>`)}
</select>`,
})}
${formField(state.error, 'uses', {
  label: i18n.t('meet-field-uses'),
  control: (a) =>
    textInput(a, html`type="number" min="1" max="${MAX_TICKET_USES}" value="${state.uses ?? 1}" required`),
})}
</div>
<div class="actions">${primaryButton(i18n.t('meet-ticketmaster-submit'))}
<button type="submit" class="cdx-button" formaction="${i18n.href('/generate_token/tickets')}">${i18n.t('meet-ticketmaster-list-submit')}</button></div>`,
  );
}

export interface MintedView {
  readonly ticket: string;
  readonly expiresAt: number;
  readonly uses: number;
}

/** The new ticket (selectable in one click; a copy button when scripts run), then the ticketmaster's tickets. */
export function ticketPage(i18n: I18n, minted: MintedView, token: string, tickets: readonly TicketListing[]): Html {
  return layout(
    i18n,
    { title: 'meet-ticket-title', scripts: ['copy.js'], path: '/generate_token' },
    html`<h1>${i18n.t('meet-ticket-heading')}</h1>
${message('success', html`<p>${i18n.t('meet-ticket-made')}</p>`)}
<p class="cdx-label" id="ticket-label">${i18n.t('meet-ticket-label')}</p>
<code id="ticket" class="ticket" aria-labelledby="ticket-label" aria-describedby="ticket-select-hint">${minted.ticket}</code>
<p class="cdx-field__help-text" id="ticket-select-hint">${i18n.t('meet-ticket-select-hint')}</p>
<div class="actions"><button type="button" class="cdx-button" id="copy-ticket" data-copy="ticket" data-copied="${i18n.text('meet-ticket-copied')}" hidden>${i18n.t('meet-ticket-copy')}</button>
<span id="copy-status" role="status"></span></div>
<p>${i18n.t('meet-ticket-give', html`<a href="${i18n.href('/create')}">${i18n.t('meet-ticket-give-link')}</a>`)}</p>
<p>${i18n.t('meet-ticket-terms', minted.uses, html`<time datetime="${new Date(minted.expiresAt).toISOString()}">${i18n.date(minted.expiresAt)}</time>`)}</p>
<p><a href="${i18n.href('/generate_token')}">${i18n.t('meet-ticket-another')}</a></p>
${ticketTable(i18n, token, tickets)}`,
  );
}

export function ticketsPage(
  i18n: I18n,
  token: string,
  tickets: readonly TicketListing[],
  revoked?: string,
  error?: FormError,
): Html {
  return layout(
    i18n,
    { title: 'meet-tickets-title', path: '/generate_token' },
    html`${revoked ? message('success', html`<p>${i18n.t('meet-tickets-revoked', html`<code>${revoked}</code>`)}</p>`) : ''}
${errorSummary(i18n, error)}
${ticketTable(i18n, token, tickets, 'h1')}
<p><a href="${i18n.href('/generate_token')}">${i18n.t('meet-ticket-another')}</a></p>`,
  );
}

function ticketTable(i18n: I18n, token: string, tickets: readonly TicketListing[], heading: 'h1' | 'h2' = 'h2'): Html {
  const title =
    heading === 'h1'
      ? html`<h1 id="tickets-heading">${i18n.t('meet-tickets-heading')}</h1>`
      : html`<h2 id="tickets-heading">${i18n.t('meet-tickets-heading')}</h2>`;
  if (tickets.length === 0) return html`${title}<p>${i18n.t('meet-tickets-none')}</p>`;
  return html`${title}
<p>${i18n.t('meet-tickets-intro')}</p>
<div class="cdx-table" role="region" aria-labelledby="tickets-heading" tabindex="0"><table aria-labelledby="tickets-heading">
<thead><tr><th scope="col">${i18n.t('meet-tickets-col-ticket')}</th><th scope="col">${i18n.t('meet-tickets-col-made')}</th><th scope="col">${i18n.t('meet-tickets-col-expires')}</th><th scope="col">${i18n.t('meet-tickets-col-uses')}</th><th scope="col">${i18n.t('meet-tickets-col-state')}</th><th scope="col">${i18n.t('meet-tickets-col-redeemed')}</th><th scope="col">${i18n.t('meet-tickets-col-action')}</th></tr></thead>
<tbody>
${tickets.map(
  (ticket) => html`<tr id="ticket-${ticket.selector}">
<td><code class="ltr">${ticket.selector}</code></td>
<td><time datetime="${new Date(ticket.createdAt).toISOString()}">${i18n.date(ticket.createdAt)}</time></td>
<td><time datetime="${new Date(ticket.expiresAt).toISOString()}">${i18n.date(ticket.expiresAt)}</time></td>
<td>${i18n.t('meet-tickets-uses-left', Math.max(0, ticket.usesAllowed - ticket.uses), ticket.usesAllowed)}</td>
<td>${i18n.t(`meet-ticket-state-${ticket.state}`)}</td>
<td>${ticket.usernames.length > 0 ? ticket.usernames.map((name, index) => html`${index > 0 ? ', ' : ''}<bdi>${name}</bdi>`) : i18n.t('meet-tickets-nobody')}</td>
<td>${
    ticket.state === 'active'
      ? html`<form method="post" action="${i18n.href('/generate_token/revoke')}"><input type="hidden" name="token" value="${token}"><input type="hidden" name="selector" value="${ticket.selector}"><button type="submit" class="cdx-button cdx-button--action-destructive">${i18n.t('meet-tickets-revoke', html`<span class="sr-only">${ticket.selector}</span>`)}</button></form>`
      : ''
  }</td>
</tr>`,
)}
</tbody></table></div>`;
}
