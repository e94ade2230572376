/** The message files and the language choice: complete translations, documented messages, errors in every language. */
import { describe, expect, it } from 'vitest';
import { html } from 'hono/html';
import { DEFAULT_MESSAGES } from '../../../edge/auth/errors.js';
import { translateMessage } from '../../../edge/i18n/errors.js';
import {
  acceptedLanguages,
  i18nFor,
  LANGUAGES,
  pickLanguage,
  type Lang,
  type MessageKey,
} from '../../../edge/i18n/index.js';
import en from '../../../edge/i18n/en.json' with { type: 'json' };
import qqq from '../../../edge/i18n/qqq.json' with { type: 'json' };
import { checkPassword } from '../../../edge/shared/passwords.js';
import { lookalikeProblem } from '../../../edge/shared/lookalikes.js';
import { normaliseUsername } from '../../../edge/shared/usernames.js';

const keys = Object.keys(en).filter((key) => key !== '@metadata') as MessageKey[];
const langs = Object.keys(LANGUAGES) as Lang[];
const paramsOf = (text: string) => [...new Set(text.match(/\$\d/g) ?? [])].sort();

describe('message files', () => {
  it('qqq.json documents every message and nothing else', () => {
    const documented = Object.keys(qqq).filter((key) => key !== '@metadata');
    expect(documented.sort()).toEqual([...keys].sort());
    for (const key of keys) expect((qqq as unknown as Record<string, string>)[key]!.length, key).toBeGreaterThan(10);
    // Every parameter a message takes is explained.
    for (const key of keys)
      for (const param of paramsOf(en[key]))
        expect((qqq as unknown as Record<string, string>)[key], `${key} ${param}`).toContain(param);
  });

  for (const lang of langs) {
    it(`${lang} is complete: every message, the same parameters, PLURAL where English has it`, () => {
      const messages = LANGUAGES[lang].messages as unknown as Record<string, string>;
      expect(
        Object.keys(messages)
          .filter((key) => key !== '@metadata')
          .sort(),
      ).toEqual([...keys].sort());
      for (const key of keys) {
        expect(messages[key]!.trim(), key).not.toBe('');
        expect(paramsOf(messages[key]!), key).toEqual(paramsOf(en[key]));
        if (en[key].includes('{{PLURAL:')) expect(messages[key], key).toContain('{{PLURAL:');
      }
    });
  }

  it('the translations are translations: most Arabic and German messages differ from English', () => {
    for (const lang of ['ar', 'de'] as const) {
      const same = keys.filter(
        (key) => (LANGUAGES[lang].messages as unknown as Record<string, string>)[key] === en[key],
      );
      expect(same.length, `${lang}: ${same.join(', ')}`).toBeLessThan(8);
    }
  });

  it('every message renders without leftover wikitext in every language', () => {
    for (const lang of langs) {
      const i18n = i18nFor(lang);
      for (const key of keys) expect(i18n.text(key, 'x', 2, 3), `${lang} ${key}`).not.toMatch(/\{\{|\}\}|\$\d/);
    }
  });

  it('Arabic plurals pick the right form (zero, one, two, few, many, other)', () => {
    const ar = i18nFor('ar');
    expect(ar.text('meet-expiry-days', 1)).toBe('يوم واحد');
    expect(ar.text('meet-expiry-days', 2)).toBe('يومين');
    expect(ar.text('meet-expiry-days', 7)).toBe('7 أيام');
    expect(ar.text('meet-expiry-days', 30)).toBe('30 يومًا');
    expect(i18nFor('en').text('meet-expiry-days', 1)).toBe('1 day');
    expect(i18nFor('de').text('meet-expiry-days', 30)).toBe('30 Tage');
  });
});

