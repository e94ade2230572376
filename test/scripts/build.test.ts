/**
 * `npm run build`: the services and container CLIs compile to dist/ and run with plain node (no tsx loader), with
 * the production node flags that edge/Dockerfile and the benchmark use.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateSealingKeyPair } from '../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../edge/shared/signing.js';
import { AGENT_NODE_FLAGS, EDGE_NODE_FLAGS } from '../../scripts/bench/edge.mts';
import { AGENT_COMMAND, EDGE_COMMAND } from '../../stacks/provisioning.js';
import { startNodeService } from '../support/node-service.js';
import { freePort } from '../support/ports.js';

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
  expect([...EDGE_COMMAND]).toEqual(cmd);
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
  expect(bad.code).toBe(1);
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
}, 30_000);
