/** The page for errors that have no form to go back to (404, 500, a form posted from another site). */
import { html } from 'hono/html';
import { layout, type Html } from './layout.js';

export function errorPage(title: string, message: string): Html {
  return layout({ title }, html`<h1>${title}</h1><p class="error" role="alert">${message}</p><p><a href="/">Back to the start</a></p>`);
}
