/** The reader's language for HTML pages: ?uselang=xx when supported, else Accept-Language, else English. */
import type { MiddlewareHandler } from 'hono';
import { i18nFor, pickLanguage, type I18n } from '../../i18n/index.js';
import type { AuthEnv } from '../context.js';

const cache = new Map<string, I18n>();

export function language(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const { lang, chosen } = pickLanguage(c.req.query('uselang'), c.req.header('accept-language'));
    const key = `${lang}:${chosen}`;
    let i18n = cache.get(key);
    if (!i18n) cache.set(key, (i18n = i18nFor(lang, chosen)));
    c.set('i18n', i18n);
    await next();
    if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) {
      c.res.headers.set('Content-Language', lang);
      c.res.headers.append('Vary', 'Accept-Language');
    }
  };
}
