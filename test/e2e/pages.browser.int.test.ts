/**
 * The pages end to end in Debian's Chromium (playwright-core) against the local stack with real Prosody 13, in English
 * and in Arabic (right to left), with and without JavaScript (German without): a ticketmaster mints a ticket, a newcomer redeems it
 * (keyboard only), the status page turns to created and links to the meeting site, the account logs in over XMPP;
 * the owner changes the password (new login works, old fails) and deletes the account (login fails, the name is
 * free again); the ticketmaster lists and revokes tickets. Every form error is checked next to its field,
 * in the page's language, focused. axe-core runs on every page (no serious or critical violation), and every page is
 * saved as a screenshot under test-results/screenshots/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { i18nFor, type Lang, type MessageKey } from '../../edge/i18n/index.js';
import { PASSWORD_MIN_CHARS } from '../../edge/shared/passwords.js';
import { launchChromium, screenshot, seriousViolations } from '../support/browser.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { xmppLogin } from '../support/xmpp.js';

const MEETING_URL = 'https://meet.example.org/';
let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  // Behind a "proxy" on loopback: each run below speaks from an address of its own (rate limits stay apart).
  stack = await startTestStack({ authEnv: { MEET_MEETING_URL: MEETING_URL, MEET_TRUSTED_PROXIES: '127.0.0.1' } });
  browser = await launchChromium();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
});

const login = (username: string, password: string) => xmppLogin({ port: stack.prosody.c2sPort, username, password });

const RUNS = [
  { lang: 'en', js: true, address: '192.0.2.101' },
  { lang: 'en', js: false, address: '192.0.2.102' },
  { lang: 'ar', js: true, address: '192.0.2.103' },
  { lang: 'ar', js: false, address: '192.0.2.104' },
  // The third language: every page checked and saved too.
  { lang: 'de', js: false, address: '192.0.2.105' },
] as const satisfies readonly { lang: Lang; js: boolean; address: string }[];

for (const run of RUNS) {
  const mode = run.js ? 'js' : 'nojs';
  describe(`${run.lang}, ${run.js ? 'with' : 'without'} JavaScript`, { timeout: 120_000 }, () => {
    const i18n = i18nFor(run.lang);
    const t = (key: MessageKey, ...params: (string | number)[]) => i18n.text(key, ...params);
    const user = `Pages.${run.lang}.${mode}`;
    const folded = user.toLowerCase();
    const password = `first secret ${run.lang} ${mode} 1`;
    const newPassword = `second secret ${run.lang} ${mode} 2`;
    let context: BrowserContext;
    /** Where axe runs for the pages of a run without JavaScript (see seriousViolations). */
    let axeContext: BrowserContext | undefined;
    let page: Page;
    let ticket = '';

    beforeAll(async () => {
      context = await browser.newContext({
        javaScriptEnabled: run.js,
        locale: run.lang,
        extraHTTPHeaders: { 'x-forwarded-for': run.address },
        viewport: { width: 800, height: 900 },
      });
      if (run.js)
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
          origin: new URL(stack.authUrl).origin,
        });
      page = await context.newPage();
      if (!run.js)
        axeContext = await browser.newContext({
          locale: run.lang,
          extraHTTPHeaders: { 'x-forwarded-for': run.address },
          viewport: { width: 800, height: 900 },
        });
    });
    afterAll(async () => {
      await context?.close();
      await axeContext?.close();
    });

    /** The page is in the run's language and direction, passes axe, and is saved for review. */
    async function checkPage(name: string) {
      expect(await page.getAttribute('html', 'lang')).toBe(run.lang);
      expect(await page.getAttribute('html', 'dir')).toBe(run.lang === 'ar' ? 'rtl' : 'ltr');
      expect(await seriousViolations(page, axeContext), `${name}: axe`).toEqual([]);
      await screenshot(page, `${run.lang}-${mode}-${name}`);
    }

    /** The error sits next to its field, is tied to it (aria-describedby, aria-invalid), and the field has the focus. */
    async function expectFieldError(id: string, message: string) {
      const shown = page.locator(`#${id}-error`);
      expect(await shown.isVisible(), `#${id}-error visible`).toBe(true);
      expect(await shown.textContent()).toContain(message);
      expect((await page.getAttribute(`#${id}`, 'aria-describedby'))?.split(' ')).toContain(`${id}-error`);
      expect(await page.getAttribute(`#${id}`, 'aria-invalid')).toBe('true');
      expect(await page.evaluate('document.activeElement?.id')).toBe(id);
      expect(await page.getByRole('alert').first().isVisible()).toBe(true);
    }

    const submit = (name: string) =>
      Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name, exact: true }).click()]);

    it('home and a page that does not exist', async () => {
      await page.goto(`${stack.authUrl}/`);
      expect(await page.locator('h1').textContent()).toBe(t('meet-home-heading'));
      await checkPage('home');
      const missing = await page.goto(`${stack.authUrl}/no/such/page`);
      expect(missing?.status()).toBe(404);
      expect(await page.locator('main').textContent()).toContain(t('meet-error-not-found'));
      await checkPage('not-found');
    });

    it('a ticketmaster mints a ticket; token and uses errors are shown next to their fields', async () => {
      await page.goto(`${stack.authUrl}/generate_token`);
      await checkPage('generate-token');
      await page.getByLabel(t('meet-field-tm-token')).fill('tm_wrong.token');
      await submit(t('meet-ticketmaster-submit'));
      await expectFieldError('token', t('meet-error-bad-credentials'));
      await checkPage('generate-token-error');

      await page.getByLabel(t('meet-field-tm-token')).fill(stack.ticketmasterToken);
      await page.getByLabel(t('meet-field-uses')).fill('101');
      await submit(t('meet-ticketmaster-submit'));
      await expectFieldError('uses', t('meet-error-whole-number', t('meet-error-uses-name'), 1, 100));

      await page.getByLabel(t('meet-field-tm-token')).fill(stack.ticketmasterToken);
      await page.getByLabel(t('meet-field-uses')).fill('1');
      await page.getByLabel(t('meet-field-valid-for')).selectOption({ label: t('meet-expiry-days', 1) });
      await submit(t('meet-ticketmaster-submit'));
      ticket = (await page.locator('#ticket').textContent())!.trim();
      expect(ticket).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
      expect(page.url()).not.toContain(ticket);
      expect(await page.getByRole('status').first().textContent()).toContain(t('meet-ticket-made'));
      // The ticketmaster's own tickets follow, this one among them, without its secret part.
      const row = page.locator(`#ticket-${ticket.split('.')[0]}`);
      expect(await row.isVisible()).toBe(true);
      expect(await page.locator('table').textContent()).not.toContain(ticket.split('.')[1]);
      // Selectable as text in one click without a script; the copy button only with one.
      expect(await page.evaluate('getComputedStyle(document.getElementById("ticket")).userSelect')).toBe('all');
      const copy = page.getByRole('button', { name: t('meet-ticket-copy') });
      if (run.js) {
        await copy.click();
        await page.locator('#copy-status', { hasText: t('meet-ticket-copied') }).waitFor();
        expect(await page.evaluate('navigator.clipboard.readText()')).toBe(ticket);
      } else {
        expect(await copy.isVisible()).toBe(false);
        await page.locator('#ticket').click();
        expect(await page.evaluate('String(getSelection())')).toBe(ticket);
      }
      await checkPage('ticket');
    });

    it('a newcomer redeems it with the keyboard only; every /create error is shown next to its field', async () => {
      await page.goto(`${stack.authUrl}/create`);
      await checkPage('create');
      const fill = async (fields: { user: string; password: string; token: string }) => {
        await page.getByLabel(t('meet-field-username')).fill(fields.user);
        await page.getByLabel(t('meet-field-password')).fill(fields.password);
        await page.getByLabel(t('meet-field-ticket')).fill(fields.token);
        await submit(t('meet-create-submit'));
      };
      await fill({ user: user, password, token: `${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}` });
      await expectFieldError('token', t('meet-error-bad-credentials'));
      await fill({ user: 'bad name', password, token: ticket });
      await expectFieldError('user', t('meet-error-username-characters'));
      await checkPage('create-error');
      await fill({ user, password: 'short', token: ticket });
      await expectFieldError('password', t('meet-error-password-too-short', PASSWORD_MIN_CHARS));
      await fill({ user, password: `${user} is in it`, token: ticket });
      await expectFieldError('password', t('meet-error-password-username'));
      const [taken] = stack.tickets(1);
      expect((await stack.redeem(`taken.${run.lang}.${mode}`, 'somebody else 1', taken!)).body.status).toBe('created');
      await fill({ user: `Taken.${run.lang}.${mode}`, password, token: ticket });
      await expectFieldError('user', t('meet-error-username-taken'));

      // Keyboard only, from the top of a fresh form: the fields come in order, Enter sends the form.
      await page.goto(`${stack.authUrl}/create`);
      for (let tab = 0; tab < 12 && (await page.evaluate('document.activeElement?.id')) !== 'user'; tab++)
        await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.id')).toBe('user');
      await page.keyboard.type(user);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.id')).toBe('password');
      await page.keyboard.type(password);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.id')).toBe('token');
      await page.keyboard.type(ticket);
      await Promise.all([page.waitForURL(/\/status\/[A-Za-z0-9_-]{22}/), page.keyboard.press('Enter')]);
      expect(page.url()).not.toContain(ticket);
      // No script needed: the page reloads itself until the account exists, then shows the way to the meeting.
      await page.locator('#meeting-link').waitFor({ timeout: 20_000 });
      expect(await page.getAttribute('#meeting-link', 'href')).toBe(MEETING_URL);
      const main = (await page.locator('main').textContent())!;
      expect(main).toContain(`${folded}@meet.jitsi`);
      expect(main).toContain(MEETING_URL);
      expect(await page.locator('#meeting-link').textContent()).toBe(t('meet-status-go'));
      await checkPage('status-created');
      expect(await login(folded, password)).toBe(true);
    });

    it('the owner changes the password at /account: errors next to their fields, then the new one logs in, the old one not', async () => {
      await page.goto(`${stack.authUrl}/account`);
      await checkPage('account');
      const form = page.locator('form[action*="/account/password"]');
      const fill = async (fields: { user: string; password: string; next: string }) => {
        await form.getByLabel(t('meet-field-username')).fill(fields.user);
        await form.getByLabel(t('meet-field-current-password')).fill(fields.password);
        await form.getByLabel(t('meet-field-new-password')).fill(fields.next);
        await submit(t('meet-account-password-submit'));
      };
      await fill({ user, password: 'not my password at all', next: newPassword });
      await expectFieldError('pw-password', t('meet-error-bad-account'));
      await checkPage('account-error');
      await fill({ user: 'no such name here', password, next: newPassword });
      await expectFieldError('pw-user', t('meet-error-username-characters'));
      await fill({ user, password, next: 'tiny' });
      await expectFieldError('new_password', t('meet-error-password-too-short', PASSWORD_MIN_CHARS));
      await fill({ user, password, next: newPassword });
      expect(await page.locator('h1').textContent()).toBe(t('meet-account-changed-title'));
      await checkPage('account-changed');
      expect(await login(folded, newPassword)).toBe(true);
      expect(await login(folded, password)).toBe(false);
    });

    it('the owner deletes the account: confirmation required, then it no longer logs in and the name is free', async () => {
      await page.goto(`${stack.authUrl}/account`);
      const form = page.locator('form[action*="/account/delete"]');
      await form.getByLabel(t('meet-field-username')).fill(user);
      await form.getByLabel(t('meet-field-current-password')).fill(newPassword);
      await submit(t('meet-account-delete-submit'));
      await expectFieldError('confirm', t('meet-error-confirm'));
      expect(await login(folded, newPassword)).toBe(true);
      await form.getByLabel(t('meet-field-username')).fill(user);
      await form.getByLabel(t('meet-field-current-password')).fill(newPassword);
      await form.getByLabel(t('meet-field-confirm')).check();
      await submit(t('meet-account-delete-submit'));
      expect(await page.locator('h1').textContent()).toBe(t('meet-account-deleted-title'));
      await checkPage('account-deleted');
      expect(await login(folded, newPassword)).toBe(false);
      const [again] = stack.tickets(1);
      expect((await stack.redeem(user, 'a new owner secret 1', again!)).body.status).toBe('created');
      expect(await login(folded, 'a new owner secret 1')).toBe(true);
    });

    it('the ticketmaster lists their tickets and revokes one, which then no longer redeems', async () => {
      const [spare] = stack.tickets(1);
      const selector = spare!.split('.')[0]!;
      await page.goto(`${stack.authUrl}/generate_token`);
      await page.getByLabel(t('meet-field-tm-token')).fill(stack.ticketmasterToken);
      await submit(t('meet-ticketmaster-list-submit'));
      expect(await page.locator('h1').textContent()).toBe(t('meet-tickets-heading'));
      const row = page.locator(`#ticket-${selector}`);
      expect(await row.textContent()).toContain(t('meet-ticket-state-active'));
      expect(await row.textContent()).toContain(t('meet-tickets-uses-left', 1, 1));
      // The redeemed ticket says who redeemed it.
      expect(await page.locator(`#ticket-${ticket.split('.')[0]}`).textContent()).toContain(folded);
      await checkPage('tickets');
      await Promise.all([page.waitForLoadState('load'), row.getByRole('button').click()]);
      expect(await page.getByRole('status').first().textContent()).toContain(t('meet-tickets-revoked', selector));
      expect(await page.locator(`#ticket-${selector}`).textContent()).toContain(t('meet-ticket-state-revoked'));
      await checkPage('ticket-revoked');
      expect((await stack.redeem(`revoked.${run.lang}.${mode}`, 'never created 1', spare!)).status).toBe(403);
    });

    it('too many failures: 429 shown on the form, the owner elsewhere unaffected', async () => {
      await page.goto(`${stack.authUrl}/account`);
      const form = page.locator('form[action*="/account/password"]');
      let limited = false;
      for (let attempt = 0; attempt < 25 && !limited; attempt++) {
        await form.getByLabel(t('meet-field-username')).fill(`victim.${run.lang}.${mode}`);
        await form.getByLabel(t('meet-field-current-password')).fill(`guess ${attempt} of many`);
        await form.getByLabel(t('meet-field-new-password')).fill('an attacker secret 1');
        await submit(t('meet-account-password-submit'));
        limited = (await page.locator('#form-error').textContent())!.includes(t('meet-error-rate-limited'));
      }
      expect(limited).toBe(true);
      await checkPage('rate-limited');
    });
  });
}