describe('rendering', () => {
  it('escapes text parameters and keeps markup parameters whole', () => {
    const en = i18nFor('en');
    expect(String(en.t('meet-account-deleted', '<script>'))).toBe(
      'The account &lt;script&gt; is deleted on every server.',
    );
    expect(String(en.t('meet-account-deleted', html`<b>${'a&b'}</b>`))).toBe(
      'The account <b>a&amp;b</b> is deleted on every server.',
    );
  });

  it('dates in the reader language, in UTC', () => {
    const at = Date.UTC(2026, 0, 15, 9, 30);
    expect(i18nFor('en').date(at)).toMatch(/January 15, 2026.*9:30.*UTC/);
    expect(i18nFor('de').date(at)).toMatch(/15\. Januar 2026.*09:30.*UTC/);
    expect(i18nFor('ar').date(at)).toContain('يناير');
  });

  it('links carry ?uselang on only when the reader chose it', () => {
    expect(i18nFor('ar', true).href('/create')).toBe('/create?uselang=ar');
    expect(i18nFor('ar', false).href('/create')).toBe('/create');
  });
});

describe('language choice', () => {
  it('?uselang wins over Accept-Language; an unsupported one is ignored', () => {
    expect(pickLanguage('ar', 'de')).toEqual({ lang: 'ar', chosen: true });
    expect(pickLanguage('AR', undefined)).toEqual({ lang: 'ar', chosen: true });
    expect(pickLanguage('de-CH', 'ar')).toEqual({ lang: 'de', chosen: true });
    expect(pickLanguage('xx', 'de')).toEqual({ lang: 'de', chosen: false });
    expect(pickLanguage('<script>', undefined)).toEqual({ lang: 'en', chosen: false });
    expect(pickLanguage(undefined, undefined)).toEqual({ lang: 'en', chosen: false });
  });

  it('Accept-Language: q-values, regional tags, q=0 and *', () => {
    expect(acceptedLanguages('fr-CH, fr;q=0.9, de;q=0.7, ar;q=0.8')).toEqual(['ar', 'de']);
    expect(acceptedLanguages('ar-EG')).toEqual(['ar']);
    expect(acceptedLanguages('de;q=0, en;q=0.5')).toEqual(['en']);
    expect(acceptedLanguages('fr, *;q=0.1')).toEqual(['en']);
    expect(acceptedLanguages('de;q=1.000, ar;q=0.999')).toEqual(['de', 'ar']);
    expect(acceptedLanguages('garbage;;;,,')).toEqual([]);
  });
});

describe('errors in every language', () => {
  const usernames = ['', 'a'.repeat(300), 'a'.repeat(65), 'a\u200Bb', 'bad name', 'abc-', 'אabc', '💥'];
  const passwords = [
    '',
    'x'.repeat(1025),
    'short',
    'line\nbreak pw',
    'nbsp\u00A0space pw',
    'ﬁligature pw',
    'שלוםabcdefgh',
    'abcשלוםשלום',
    'has alice in it',
  ];
  const english = [
    ...Object.values(DEFAULT_MESSAGES),
    ...usernames.map((name) => normaliseUsername(name)).flatMap((result) => (result.ok ? [] : [result.error])),
    ...passwords
      .map((password) => checkPassword(password, 'alice'))
      .flatMap((result) => (result.ok ? [] : [result.error])),
    'Uses must be a whole number from 1 to 100.',
    'Expiry in hours must be a whole number from 1 to 720.',
    'Enter your ticketmaster token.',
    'Enter the ticket a ticketmaster gave you.',
    'The form data could not be read.',
    'That username looks too much like one that is taken. Choose another; your ticket is still valid.',
    ...['p\u0430ypal', 'i\u0307x', 'e\u0301\u0301']
      .map((name) => lookalikeProblem(name))
      .filter((problem): problem is string => problem !== null),
  ];

  it('covers every message of the username and password rules and the error codes', () => {
    expect(new Set(english).size).toBeGreaterThan(28);
    for (const lang of langs) {
      for (const message of english) {
        const translated = translateMessage(i18nFor(lang), message);
        expect(translated, `${lang}: ${message}`).not.toBeNull();
        if (lang === 'en') expect(translated).toBe(message);
        else expect(translated, `${lang}: ${message}`).not.toBe(message);
      }
    }
  });

  it('leaves a message it does not know as it is', () => {
    expect(translateMessage(i18nFor('ar'), 'Something new.')).toBeNull();
  });
});
