import { html } from 'hono/html';
import type { I18n } from '../../i18n/index.js';
import { layout, type Html } from './layout.js';

export function homePage(i18n: I18n): Html {
  const link = (
    path: string,
    key: 'meet-home-ticket-link' | 'meet-home-ticketmasters-link' | 'meet-home-account-link',
  ) => html`<a href="${i18n.href(path)}">${i18n.t(key)}</a>`;
  return layout(
    i18n,
    { title: 'meet-home-title', path: '/' },
    html`<h1>${i18n.t('meet-home-heading')}</h1>
<p>${i18n.t('meet-home-intro')}</p>
<p>${i18n.t('meet-home-ticket', link('/create', 'meet-home-ticket-link'))}</p>
<p>${i18n.t('meet-home-ticketmasters', link('/generate_token', 'meet-home-ticketmasters-link'))}</p>
<p>${i18n.t('meet-home-account', link('/account', 'meet-home-account-link'))}</p>`,
  );
}
