/**
 * Our own nginx configuration standing in for the one jitsi-web renders from its templates at stable-11146-2
 * (web/rootfs/defaults/{nginx.conf,default,meet.conf,ssl.conf}), written by us and shaped like it where it matters
 * to the challenge snippet and the resolver: the two servers and the redirect, the include hook's position, the
 * regex locations that compete for /.well-known/..., and proxy_pass with variables. Each piece cites the lines it
 * mirrors; what the image does beyond that (logging maps, gzip, security headers, JaaS, etherpad ...) is left out.
 * Every container path is placed under `root`, a temp dir standing for the container's /.
 */

export interface WebNginxLayout {
  /** The directory standing for the container's root. */
  readonly root: string;
  /** The loopback ports standing for the image's 8000 and 8443. */
  readonly http: number;
  readonly https: number;
  /** Debian's mime.types (the image includes /etc/nginx/mime.types: nginx.conf:32). */
  readonly mimeTypes: string;
}

/** tpl's toBool is Go's strconv.ParseBool; the templates give each flag a default (e.g. default:8 `default "0"`). */
function flag(env: Readonly<Record<string, string>>, name: string, fallback: '0' | '1'): boolean {
  const value = env[name] ?? fallback;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new Error(`${name}="${value}" is not a boolean the image's toBool accepts`);
}

/** The four files the image's config step renders (web/rootfs/etc/s6-overlay/scripts/config:130-139), by path relative to `root`. */
export function webNginxFiles(env: Readonly<Record<string, string>>, layout: WebNginxLayout): Record<string, string> {
  const { root, http, https, mimeTypes } = layout;
  const nginxDir = `${root}/run/web/config/nginx`;
  // ENABLE_IPV6 defaults to on (default:4, :19): each server also listens on IPv6.
  const ipv6 = flag(env, 'ENABLE_IPV6', '1');
  // meet.conf:6 and :4: where BOSH and the websocket go, and the per-tenant locations (on by default).
  const boshBase = env.XMPP_BOSH_URL_BASE ?? 'http://xmpp.meet.jitsi:5280';
  const subdomains = flag(env, 'ENABLE_SUBDOMAINS', '1');

  const nginxConf = [
    'worker_processes 1;',
    `pid ${root}/run/nginx.pid;`, // nginx.conf:2
    'events { worker_connections 64; }',
    'http {',
    // nginx.conf:28-30: NGINX_RESOLVER is written into `resolver` as given, valid= included.
    ...(env.NGINX_RESOLVER ? [`  resolver ${env.NGINX_RESOLVER};`] : []),
    `  include ${mimeTypes};`, // nginx.conf:32
    '  default_type application/octet-stream;', // nginx.conf:37
    // The image logs to /dev/stdout and /dev/stderr (nginx.conf:58-59); Node's child stdio are socketpairs, which
    // nginx cannot reopen through those paths, so files here.
    `  access_log ${root}/access.log;`,
    `  error_log ${root}/error.log;`,
    // /var/lib/nginx is a symlink to /run/web/tmp in the image (web/Dockerfile:30); the temp paths go through it.
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (kind) => `  ${kind}_temp_path ${root}/var/lib/nginx/${kind === 'client_body' ? 'body' : kind};`,
    ),
    "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }", // nginx.conf:73-76
    `  include ${nginxDir}/site-confs/*;`, // nginx.conf:81
    '}',
    'daemon off;', // nginx.conf:85
    '',
  ].join('\n');

  const listen = (port: number, extra: string) => [
    `  listen 127.0.0.1:${port}${extra};`,
    ...(ipv6 ? [`  listen [::1]:${port}${extra};`] : []),
  ];
  const site = [
    // default:1-13: port 8000 either redirects everything to https or serves the site.
    'server {',
    ...listen(http, ' default_server'),
    flag(env, 'ENABLE_HTTP_REDIRECT', '0')
      ? '  return 301 https://$host$request_uri;'
      : `  include ${nginxDir}/meet.conf;`,
    '}',
    // default:15-26: port 8443 unless DISABLE_HTTPS.
    ...(flag(env, 'DISABLE_HTTPS', '0')
      ? []
      : [
          'server {',
          ...listen(https, ' ssl http2'),
          `  include ${nginxDir}/ssl.conf;`,
          `  include ${nginxDir}/meet.conf;`,
          '}',
        ]),
    '',
  ].join('\n');

  // ssl.conf:7-13: the self-signed keys unless ENABLE_LETSENCRYPT; :18 the protocols. (No ssl_dhparam, :23: the
  // test's client negotiates ECDHE.)
  if (flag(env, 'ENABLE_LETSENCRYPT', '0'))
    throw new Error('ENABLE_LETSENCRYPT=1: the image would read certificates from /storage/acme-certs');
  const sslConf = [
    `ssl_certificate ${root}/storage/keys/cert.crt;`,
    `ssl_certificate_key ${root}/storage/keys/cert.key;`,
    'ssl_protocols TLSv1.2 TLSv1.3;',
    '',
  ].join('\n');

  const siteRoot = `${root}/usr/share/jitsi-meet`;
  const meetConf = [
    'server_name _;', // meet.conf:13
    `root ${siteRoot};`, // meet.conf:19
    'index index.html index.htm;', // meet.conf:25
    'error_page 404 /static/404.html;', // meet.conf:26
    'set $prefix "";', // meet.conf:35
    // meet.conf:44: the hook, at server level, before any location of the image's.
    `include ${root}/run/web/config/nginx-custom/*.conf;`,
    `location = /config.js { alias ${root}/run/web/config/config.js; }`, // meet.conf:46-48
    // meet.conf:68-76: the first regex location that matches /.well-known/acme-challenge/TOKEN; it aliases through
    // the .well-known symlink into /run/web/.well-known (web/Dockerfile:27), where nothing is.
    'location ~ ^/(libs|css|static|images|fonts|lang|sounds|connection_optimization|.well-known|transcripts)/(.*)$ {',
    `  alias ${siteRoot}/$1/$2;`,
    '}',
    // meet.conf:79-84 and :88-98: proxy_pass with variables, so the name is resolved per request by `resolver`.
    'location = /http-bind {',
    '  proxy_set_header X-Forwarded-For $remote_addr;',
    `  proxy_pass ${boshBase}/http-bind?prefix=$prefix&$args;`,
    '}',
    'location = /xmpp-websocket {',
    '  proxy_http_version 1.1;',
    '  proxy_set_header Connection $connection_upgrade;',
    '  proxy_set_header Upgrade $http_upgrade;',
    `  proxy_pass ${boshBase}/xmpp-websocket?prefix=$prefix&$args;`,
    '}',
    // meet.conf:161-167: a room name is served the index page.
    'location ~ ^/([^/?&:\'"]+)$ { try_files $uri @root_path; }',
    'location @root_path { rewrite ^/(.*)$ / break; }',
    // meet.conf:244-248: the per-tenant catch-all, which also matches /.well-known/acme-challenge/TOKEN.
    ...(subdomains
      ? ['location ~ ^/([^/?&:\'"]+)/(.*)$ {', '  set $subdir "$1/";', '  rewrite ^/([^/?&:\'"]+)/(.*)$ /$2;', '}']
      : []),
    '',
  ].join('\n');

  return {
    'run/web/config/nginx/nginx.conf': nginxConf,
    'run/web/config/nginx/site-confs/default': site,
    'run/web/config/nginx/ssl.conf': sslConf,
    'run/web/config/nginx/meet.conf': meetConf,
  };
}
