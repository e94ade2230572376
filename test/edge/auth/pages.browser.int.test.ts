/**
 * The pages in real Chromium (playwright-core), with JavaScript disabled: the forms must work without it.
 * A ticketmaster makes a ticket, a new user redeems it, and the status page reloads itself until done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../../edge/auth/config.js';
import { startAuthServer, type AuthServer } from '../../../edge/auth/server.js';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { addTicketmaster } from '../../../edge/auth/store/ticketmasters.js';
import { freePort } from '../../support/ports.js';
import { startAgentDouble, type AgentDouble } from './agent-double.js';
import { GOOD_PASSWORD } from './harness.js';

let dataDir: string;
let profileDir: string;
let agent: AgentDouble;
let server: AuthServer;
let context: BrowserContext;
let tmToken: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'meet-auth-pages-'));
  profileDir = mkdtempSync(join(tmpdir(), 'meet-auth-chromium-'));
  // The first two deliveries of each job are "pending": the status page must show progress, then reload to done.
  agent = await startAgentDouble('jitsi', {
    behave: (job) => (job.delivery < 3 ? { status: 'pending' } : { status: 'created' }),
  });
  const db = openDatabase(dataDir);
  tmToken = await addTicketmaster(db, 'Ada', 4);
  db.close();
  const port = await freePort();
  const config = loadAuthConfig({
    MEET_DATA_DIR: dataDir,
    MEET_AUTH_PORT: String(port),
    MEET_AGENTS: JSON.stringify([{ name: agent.name, url: agent.url, sealingPublicKey: agent.sealingPublicKey }]),
    MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ [agent.name]: agent.signingSecrets }),
    MEET_HOLD_MS: '100',
    MEET_LOG_LEVEL: 'silent',
  });
  server = await startAuthServer({
    ...config,
    dispatch: { ...config.dispatch, baseDelayMs: 400, pollIntervalMs: 100 },
  });
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    javaScriptEnabled: false,
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  await agent?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profileDir, { recursive: true, force: true });
});

async function expectEveryFieldLabelled(page: Page) {
  const inputs = page.locator('form input, form select');
  const count = await inputs.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    const id = await inputs.nth(i).getAttribute('id');
    expect(id).toBeTruthy();
    expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
  }
}

describe('pages in Chromium without JavaScript', () => {
  let ticket = '';

  it('a ticketmaster makes a ticket through the form; it is shown once, no-store, never in the URL', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/generate_token`);
    expect(await page.title()).toContain('Wikimedia Meet');
    await expectEveryFieldLabelled(page);
    await page.getByLabel('Your ticketmaster token').fill(tmToken);
    await page.getByLabel('Valid for').selectOption({ label: '1 day' });
    await page.getByLabel('Accounts it may create').fill('1');
    const [response] = await Promise.all([
      page.waitForResponse((res) => res.url().endsWith('/generate_token') && res.request().method() === 'POST'),
      page.getByRole('button', { name: 'Make a ticket' }).click(),
    ]);
    expect(response.status()).toBe(200);
    expect(response.headers()['cache-control']).toBe('no-store');
    ticket = (await page.locator('#ticket').textContent())!.trim();
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(page.url()).toBe(`${server.url}/generate_token`);
    expect(await page.getByRole('status').first().textContent()).toMatch(/shown only this once/);
    await page.close();
  });

  it('a wrong ticketmaster token re-renders the form with an alert', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/generate_token`);
    await page.getByLabel('Your ticketmaster token').fill('tm_wrong');
    await page.getByRole('button', { name: 'Make a ticket' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('not valid');
    expect(await page.getByLabel('Your ticketmaster token').getAttribute('aria-invalid')).toBe('true');
    await page.close();
  });

  it('a new user redeems the ticket and watches the status page reload until the account exists', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/create`);
    await expectEveryFieldLabelled(page);
    // A mistake first: the form comes back with the message and keeps the (valid) ticket.
    await page.getByLabel('Username').fill('Bad Name');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByLabel('Ticket').fill(ticket);
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('not allowed');
    expect(await page.getByLabel('Ticket').inputValue()).toBe(ticket);
    expect(page.url()).not.toContain(ticket);

    await page.getByLabel('Username').fill('Browser.User');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/status\/[A-Za-z0-9_-]{22}$/);
    expect(page.url()).not.toContain(ticket);
    expect(await page.getByRole('status').first().textContent()).toContain('created on 0 of 1 server so far');
    // No script: the meta refresh alone brings the page to its final state.
    await page.locator('main', { hasText: 'is ready: created on 1 of 1 server' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('main').textContent()).toContain('browser.user@meet.jitsi');
    expect(agent.jobs.at(-1)).toMatchObject({ username: 'browser.user', password: GOOD_PASSWORD });
    await page.close();
  });

  it('the used ticket is refused with the generic message', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/create`);
    await page.getByLabel('Username').fill('second');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByLabel('Ticket').fill(ticket);
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('used up');
    expect(await page.getByLabel('Ticket').inputValue()).toBe('');
    await page.close();
  });
});
