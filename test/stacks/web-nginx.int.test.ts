/**
 * jitsi-web's nginx, run for real: Debian's nginx with our own configuration shaped like the image's at
 * stable-11146-2 (./web-nginx-config.ts, each piece citing the lines it mirrors), built from the web container's
 * environment as the stacks synthesize it, and the nginx-custom snippet written by the container's entrypoint
 * script, copied the way the image's config step copies /config (web/rootfs/etc/s6-overlay/scripts/config:7).
 * Container paths live under a temp dir and the listeners on free loopback ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_NGINX_RESOLVER_ENV } from '../../stacks/jitsi-web.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { freePort } from '../support/ports.js';
import { until } from '../support/until.js';
import { container, synthJitsi } from './helpers.js';
import { webNginxFiles } from './web-nginx-config.js';
import { writeSelfSigned } from '../support/self-signed.js';

const run = promisify(execFile);
/** Debian bookworm's nginx, unpacked by .ci/setup (never started as a service); MEET_NGINX overrides. */
const NGINX = process.env.MEET_NGINX ?? '/opt/meet-nginx/usr/sbin/nginx';
const NGINX_ETC = join(dirname(dirname(dirname(NGINX))), 'etc/nginx');
const TOKEN = 'n2X_5o3bG0kZ1bX8q7w-TeSt';

/** The web container as the stacks synthesize it: its env and entrypoint. */
function synthWeb(): { env: Record<string, string>; entrypoint: string[] } {
  const web = container(synthJitsi(), 'jitsi-web');
  return {
    env: Object.fromEntries(web.env.map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string])),
    entrypoint: web.entrypoint as string[],
  };
}

interface Web {
  readonly http: number;
  readonly https: number;
  readonly dir: string;
  stop(): Promise<void>;
}

const processes: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of processes) child.kill('SIGKILL');
  if (!process.env.KEEP) for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function listening(port: number): Promise<void> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  await until(`nginx listens on ${port}`, accepts, Boolean, { timeoutMs: 10_000, everyMs: 50 });
}

