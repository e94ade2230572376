/**
 * The pages' languages: banana-i18n message files (en.json, documented in qqq.json; ar.json right to left;
 * de.json), the reader's language from `?uselang=xx` (as on Wikimedia wikis) or else `Accept-Language`, and dates
 * and numbers in that language through Intl. Messages are plain text: every value put into one is escaped, except
 * markup built here (a link, a <strong>), which goes in whole through a placeholder banana never sees inside.
 */
import Banana from 'banana-i18n';
import { raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import ar from './ar.json' with { type: 'json' };
import de from './de.json' with { type: 'json' };
import en from './en.json' with { type: 'json' };

export type MessageKey = Exclude<keyof typeof en, '@metadata'>;

export const LANGUAGES = {
  en: { name: 'English', dir: 'ltr', messages: en },
  ar: { name: 'العربية', dir: 'rtl', messages: ar },
  de: { name: 'Deutsch', dir: 'ltr', messages: de },
} as const satisfies Record<string, { name: string; dir: 'ltr' | 'rtl'; messages: Record<string, unknown> }>;

export type Lang = keyof typeof LANGUAGES;
const DEFAULT_LANG: Lang = 'en';

const isLang = (tag: string): tag is Lang => Object.hasOwn(LANGUAGES, tag);

/** The supported language a BCP 47 tag asks for: itself, or its primary subtag (de-AT → de); null when none. */
function supportedLanguage(tag: string | undefined): Lang | null {
  const lower = (tag ?? '').trim().toLowerCase();
  if (!/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/.test(lower)) return null;
  if (isLang(lower)) return lower;
  const primary = lower.split('-')[0]!;
  return isLang(primary) ? primary : null;
}

/** `Accept-Language` (RFC 9110 §12.5.4) → supported languages, most wanted first (q=0 means "not this"). */
export function acceptedLanguages(header: string | undefined): Lang[] {
  const ranges = (header ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params
        .map((p) => /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p)?.[1])
        .find((value) => value !== undefined);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter((range) => range.tag && range.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  const picked: Lang[] = [];
  for (const range of ranges) {
    const lang = range.tag === '*' ? DEFAULT_LANG : supportedLanguage(range.tag);
    if (lang && !picked.includes(lang)) picked.push(lang);
  }
  return picked;
}

/** ?uselang=xx wins when it names a supported language; else the first supported one the browser accepts; else English. */
export function pickLanguage(
  uselang: string | undefined,
  acceptLanguage: string | undefined,
): { lang: Lang; chosen: boolean } {
  const chosen = supportedLanguage(uselang);
  if (chosen) return { lang: chosen, chosen: true };
  return { lang: acceptedLanguages(acceptLanguage)[0] ?? DEFAULT_LANG, chosen: false };
}

/** Markup from hono's html`` is a Promise only when something inside it is; messages take synchronous markup. */
export type Param = string | number | HtmlEscapedString | Promise<HtmlEscapedString>;

const bananas = new Map<Lang, Banana>();
function bananaOf(lang: Lang): Banana {
  let banana = bananas.get(lang);
  if (!banana) {
    banana = new Banana(lang, {
      messages: { [lang]: LANGUAGES[lang].messages, en },
      finalFallback: 'en',
      wikilinks: false,
    });
    bananas.set(lang, banana);
  }
  return banana;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
function isHtml(value: Param): value is HtmlEscapedString {
  if (value instanceof Promise) throw new TypeError('a message parameter must be synchronous markup');
  return typeof value === 'object' && value !== null && (value as { isEscaped?: boolean }).isEscaped === true;
}
/** Private-use characters no message or value contains (inputs with them are refused long before a page). */
const placeholder = (index: number) => `\uE000${index}\uE001`;

export interface I18n {
  readonly lang: Lang;
  readonly dir: 'ltr' | 'rtl';
  /** Whether the reader picked the language with ?uselang (links and forms then carry it on). */
  readonly chosen: boolean;
  /** The message as HTML: text escaped, HTML params inserted whole. */
  t(key: MessageKey, ...params: Param[]): HtmlEscapedString;
  /** The message as plain text (for attributes, titles, JSON-free logs). */
  text(key: MessageKey, ...params: (string | number)[]): string;
  /** A date and time in the reader's language, in UTC (said so), e.g. for a ticket's expiry. */
  date(ms: number): string;
  /** `path` with ?uselang kept when the reader chose the language. */
  href(path: string): string;
}

export function i18nFor(lang: Lang, chosen = false): I18n {
  const banana = bananaOf(lang);
  const dates = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
  const text = (key: MessageKey, ...params: (string | number)[]) => banana.i18n(key, ...params);
  return {
    lang,
    dir: LANGUAGES[lang].dir,
    chosen,
    text,
    t(key, ...params) {
      const html: string[] = [];
      const plain = params.map((param) =>
        isHtml(param) ? placeholder(html.push(String(param)) - 1) : (param as string | number),
      );
      let out = escapeHtml(banana.i18n(key, ...plain));
      html.forEach((markup, index) => (out = out.replaceAll(placeholder(index), markup)));
      return raw(out) as HtmlEscapedString;
    },
    date: (ms) => `${dates.format(new Date(ms))} UTC`,
    href: (path) => (chosen ? `${path}${path.includes('?') ? '&' : '?'}uselang=${lang}` : path),
  };
}

/** English, for messages that must stay stable (the JSON contract's `error`). */
export const english = i18nFor(DEFAULT_LANG);
