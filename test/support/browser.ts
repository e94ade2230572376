/**
 * Debian's Chromium driven by playwright-core for page tests, with axe-core (pinned) as the accessibility check and a
 * screenshot of each page for review under test-results/screenshots/ (gitignored).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { requireInstalled } from './installed.js';

requireInstalled('Chromium', 'test/support/browser.ts');

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly string[];
}

/**
 * axe-core's WCAG 2.x A/AA rules (and best practices) on the page as it is; the serious and critical violations.
 * axe needs scripts (timers, promises), so for a page shown without JavaScript pass `withScripts`, a context with
 * them: the very same HTML is served there at the same URL (its stylesheet from the server, its script held back,
 * so the DOM stays the one a reader without JavaScript gets) and checked.
 */
export async function seriousViolations(page: Page, withScripts?: BrowserContext): Promise<AxeViolation[]> {
  if (withScripts) {
    const html = await page.content();
    const url = page.url();
    const twin = await withScripts.newPage();
    try {
      await twin.route('**/*', (route) => {
        if (route.request().url() === url)
          return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
        if (route.request().url().endsWith('.js')) return route.abort();
        return route.continue();
      });
      await twin.goto(url);
      return await seriousViolations(twin);
    } finally {
      await twin.close();
    }
  }
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(
            context: unknown,
            options: unknown,
          ): Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => JSON.stringify(node.target)),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

const SCREENSHOT_DIR = join(new URL('../../', import.meta.url).pathname, 'test-results', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