/** Starts nginx the way jitsi-web would: entrypoint script, config step's copy, nginx files shaped like the image's. */
async function startWeb(options: { withEntrypoint: boolean; env?: Record<string, string> }): Promise<Web> {
  const dir = mkdtempSync(join(tmpdir(), 'meet-web-'));
  dirs.push(dir);
  chmodSync(dir, 0o755); // nginx's workers run as nobody
  const [http, https] = [await freePort(), await freePort()];
  const { env: synthEnv, entrypoint } = synthWeb();
  const env = { ...synthEnv, ...options.env };
  // The snippet names the challenge directory's mount point, /acme-challenge; here it is under the temp dir.
  const moved = (text: string) => text.replaceAll('alias /acme-challenge/', `alias ${dir}/acme-challenge/`);

  // The site: an index page, the 404 page meet.conf names, and .well-known as the image has it (a symlink into /run).
  const root = join(dir, 'usr/share/jitsi-meet');
  mkdirSync(join(root, 'static'), { recursive: true });
  writeFileSync(join(root, 'index.html'), 'jitsi meet index\n');
  writeFileSync(join(root, 'static/404.html'), 'not found page\n');
  symlinkSync(`${dir}/run/web/.well-known`, join(root, '.well-known'));
  mkdirSync(join(dir, 'acme-challenge'));
  writeFileSync(join(dir, 'acme-challenge', TOKEN), `${TOKEN}.key-authorization`, { mode: 0o644 });
  // /var/lib/nginx as the image has it (web/Dockerfile:30): a symlink to /run/web/tmp, which the config step creates.
  mkdirSync(join(dir, 'var/lib'), { recursive: true });
  symlinkSync(`${dir}/run/web/tmp`, join(dir, 'var/lib/nginx'));
  mkdirSync(join(dir, 'storage/keys'), { recursive: true });
  writeSelfSigned({
    cert: join(dir, 'storage/keys/cert.crt'),
    key: join(dir, 'storage/keys/cert.key'),
    commonName: 'meet.example.org',
    days: 1,
  });
  chmodSync(join(dir, 'storage/keys/cert.key'), 0o644);

  // /config as the host holds it; the entrypoint script (paths moved, /init not run) writes the snippet there.
  mkdirSync(join(dir, 'config'));
  if (options.withEntrypoint) {
    const [shell, flag, script, name, ...args] = entrypoint;
    await run(shell!, [
      flag!,
      script!.replaceAll('/config/', `${dir}/config/`).replace('exec /init', 'exit 0'),
      name!,
      ...args,
    ]);
  }
  // The config step (scripts/config:4-7, 130-139): make its directories, copy /config, write the nginx files.
  const nginxDir = join(dir, 'run/web/config/nginx');
  for (const sub of ['run/web/tmp', 'run/web/config/keys', 'run/web/config/nginx/site-confs'])
    mkdirSync(join(dir, sub), { recursive: true });
  cpSync(join(dir, 'config'), join(dir, 'run/web/config'), { recursive: true });
  const custom = join(dir, 'run/web/config/nginx-custom');
  for (const file of existsSync(custom) ? readdirSync(custom) : [])
    writeFileSync(join(custom, file), moved(readFileSync(join(custom, file), 'utf8')));
  for (const [path, text] of Object.entries(
    webNginxFiles(env, { root: dir, http, https, mimeTypes: join(NGINX_ETC, 'mime.types') }),
  ))
    writeFileSync(join(dir, path), text);
  writeFileSync(join(dir, 'run/web/config/config.js'), 'var config = {};\n');

  const args = ['-p', `${dir}/`, '-e', 'stderr', '-c', join(nginxDir, 'nginx.conf')];
  await run(NGINX, ['-t', ...args]).catch((error: { stderr?: string }) => {
    throw new Error(`nginx -t: ${error.stderr}`);
  });
  const child = spawn(NGINX, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  processes.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await listening(https).catch((error: Error) => {
    throw new Error(`${error.message}: ${stderr} ${readFileSync(join(dir, 'error.log'), 'utf8')}`);
  });
  return {
    http,
    https,
    dir,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGQUIT');
      }),
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, tls: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      path,
      headers: { host: 'meet.example.org' },
      ...(tls ? { rejectUnauthorized: false, servername: 'meet.example.org' } : {}),
    };
    const req = (tls ? httpsRequest : httpRequest)(options, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe("jitsi-web's nginx serves HTTP-01 challenges through the nginx-custom hook", () => {
  let web: Web;
  let control: Web;
  beforeAll(async () => {
    web = await startWeb({ withEntrypoint: true });
    control = await startWeb({ withEntrypoint: false });
  });
  afterAll(async () => {
    await web?.stop();
    await control?.stop();
  });

  it("port 80 (8000) redirects the challenge URL to https on 443, which Let's Encrypt follows", async () => {
    const answer = await get(web.http, `/.well-known/acme-challenge/${TOKEN}`, false);
    expect(answer.status).toBe(301);
    expect(answer.headers.location).toBe(`https://meet.example.org/.well-known/acme-challenge/${TOKEN}`);
  });

  it('443 (8443) serves the challenge file from the read-only challenge directory, as text/plain', async () => {
    const answer = await get(web.https, `/.well-known/acme-challenge/${TOKEN}`, true);
    expect(answer).toMatchObject({ status: 200, body: `${TOKEN}.key-authorization` });
    expect(answer.headers['content-type']).toMatch(/^text\/plain\b/);
    expect(readFileSync(join(web.dir, 'run/web/config/nginx-custom/meet-acme-challenge.conf'), 'utf8')).toContain(
      'location ^~ /.well-known/acme-challenge/',
    );
  });

  it('an unknown token is a 404 and the directory is not listed; the site itself still works', async () => {
    expect((await get(web.https, '/.well-known/acme-challenge/unknown-token', true)).status).toBe(404);
    expect([403, 404]).toContain((await get(web.https, '/.well-known/acme-challenge/', true)).status);
    expect(await get(web.https, '/SomeRoom', true)).toMatchObject({ status: 200, body: 'jitsi meet index\n' });
  });

  it("control: without the snippet the image's own .well-known location finds nothing (it aliases into /run)", async () => {
    const answer = await get(control.https, `/.well-known/acme-challenge/${TOKEN}`, true);
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('key-authorization');
  });
});

describe("jitsi-web's nginx follows Prosody to a new address (resolver valid= over Docker DNS's 600 s TTL)", () => {
  let dns: TestDnsServer;
  const backends: Server[] = [];
  let boshPort: number;
  beforeAll(async () => {
    dns = await startDnsServer(600);
    boshPort = await freePort();
    for (const address of ['127.0.0.2', '127.0.0.3']) {
      const server = createServer((req, res) => res.end(`prosody at ${address} ${req.url}`));
      await new Promise<void>((resolve) => server.listen(boshPort, address, resolve));
      backends.push(server);
    }
  });
  afterAll(async () => {
    await dns?.close();
    for (const server of backends) await new Promise((resolve) => server.close(resolve));
  });

  /** The stacks' NGINX_RESOLVER, with the local DNS server's address and `valid` shortened to keep the test short. */
  const resolverEnv = (valid: boolean) => {
    const [, validPart] = WEB_NGINX_RESOLVER_ENV.replace(/^NGINX_RESOLVER=/, '').split(' ');
    expect(validPart).toMatch(/^valid=\d+s$/);
    return `127.0.0.1:${dns.port}${valid ? ' valid=1s' : ''}`;
  };

  async function afterReplacement(valid: boolean): Promise<[string, string]> {
    dns.set('xmpp.meet.jitsi', '127.0.0.2');
    const web = await startWeb({
      withEntrypoint: true,
      env: { NGINX_RESOLVER: resolverEnv(valid), XMPP_BOSH_URL_BASE: `http://xmpp.meet.jitsi:${boshPort}` },
    });
    try {
      const before = (await get(web.https, '/http-bind', true)).body;
      dns.set('xmpp.meet.jitsi', '127.0.0.3'); // prosody's container replaced: same name, new address
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const after = (await get(web.https, '/http-bind', true)).body;
      return [before, after];
    } finally {
      await web.stop();
    }
  }

  it('with valid=, BOSH goes to the new address once the short validity has passed', async () => {
    const [before, after] = await afterReplacement(true);
    expect(before).toMatch(/^prosody at 127\.0\.0\.2 \/http-bind/);
    expect(after).toMatch(/^prosody at 127\.0\.0\.3 \/http-bind/);
    expect(dns.queries).toContain('xmpp.meet.jitsi/A');
  });

  it('control: with the TTL alone (600 s), nginx keeps sending to the old address', async () => {
    const [before, after] = await afterReplacement(false);
    expect(before).toMatch(/^prosody at 127\.0\.0\.2/);
    expect(after).toMatch(/^prosody at 127\.0\.0\.2/);
  });
});
