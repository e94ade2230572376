/**
 * What jitsi-web needs beyond the image's own settings (docker-jitsi-meet at stable-11146-2): serving HTTP-01
 * challenge files, and following Prosody to a new address when its container is replaced.
 */
import { containerPaths } from './layout.js';

/**
 * web's config step copies /config/. to /run/web/config (web/rootfs/etc/s6-overlay/scripts/config:7) and
 * meet.conf includes /run/web/config/nginx-custom/*.conf in each server that serves the site
 * (web/rootfs/defaults/meet.conf:44): the image's hook for own nginx config.
 */
const WEB_NGINX_CUSTOM_DIR = '/config/nginx-custom';
export const WEB_ACME_SNIPPET_FILE = `${WEB_NGINX_CUSTOM_DIR}/meet-acme-challenge.conf`;

/**
 * Challenge files from the read-only challenge directory, mounted at a path of its own (never under
 * /usr/share/jitsi-meet/.well-known, a symlink into /run: web/Dockerfile:27). `^~` makes this prefix location win
 * over meet.conf's regex location for /.well-known/ (meet.conf:68), which aliases into that symlink. With
 * ENABLE_HTTP_REDIRECT=1 port 80 answers 301 to https (web/rootfs/defaults/default:8-9); Let's Encrypt follows it
 * to 443 without checking the certificate, so the challenge is served there.
 */
export const ACME_CHALLENGE_LOCATION = [
  '# Written by the jitsi-web entrypoint (Wikimedia Meet, stacks/jitsi-web.ts): ACME HTTP-01 challenge files.',
  'location ^~ /.well-known/acme-challenge/ {',
  `    alias ${containerPaths.acmeChallenge}/;`,
  '    default_type text/plain;',
  '}',
  '',
].join('\n');

/**
 * The image's entrypoint is s6-overlay's /init (base/Dockerfile:74), which must run as PID 1; this one writes the
 * snippet into /config (a bind mount, writable by uid 1000) before the config step copies it, then execs /init.
 * The snippet is an argument, so changing it replaces the web container and nothing else.
 */
export function webEntrypoint(): string[] {
  const script = `set -eu; mkdir -p ${WEB_NGINX_CUSTOM_DIR}; printf '%s' "$1" > ${WEB_ACME_SNIPPET_FILE}; exec /init`;
  return ['/bin/sh', '-c', script, 'jitsi-web-entrypoint', ACME_CHALLENGE_LOCATION];
}

/**
 * nginx proxies BOSH and the XMPP websocket to xmpp.meet.jitsi with variables in proxy_pass (meet.conf:83, :97),
 * so it resolves the name at request time with `resolver` and caches the answer for its TTL: 600 s from
 * Docker's DNS, so after Prosody's container is replaced (new address) web would keep sending to the old one for
 * up to 10 minutes. nginx.conf:28-30 renders NGINX_RESOLVER into `resolver ...;` as given; `valid=` overrides
 * the TTL. 127.0.0.11 is Docker's embedded DNS on user-defined networks (the one the image would detect itself
 * from /etc/resolv.conf: scripts/config:102-122).
 */
const WEB_NGINX_RESOLVER = { address: '127.0.0.11', validSeconds: 10 } as const;
export const WEB_NGINX_RESOLVER_ENV = `NGINX_RESOLVER=${WEB_NGINX_RESOLVER.address} valid=${WEB_NGINX_RESOLVER.validSeconds}s`;
