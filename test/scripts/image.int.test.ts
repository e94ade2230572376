/**
 * The container image's contents, laid out as edge/Dockerfile lays them out but without Docker (no engine here):
 * the build stage's output (`tsc -p tsconfig.build.json`, into the image directory's dist/) beside the production
 * dependencies alone (what `npm ci --omit=dev` installs: the packages `npm ls --omit=dev` lists, hard-linked from
 * this checkout). Every entry point the stacks and timers run must start from there with plain node: a runtime
 * import of a development package (tsx, cdktf, vitest...) would fail here as it would in the image.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateSealingKeyPair } from '../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../edge/shared/signing.js';
import { AGENT_COMMAND, MEET_AUTH_COMMAND } from '../../stacks/heap-flags.js';
import { startNodeService } from '../support/node-service.js';
import { freePort } from '../support/ports.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let image: string;
let dataDir: string;
const children: ChildProcess[] = [];

function run(command: string, args: readonly string[], options: { cwd: string; env?: Record<string, string> }) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    // Nothing to read: close its stdin (a child that already exited makes that an EPIPE, which is no failure).
    child.stdin?.on('error', () => undefined).end();
  });
}

/** Runs one of the image's commands (`node ...`, as the stacks write them) from the image directory. */
function inImage(argv: readonly string[], env: Record<string, string> = {}) {
  expect(argv[0]).toBe('node');
  return run(process.execPath, argv.slice(1), { cwd: image, env: { NODE_ENV: 'production', ...env } });
}

/** Starts a service command (`node ...`, as the stacks write it) in the image directory. */
function startInImage(argv: readonly string[], env: Record<string, string>): Promise<string> {
  expect(argv[0]).toBe('node');
  return startNodeService(argv.slice(1), { cwd: image, env: { NODE_ENV: 'production', ...env }, children });
}

beforeAll(async () => {
  image = await mkdtemp(join(tmpdir(), 'meet-image-'));
  dataDir = await mkdtemp(join(tmpdir(), 'meet-image-data-'));
  // The build stage: compile into the image's own dist/ (not the checkout's, which other tests build).
  const build = await run(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(image, 'dist')],
    { cwd: ROOT },
  );
  expect(build.stdout + build.stderr).toBe('');
  expect(build.code).toBe(0);
  // The runtime stage: package.json and the production dependencies only.
  await copyFile(join(ROOT, 'package.json'), join(image, 'package.json'));
  const listed = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT });
  expect(listed.code).toBe(0);
  const packages = listed.stdout.split('\n').filter((line) => line.startsWith(join(ROOT, 'node_modules')));
  // A package nested inside another listed one comes along with it.
  const tops = packages.filter((path) => !packages.some((other) => other !== path && path.startsWith(`${other}/`)));
  for (const path of tops) {
    const target = join(image, relative(ROOT, path));
    await mkdir(dirname(target), { recursive: true });
    const linked = await run('cp', ['-al', path, target], { cwd: ROOT });
    expect(linked.stderr).toBe('');
  }
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(image, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

it('holds no development package: the deployment tooling and the test tools stay out of the image', () => {
  for (const dev of [
    'tsx',
    'typescript',
    'vitest',
    'cdktf',
    'cdktf-cli',
    '@cdktf/provider-docker',
    'constructs',
    '@xmpp/client',
    'playwright-core',
  ]) {
    expect(existsSync(join(image, 'node_modules', dev)), dev).toBe(false);
  }
  for (const runtime of ['hono', 'better-sqlite3', '@node-rs/bcrypt', 'acme-client', 'zx']) {
    expect(existsSync(join(image, 'node_modules', runtime)), runtime).toBe(true);
  }
});

it('runs meet-auth and the agent with the commands the services stack gives their containers', async () => {
  const sealing = generateSealingKeyPair();
  const signing = generateSigningSecret();
  const [edgeUrl, agentUrl] = await Promise.all([
    startInImage(MEET_AUTH_COMMAND, {
      MEET_DATA_DIR: join(dataDir, 'edge'),
      MEET_AUTH_PORT: String(await freePort()),
      MEET_AGENTS: JSON.stringify([{ name: 'one', url: 'http://127.0.0.1:9', sealingPublicKey: sealing.publicKey }]),
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ one: signing }),
      MEET_LOG_LEVEL: 'warn',
    }),
    startInImage(AGENT_COMMAND, {
      MEET_DATA_DIR: join(dataDir, 'agent'),
      MEET_AGENT_PORT: String(await freePort()),
      MEET_AGENT_SIGNING_SECRETS: signing,
      MEET_AGENT_SEALING_KEYS: sealing.privateKey,
      MEET_PROSODY_SOCKET: join(dataDir, 'no-prosody.sock'),
      MEET_LOG_LEVEL: 'warn',
    }),
  ]);
  expect((await fetch(`${edgeUrl}/healthz`)).status).toBe(200);
  expect(await (await fetch(`${agentUrl}/healthz`)).json()).toMatchObject({ status: 'ok' });
}, 30_000);

it('runs the container CLIs: ticketmaster and tickets (SQLite, bcrypt), the account worker, certs', async () => {
  const env = { MEET_DATA_DIR: join(dataDir, 'cli') };
  const added = await inImage(['node', 'dist/scripts/ticketmaster.mjs', 'add', 'Image Tester'], env);
  expect(added.stderr).not.toMatch(/error/i);
  expect(added.code).toBe(0);
  expect(added.stdout.trim().split('\n').at(-1)).toMatch(/^\S{20,}$/);
  const listed = await inImage(['node', 'dist/scripts/tickets.mjs', 'list'], env);
  expect(listed.code).toBe(0);
  const worker = await inImage(['node', 'dist/scripts/create-accounts.mjs', '--help']);
  expect(worker.code).toBe(0);
  expect(worker.stdout).toContain('usage: npm run create-accounts');
  const certs = await inImage(['node', 'dist/scripts/certs.mjs', 'status'], env);
  // Unconfigured: a configuration error (2) naming the variable, not a missing module.
  expect(certs.code).toBe(2);
  expect(certs.stderr).toContain('MEET_CERT_DOMAINS');
}, 60_000);
