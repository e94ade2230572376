/**
 * The weight of every page meet-auth serves, in every language: the HTML as the routes render it (with worst-case
 * content: long names, a ticketmaster with the most tickets the list shows, an error on a form) plus the stylesheet
 * (and the ticket page's script) it loads, each compressed as a response would be (gzip level 6 and brotli).
 * `npm run bench -- pages` prints them; test/scripts/page-weights.test.ts holds every page to the 30 KB budget.
 */
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { LANGUAGES, i18nFor, type Lang } from '../../edge/i18n/index.js';
import { accountDonePage, accountPage } from '../../edge/auth/pages/account.js';
import { COPY_SCRIPT } from '../../edge/auth/pages/copy-script.js';
import { createPage, statusPage } from '../../edge/auth/pages/create.js';
import { errorPage } from '../../edge/auth/pages/error.js';
import { generateTokenPage, ticketPage, ticketsPage } from '../../edge/auth/pages/generate-token.js';
import { homePage } from '../../edge/auth/pages/home.js';
import type { Html } from '../../edge/auth/pages/layout.js';
import { STYLESHEET } from '../../edge/auth/pages/style.js';
import { MAX_OWN_TICKETS } from '../../edge/auth/store/own-tickets.js';
import type { TicketListing } from '../../edge/auth/store/tickets.js';

export const PAGE_BUDGET_BYTES = 30 * 1024;

export interface PageWeight {
  readonly page: string;
  readonly lang: Lang;
  readonly htmlBytes: number;
  /** gzip of the page, plus gzip of each asset it loads. */
  readonly gzipBytes: number;
  readonly brotliBytes: number;
}

const NOW = Date.UTC(2026, 0, 15, 9, 30);
const LONG_NAME = 'a'.repeat(60) + '.zz';
const TICKET = `${'S'.repeat(16)}.${'v'.repeat(43)}`;
const TOKEN = `tm_${'i'.repeat(16)}.${'s'.repeat(43)}`;

/** Random text (compresses as real selectors and names do, unlike a repeated sample). */
const random = (chars: number) =>
  randomBytes(chars)
    .toString('base64url')
    .slice(0, chars)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');

/** The most a ticketmaster's list holds, each redeemed by names of 30 characters, three uses each. */
function manyTickets(): TicketListing[] {
  return Array.from({ length: MAX_OWN_TICKETS }, (_, index) => ({
    selector: randomBytes(12).toString('base64url'),
    issuer: 'Ada',
    createdAt: NOW - index * 3_600_000 - randomBytes(2).readUInt16BE(),
    expiresAt: NOW + 7 * 86_400_000,
    usesAllowed: 3,
    uses: index % 4 === 0 ? 0 : 3,
    revokedAt: null,
    state: index % 4 === 0 ? 'active' : 'used',
    usernames: index % 4 === 0 ? [] : [random(30), random(30), random(30)],
  }));
}

function pagesOf(lang: Lang): Record<string, { html: Html; assets: readonly string[] }> {
  const i18n = i18nFor(lang, true);
  const way = { meetingUrl: 'https://meet.wmcloud.org/', xmppDomain: 'meet.jitsi' };
  const servers = Array.from({ length: 8 }, (_, index) => ({ name: `jitsi-${index}`, status: 'created' as const }));
  const request = (status: 'pending' | 'created' | 'failed') => ({
    id: 'r'.repeat(22),
    username: LONG_NAME,
    status,
    ticketReturned: true,
    servers,
  });
  const error = { message: i18n.text('meet-error-username-characters'), field: 'user' };
  const css = [STYLESHEET];
  return {
    home: { html: homePage(i18n), assets: css },
    create: { html: createPage(i18n, { error, user: LONG_NAME, token: TICKET }), assets: css },
    'status-pending': { html: statusPage(i18n, request('pending'), way, '/status/x'), assets: css },
    'status-created': { html: statusPage(i18n, request('created'), way, '/status/x'), assets: css },
    'status-failed': { html: statusPage(i18n, request('failed'), way, '/status/x'), assets: css },
    'generate-token': {
      html: generateTokenPage(i18n, { error: { message: i18n.text('meet-error-bad-credentials'), field: 'token' } }),
      assets: css,
    },
    ticket: {
      html: ticketPage(i18n, { ticket: TICKET, expiresAt: NOW, uses: 3 }, TOKEN, manyTickets()),
      assets: [STYLESHEET, COPY_SCRIPT],
    },
    tickets: { html: ticketsPage(i18n, TOKEN, manyTickets(), 'sel0000000000000'), assets: css },
    account: {
      html: accountPage(i18n, {
        form: 'password',
        error: { message: i18n.text('meet-error-bad-account'), field: 'password' },
        user: LONG_NAME,
      }),
      assets: css,
    },
    'account-done': { html: accountDonePage(i18n, 'deleted', LONG_NAME), assets: css },
    error: { html: errorPage(i18n, true, i18n.text('meet-error-not-found')), assets: css },
  };
}

export async function pageWeights(): Promise<PageWeight[]> {
  const weights: PageWeight[] = [];
  for (const lang of Object.keys(LANGUAGES) as Lang[]) {
    for (const [page, { html, assets }] of Object.entries(pagesOf(lang))) {
      const text = String(await html);
      const parts = [text, ...assets].map((part) => Buffer.from(part, 'utf8'));
      weights.push({
        page,
        lang,
        htmlBytes: parts[0]!.length,
        gzipBytes: parts.reduce((sum, part) => sum + gzipSync(part, { level: 6 }).length, 0),
        brotliBytes: parts.reduce((sum, part) => sum + brotliCompressSync(part).length, 0),
      });
    }
  }
  return weights;
}
