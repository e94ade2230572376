import { html } from 'hono/html';
import { layout, type Html } from './layout.js';

export function homePage(): Html {
  return layout(
    { title: 'Accounts' },
    html`<h1>Wikimedia Meet accounts</h1>
<p>To start a meeting on Wikimedia Meet you need an account; guests who join a meeting do not.</p>
<p>Ask a ticketmaster for a <strong>ticket</strong>, then <a href="/create">create your account</a> with it.</p>
<p>Ticketmasters <a href="/generate_token">make tickets here</a> with their ticketmaster token.</p>`,
  );
}
