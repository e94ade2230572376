/**
 * `npm run build`: the services and container CLIs compile to dist/ and run with plain node (no tsx loader), with
 * the production node flags that edge/Dockerfile and the benchmark use.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateSealingKeyPair } from '../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../edge/shared/signing.js';
import { AGENT_NODE_FLAGS, EDGE_NODE_FLAGS } from '../../scripts/bench/edge.mts';
import { AGENT_COMMAND, MEET_AUTH_COMMAND } from '../../stacks/heap-flags.js';
import { openDatabase } from '../../edge/auth/store/db.js';
import { addTicketmaster, verifyTicketmasterToken } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { startNodeService } from '../support/node-service.js';
import { freePort } from '../support/ports.js';
import { startTestProsody } from '../support/prosody.js';
import { xmppLogin } from '../support/xmpp.js';
import { until } from '../support/until.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let dataDir: string;
const children: ChildProcess[] = [];

function run(command: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Starts `node <argv>` from the repository root with only `env`. */
const start = (argv: string[], env: Record<string, string>) => startNodeService(argv, { cwd: ROOT, env, children });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'meet-build-'));
  const build = await run('npm', ['run', '--silent', 'build']);
  expect(build.stderr.replace(/^npm warn .*\n?/gm, '')).toBe('');
  expect(build.code).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

it('edge/Dockerfile runs the built edge with the flags the benchmark measured, and documents the agent line', async () => {
  const dockerfile = await readFile(join(ROOT, 'edge/Dockerfile'), 'utf8');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  expect(cmd).toEqual(['node', ...EDGE_NODE_FLAGS, 'dist/edge/auth/main.js']);
  expect(dockerfile).toContain(`node ${AGENT_NODE_FLAGS.join(' ')} dist/edge/agent/main.js`);
  const instructions = dockerfile.split('\n').filter((line) => !line.startsWith('#'));
  expect(instructions.join('\n')).not.toContain('tsx');
  // The services stack runs the same command lines.
  expect([...MEET_AUTH_COMMAND]).toEqual(cmd);
  expect([...AGENT_COMMAND]).toEqual(['node', ...AGENT_NODE_FLAGS, 'dist/edge/agent/main.js']);
});

it('the built meet-auth and agent start with plain node and answer /healthz', async () => {
  const sealing = generateSealingKeyPair();
  const signing = generateSigningSecret();
  const [edgeUrl, agentUrl] = await Promise.all([
    start([...EDGE_NODE_FLAGS, 'dist/edge/auth/main.js'], {
      MEET_DATA_DIR: dataDir,
      MEET_AUTH_PORT: String(await freePort()),
      MEET_AGENTS: JSON.stringify([{ name: 'one', url: 'http://127.0.0.1:9', sealingPublicKey: sealing.publicKey }]),
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ one: signing }),
      MEET_LOG_LEVEL: 'warn',
    }),
    start([...AGENT_NODE_FLAGS, 'dist/edge/agent/main.js'], {
      MEET_DATA_DIR: dataDir,
      MEET_AGENT_PORT: String(await freePort()),
      MEET_AGENT_SIGNING_SECRETS: signing,
      MEET_AGENT_SEALING_KEYS: sealing.privateKey,
      MEET_PROSODY_SOCKET: join(dataDir, 'no-prosody.sock'),
      MEET_LOG_LEVEL: 'warn',
    }),
  ]);
  const edge = await fetch(`${edgeUrl}/healthz`);
  expect(edge.status).toBe(200);
  const agent = await fetch(`${agentUrl}/healthz`);
  expect(agent.status).toBe(200);
  expect(await agent.json()).toMatchObject({ status: 'ok' });
}, 30_000);

it('the built CLIs run with plain node: create-accounts, ticketmaster, accounts and certs', async () => {
  const worker = await run(process.execPath, ['dist/scripts/create-accounts.mjs', '--help']);
  expect(worker.code).toBe(0);
  expect(worker.stdout).toContain('usage: npm run create-accounts');
  const bad = await run(process.execPath, ['dist/scripts/create-accounts.mjs'], { MEET_DATA_DIR: dataDir });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('MEET_AGENT_SEALING_KEYS');
  const ticketmaster = await run(process.execPath, ['dist/scripts/ticketmaster.mjs', '--help']);
  expect(ticketmaster.code).toBe(0);
  expect(ticketmaster.stdout).toContain('usage: npm run ticketmaster');
  // What operators run in production: docker exec meet-edge node dist/scripts/accounts.mjs ...
  const accounts = await run(process.execPath, ['dist/scripts/accounts.mjs', '--help']);
  expect(accounts.code).toBe(0);
  expect(accounts.stdout).toContain('usage: npm run accounts');
  const noAgents = await run(process.execPath, ['dist/scripts/accounts.mjs', 'list'], { MEET_DATA_DIR: dataDir });
  expect(noAgents.code).toBe(2);
  expect(noAgents.stderr).toContain('no agents configured');
  // What the meet-cert-renewal timer runs in the containers (loads acme-client under plain node).
  const certs = await run(process.execPath, ['dist/scripts/certs.mjs', '--help']);
  expect(certs.code).toBe(0);
  expect(certs.stdout).toContain('usage: npm run certs');
  const unconfigured = await run(process.execPath, ['dist/scripts/certs.mjs', 'renew'], { MEET_DATA_DIR: dataDir });
  expect(unconfigured.code).toBe(2);
  expect(unconfigured.stderr).toContain('MEET_CERT_DOMAINS: is required');
  // What the backup timer and admins run in meet-edge (loads @aws-sdk/client-s3 under plain node).
  for (const cli of ['backup', 'restore', 'rotate']) {
    const help = await run(process.execPath, [`dist/scripts/${cli}.mjs`, '--help']);
    expect(help.code, cli).toBe(0);
    expect(help.stdout).toContain(`usage: npm run ${cli}`);
  }
}, 30_000);

