/** The page frame: Wikimedia Meet name, navigation, one stylesheet, no external assets, no script. */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface LayoutOptions {
  readonly title: string;
  /** Seconds after which the page reloads itself (status pages while pending). */
  readonly refreshSeconds?: number;
}

export function layout(options: LayoutOptions, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${options.title} · Wikimedia Meet</title>
<link rel="stylesheet" href="/assets/meet.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><a href="/">Wikimedia Meet</a>
<nav aria-label="Main"><a href="/create">Create an account</a><a href="/generate_token">Make a ticket</a></nav></header>
<main id="main">
${body}
</main>
<footer>Wikimedia Meet accounts · video meetings on Jitsi</footer>
</body>
</html>`;
}

export function errorBox(message: string | undefined): Html | string {
  return message ? html`<p class="error" role="alert" id="form-error">${message}</p>` : '';
}
