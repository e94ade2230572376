/**
 * scripts/wait-for-host.sh, the readiness gate's program. The network and the hosts cannot run here: `ssh` and
 * `ssh-keygen` are scripts on PATH that answer like a host in each phase of its first boot and record their argv.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';

const SCRIPT = join(REPO_ROOT, 'scripts/wait-for-host.sh');
const dir = mkdtempSync(join(tmpdir(), 'meet-wait-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The fake ssh: PHASE=down (refused), ssh-only (login works, docker is not there yet), ready.
writeFileSync(
  join(dir, 'ssh'),
  `#!/bin/sh
echo "$*" >> "${dir}/ssh.log"
for last; do :; done
case "$PHASE" in
  down) echo "ssh: connect to host: Connection refused" >&2; exit 255;;
  ssh-only) [ "$last" = true ] && exit 0; echo "permission denied while trying to connect to the Docker daemon socket" >&2; exit 1;;
  ready) [ "$last" = true ] && exit 0; echo "20.10.24+dfsg1"; exit 0;;
esac
`,
);
writeFileSync(join(dir, 'ssh-keygen'), `#!/bin/sh\necho "$*" >> "${dir}/keygen.log"\n`);
chmodSync(join(dir, 'ssh'), 0o755);
chmodSync(join(dir, 'ssh-keygen'), 0o755);

function run(phase: string, env: Record<string, string> = {}, args = ['jitsi']) {
  rmSync(join(dir, 'ssh.log'), { force: true });
  rmSync(join(dir, 'keygen.log'), { force: true });
  const result = spawnSync('sh', [SCRIPT, ...args], {
    encoding: 'utf8',
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      PHASE: phase,
      MEET_SSH_USER: 'alice',
      MEET_SSH_ADDRESS: '172.16.16.5',
      MEET_SSH_BASTION: 'bastion.wmcloud.org',
      MEET_WAIT_SECONDS: '1',
      MEET_RETRY_SECONDS: '1',
      ...env,
    },
  });
  const log = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8').trim().split('\n');
    } catch {
      return [];
    }
  };
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    ssh: log('ssh.log'),
    keygen: log('keygen.log'),
  };
}

describe('wait-for-host.sh', () => {
  it('ready: exits 0 once ssh as the deploy account and docker both answer, through the bastion, never prompting', () => {
    const result = run('ready');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('host jitsi (172.16.16.5) is ready: ssh as alice, Docker 20.10.24+dfsg1\n');
    expect(result.ssh).toEqual([
      '-o BatchMode=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=accept-new -o ProxyJump=bastion.wmcloud.org alice@172.16.16.5 true',
      '-o BatchMode=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=accept-new -o ProxyJump=bastion.wmcloud.org alice@172.16.16.5 docker version --format {{.Server.Version}}',
    ]);
  });

  it('sshd refusing until the timeout: exit 1 naming the host and what it waited for', () => {
    const result = run('down');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'host jitsi (172.16.16.5): gave up after 1 s waiting for sshd on 172.16.16.5 to accept alice (via bastion.wmcloud.org); last answer: ssh: connect to host: Connection refused\n',
    );
    expect(result.ssh.length).toBeGreaterThanOrEqual(1);
  });

  it('ssh works but dockerd does not answer the account: the message says so', () => {
    const result = run('ssh-only');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'waiting for dockerd to answer alice; last answer: permission denied while trying to connect to the Docker daemon socket',
    );
  });

  it('a new host: the key known_hosts holds for its address (from the instance it replaced) is dropped first', () => {
    expect(run('ready', { MEET_FORGET_HOST_KEY: '1' }).keygen).toEqual(['-R 172.16.16.5']);
    expect(run('ready').keygen).toEqual([]);
  });

  it('usage errors exit 2 and contact nothing', () => {
    const missing = run('ready', { MEET_SSH_USER: '' });
    expect([missing.code, missing.ssh]).toEqual([2, []]);
    expect(missing.stderr).toContain('usage: MEET_SSH_USER=');
    const bad = run('ready', { MEET_WAIT_SECONDS: '10m' });
    expect([bad.code, bad.ssh]).toEqual([2, []]);
    expect(bad.stderr).toContain('MEET_WAIT_SECONDS and MEET_RETRY_SECONDS must be whole numbers');
    expect(run('ready', {}, []).code).toBe(2);
  });
});
