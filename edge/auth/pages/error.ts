/** The page for errors that have no form to go back to (404, 500, a form posted from another site). */
import { html } from 'hono/html';
import type { I18n } from '../../i18n/index.js';
import { layout, message, type Html } from './layout.js';

export function errorPage(i18n: I18n, notFound: boolean, text: string): Html {
  const title = notFound ? 'meet-error-not-found-title' : 'meet-error-title';
  return layout(
    i18n,
    { title },
    html`<h1>${i18n.t(title)}</h1>${message('error', html`<p>${text}</p>`, undefined, i18n.text('meet-error-prefix'))}<p><a href="${i18n.href('/')}">${i18n.t('meet-back-home')}</a></p>`,
  );
}
