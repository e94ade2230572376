/**
 * ACME HTTP-01 challenge files (written by `npm run certs` into the challenge directory), served on the main app
 * and, when meet-auth serves HTTPS, on its plain-HTTP listener (the CA validates on port 80).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';

/** RFC 8555 tokens are base64url; anything else cannot name a challenge file (and cannot climb out of the directory). */
const ACME_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export function acmeChallengeRoutes(challengeDir: string) {
  return new Hono().get('/.well-known/acme-challenge/:token', async (c) => {
    const token = c.req.param('token');
    if (!ACME_TOKEN.test(token)) return c.notFound();
    const content = await readFile(join(challengeDir, token), 'utf8').catch(() => null);
    if (content === null) return c.notFound();
    return c.text(content.trim());
  });
}

/**
 * The plain-HTTP listener beside HTTPS: challenge files, and a permanent redirect to the public https origin for
 * everything else (no form is ever served over plain HTTP).
 */
export function plainHttpApp(challengeDir: string, publicUrl: string) {
  const origin = new URL(publicUrl).origin;
  return new Hono().route('/', acmeChallengeRoutes(challengeDir)).all('*', (c) => {
    const { pathname, search } = new URL(c.req.url);
    // Appended to our origin as text: resolving "//elsewhere.example/" against it would leave our origin.
    return c.redirect(`${origin}${pathname}${search}`, 301);
  });
}
