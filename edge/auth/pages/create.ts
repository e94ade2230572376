/** The account form and the status page ("created on K of N servers", reloading itself until done, then the way in). */
import { html } from 'hono/html';
import type { I18n } from '../../i18n/index.js';
import { PASSWORD_MIN_CHARS } from '../../shared/passwords.js';
import { USERNAME_MAX_CHARS } from '../../shared/usernames.js';
import type { RequestView } from '../store/requests.js';
import { formField, formPage, textInput } from './form.js';
import { layout, message, primaryButton, type FormError, type Html } from './layout.js';

export interface CreateFormState {
  readonly error?: FormError;
  readonly user?: string;
  /** Kept when the ticket was fine and another field was wrong (the response is no-store). */
  readonly token?: string;
}

export function createPage(i18n: I18n, state: CreateFormState = {}): Html {
  const ids = { user: 'user', password: 'password', token: 'token' };
  return formPage(
    i18n,
    { title: 'meet-create-title', heading: 'meet-create-heading', intro: 'meet-create-intro', path: '/create' },
    state.error,
    ids,
    html`${formField(state.error, 'user', {
      label: i18n.t('meet-field-username'),
      hint: html`${i18n.t('meet-username-rules', USERNAME_MAX_CHARS)} ${i18n.t('meet-field-username-hint')}`,
      control: (a) =>
        textInput(
          a,
          html`type="text" required maxlength="64" autocomplete="username" autocapitalize="none" spellcheck="false" dir="auto" value="${state.user ?? ''}"`,
        ),
    })}
${formField(state.error, 'password', {
  label: i18n.t('meet-field-password'),
  hint: i18n.t('meet-field-password-hint', PASSWORD_MIN_CHARS),
  control: (a) =>
    textInput(
      a,
      html`type="password" required minlength="${PASSWORD_MIN_CHARS}" autocomplete="new-password" dir="auto"`,
    ),
})}
${formField(state.error, 'token', {
  label: i18n.t('meet-field-ticket'),
  hint: i18n.t('meet-field-ticket-hint'),
  control: (a) =>
    textInput(
      a,
      html`type="text" required autocomplete="off" spellcheck="false" dir="ltr" value="${state.token ?? ''}"`,
    ),
})}
<div class="actions">${primaryButton(i18n.t('meet-create-submit'))}</div>`,
  );
}

export interface WayIn {
  /** The public meeting site (MEET_MEETING_URL). */
  readonly meetingUrl: string;
  readonly xmppDomain: string;
}

export function statusPage(i18n: I18n, request: RequestView, way: WayIn, path: string): Html {
  const total = request.servers.length;
  const created = request.servers.filter((server) => server.status === 'created').length;
  const name = html`<strong><bdi>${request.username}</bdi></strong>`;
  const headline =
    request.status === 'created'
      ? html`${message('success', html`<p>${i18n.t('meet-status-ready', name, created, total)}</p>`)}
<p><a class="cdx-button cdx-button--action-progressive cdx-button--weight-primary" href="${way.meetingUrl}" id="meeting-link">${i18n.t('meet-status-go')}</a></p>
<p>${i18n.t('meet-status-login-web', html`<strong class="ltr">${request.username}@${way.xmppDomain}</strong>`, html`<strong><bdi>${request.username}</bdi></strong>`)}</p>
<p>${i18n.t('meet-status-login-apps', html`<code class="ltr">${way.meetingUrl}</code>`)}</p>`
      : request.status === 'failed'
        ? html`${message('error', html`<p>${i18n.t('meet-status-failed', name, created, total)}</p>`, undefined, i18n.text('meet-error-prefix'))}
${
  request.ticketReturned
    ? html`<p>${i18n.t('meet-status-failed-next', html`<a href="${i18n.href('/create')}">${i18n.t('meet-status-try-again')}</a>`)}</p>`
    : html`<p>${i18n.t('meet-status-failed-spent')}</p>`
}`
        : html`${message('notice', html`<p>${i18n.t('meet-status-pending', name, created, total)}</p>`)}
<p>${i18n.t('meet-status-reloads')}</p>`;
  return layout(
    i18n,
    { title: 'meet-status-title', path, ...(request.status === 'pending' ? { refreshSeconds: 2 } : {}) },
    html`<h1>${i18n.t('meet-status-title')}</h1>
${headline}
<h2>${i18n.t('meet-status-servers')}</h2>
<ul class="servers">
${request.servers.map((server) => html`<li>${i18n.t('meet-status-server', html`<bdi>${server.name}</bdi>`, i18n.text(`meet-server-${server.status}`))}</li>`)}
</ul>`,
  );
}