/**
 * Holds `count` connections from `from` (one address, or `spread` addresses 127.0.N.M) open for `seconds`, each
 * sending the headers of a POST and a few bytes of its body ('body') or only half its headers ('headers'). Its own
 * process, with the file limit raised to the hard limit, so thousands of sockets fit.
 */
const ATTACKER = `
const net = require('node:net');
const [port, count, mode, spread, seconds] = process.argv.slice(1).map((arg, i) => (i === 2 ? arg : Number(arg)));
let open = 0;
for (let i = 0; i < count; i++) {
  const n = i % spread;
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: spread === 1 ? '127.0.0.2' : '127.0.' + (10 + Math.floor(n / 200)) + '.' + (1 + (n % 200)) });
  socket.on('connect', () => {
    open++;
    socket.write(mode === 'body'
      ? 'POST /create HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 12000\\r\\n\\r\\n{"us'
      : 'POST /create HTTP/1.1\\r\\nHost: x\\r\\n');
  });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
}
setTimeout(() => { console.log(open); process.exit(0); }, seconds * 1000);
`;

/** `node <args>` with the file limit raised to the hard limit (CI's default soft limit is 1024). */
const unlimited = (args: string[]) => ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...args];

it('the built meet-auth, with its production heap, stays up under thousands of half-sent requests and still makes accounts', async () => {
  const prosody = await startTestProsody();
  try {
    const sealing = generateSealingKeyPair();
    const signing = generateSigningSecret();
    const agentUrl = await start([...AGENT_NODE_FLAGS, 'dist/edge/agent/main.js'], {
      MEET_DATA_DIR: join(dataDir, 'attack-agent'),
      MEET_AGENT_PORT: String(await freePort()),
      MEET_AGENT_SIGNING_SECRETS: signing,
      MEET_AGENT_SEALING_KEYS: sealing.privateKey,
      MEET_PROSODY_SOCKET: prosody.socketPath,
      MEET_XMPP_DOMAIN: prosody.domain,
      MEET_LOG_LEVEL: 'warn',
    });
    const edgeDir = join(dataDir, 'attack-edge');
    const port = await freePort();
    const edge = spawn('/bin/sh', unlimited([...EDGE_NODE_FLAGS, 'dist/edge/auth/main.js']), {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        MEET_DATA_DIR: edgeDir,
        MEET_AUTH_PORT: String(port),
        MEET_AGENTS: JSON.stringify([{ name: 'one', url: agentUrl, sealingPublicKey: sealing.publicKey }]),
        MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ one: signing }),
        MEET_XMPP_DOMAIN: prosody.domain,
        MEET_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(edge);
    let edgeStderr = '';
    await new Promise<void>((resolve, reject) => {
      edge.stderr!.on('data', (chunk) => ((edgeStderr += chunk), /listening on/.test(edgeStderr) && resolve()));
      edge.once('exit', (code) => reject(new Error(`meet-auth exited ${code}: ${edgeStderr}`)));
    });
    const db = openDatabase(edgeDir);
    const check = await verifyTicketmasterToken(db, await addTicketmaster(db, 'Attack test', 4));
    if (!check.ok) throw new Error('ticketmaster does not verify');
    const tickets = [1, 2].map(() => mintTicket(db, check.ticketmaster, { expiresInHours: 1 }).ticket);
    db.close();

    const attackers = [
      spawn('/bin/sh', unlimited(['-e', ATTACKER, String(port), '6000', 'body', '1', '12'])),
      spawn('/bin/sh', unlimited(['-e', ATTACKER, String(port), '3000', 'headers', '100', '12'])),
    ];
    children.push(...attackers);
    const redeem = async (ticket: string, user: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ user, password: 'attack test password', token: ticket }),
      });
      return { status: res.status, body: (await res.json()) as { request?: string; status?: string } };
    };
    await new Promise((resolve) => setTimeout(resolve, 4000)); // the attack is in full swing
    const during = await redeem(tickets[0]!, 'during-attack');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const later = await redeem(tickets[1]!, 'later-in-attack');
    await Promise.all(attackers.map((attacker) => new Promise((resolve) => attacker.once('exit', resolve))));

    expect(edge.exitCode, edgeStderr.slice(-2000)).toBeNull();
    expect(during).toMatchObject({ status: 202 });
    expect(later).toMatchObject({ status: 202 });
    for (const [user, answer] of [
      ['during-attack', during],
      ['later-in-attack', later],
    ] as const) {
      const statusOf = async () =>
        (
          (await (
            await fetch(`http://127.0.0.1:${port}/status/${answer.body.request}`, {
              headers: { accept: 'application/json' },
            })
          ).json()) as { status: string }
        ).status;
      const status =
        answer.body.status === 'created'
          ? 'created'
          : await until(`${user} is created`, statusOf, (now) => now === 'created', {
              timeoutMs: 10_000,
              everyMs: 200,
            }).catch(statusOf);
      expect(status).toBe('created');
      expect(
        await xmppLogin({
          port: prosody.c2sPort,
          domain: prosody.domain,
          username: user,
          password: 'attack test password',
          mechanism: 'PLAIN',
        }),
      ).toBe(true);
    }
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  } finally {
    await prosody.dispose();
  }
}, 90_000);
