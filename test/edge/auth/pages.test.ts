/** The pages as HTML (app.request): language and direction, errors next to their fields, the way to the meeting. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codexTokens, STYLESHEET } from '../../../edge/auth/pages/style.js';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const page = async (path: string, headers: Record<string, string> = {}) => {
  const res = await h.get(path, headers);
  return { res, text: await res.text() };
};

describe('languages', () => {
  it('English by default, Accept-Language picks a supported one, ?uselang overrides it', async () => {
    expect((await page('/create')).text).toContain('<html lang="en" dir="ltr">');
    const de = await page('/create', { 'accept-language': 'fr, de-AT;q=0.8' });
    expect(de.text).toContain('<html lang="de" dir="ltr">');
    expect(de.text).toContain('Lege dein Wikimedia-Meet-Konto an');
    expect(de.res.headers.get('content-language')).toBe('de');
    expect(de.res.headers.get('vary')).toContain('Accept-Language');
    const ar = await page('/create?uselang=ar', { 'accept-language': 'de' });
    expect(ar.text).toContain('<html lang="ar" dir="rtl">');
    expect(ar.text).toContain('أنشئ حسابك على ويكيميديا ميت');
    // The chosen language is kept by the form and the links.
    expect(ar.text).toContain('action="/create?uselang=ar"');
    expect(ar.text).toContain('href="/account?uselang=ar"');
  });

  it('every page names its language and direction (home, forms, account, 404)', async () => {
    for (const path of ['/', '/create', '/generate_token', '/account', '/nothing-here']) {
      const { text } = await page(`${path}?uselang=ar`);
      expect(text, path).toContain('<html lang="ar" dir="rtl">');
    }
    expect((await page('/nothing-here?uselang=ar')).text).toContain('لا شيء هنا.');
  });

  it('the JSON contract keeps its English messages whatever the language', async () => {
    const res = await h.post(
      '/create?uselang=ar',
      { user: 'x y', password: GOOD_PASSWORD, token: await h.ticket() },
      { headers: { 'accept-language': 'ar' } },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^That username contains characters that are not allowed\./,
    );
  });
});

describe('forms', () => {
  it('an error is shown next to its field, tied by aria-describedby, focused, and in the reader language', async () => {
    const res = await h.postForm('/create?uselang=de', {
      user: 'x y',
      password: GOOD_PASSWORD,
      token: await h.ticket(),
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toMatch(
      /<input class="cdx-text-input__input" id="user" name="user" aria-describedby="user-error user-hint" aria-invalid="true" autofocus/,
    );
    expect(text).toMatch(
      /id="user-error"><span class="cdx-message__icon" aria-hidden="true">!<\/span><div class="cdx-message__content">Dieser Benutzername enthält Zeichen, die nicht erlaubt sind\./,
    );
    expect(text).toContain('<a href="#user">');
    expect(text.match(/autofocus/g)).toHaveLength(1);
  });

  it('the ticketmaster form: an expiry out of range is marked on its field', async () => {
    const res = await h.postForm('/generate_token?uselang=ar', {
      token: await h.ticketmasterToken(),
      expires_in_hours: '999',
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('id="expires_in_hours-error"');
    expect(text).toContain('يجب أن تكون مدة الصلاحية بالساعات عددًا صحيحًا من 1 إلى 720.');
  });
});

describe('the way to a meeting', () => {
  it('the status page, once created, links to the meeting site and says how to log in there and in the apps', async () => {
    const res = await h.postForm('/create?uselang=ar', {
      user: 'hopper',
      password: GOOD_PASSWORD,
      token: await h.ticket(),
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/status\/[A-Za-z0-9_-]{22}\?uselang=ar$/);
    const { text } = await page(location);
    expect(text).toContain(`href="${h.config.meetingUrl}" id="meeting-link"`);
    expect(text).toContain('hopper@meet.jitsi');
    expect(text).toContain('جيتسي ميت');
  });

  it('the ticket page: the ticket as selectable text, a copy button that only the script reveals', async () => {
    const res = await h.postForm('/generate_token', { token: await h.ticketmasterToken() });
    const text = await res.text();
    expect(text).toMatch(/<code id="ticket" class="ticket"[^>]*>[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}<\/code>/);
    expect(text).toMatch(/<button type="button" class="cdx-button" id="copy-ticket" data-copy="ticket"[^>]* hidden>/);
    expect(text).toContain('<script src="/assets/copy.js" defer></script>');
    const script = await h.get('/assets/copy.js');
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain('navigator.clipboard');
  });
});

describe('look', () => {
  it('the stylesheet defines Codex tokens with the package values, and uses logical properties only', () => {
    const tokens = codexTokens();
    expect(tokens.get('color-progressive')).toBe('#36c');
    const defined = [...STYLESHEET.matchAll(/--([a-z0-9-]+): ([^;]+);/g)];
    expect(defined.length).toBeGreaterThan(30);
    for (const [, name, value] of defined) expect(tokens.get(name!), name).toBe(value);
    expect(STYLESHEET).not.toMatch(
      /(^|[\s;{])(margin|padding|border)-(left|right)\b|(^|[\s;{])(left|right)\s*:|text-align:\s*(left|right)|float:/m,
    );
  });

  it('nothing is loaded from elsewhere: no external fonts, scripts, images or stylesheets', async () => {
    for (const path of ['/', '/create', '/generate_token', '/account']) {
      const { text } = await page(path);
      expect(text, path).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
    expect(STYLESHEET).not.toMatch(/url\(|@import|@font-face/);
  });
});
