/**
 * meet-agent mounts Prosody's storage read-only (stacks/meet-agent.ts) and still reaches the admin socket in it:
 * connect() on a unix socket needs write permission on the socket file, not a writable mount. Shown with a real
 * Prosody 13, a read-only bind mount in a private mount namespace (unshare, as Docker's mount of the container would
 * be) and a client running as uid 1000 (the images' and the agent's uid); uid 1001 is refused, and nothing can be
 * written through the mount.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../support/prosody.js';

// Speaks just enough of mod_admin_socket's protocol (edge/agent/prosody/admin-socket.ts) to run one command.
const CLIENT = `
import { connect } from 'node:net';
const socket = connect(process.argv[2]);
let reply = '';
socket.setEncoding('utf8');
socket.on('connect', () => socket.write("<?xml version='1.0'?><stream:stream xmlns='xmpp:prosody.im/admin' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><repl-input repl='0'>server:version()</repl-input>"));
socket.on('data', (data) => {
  reply += data;
  if (reply.includes('</repl-result>')) { console.log('REPLY ' + reply.match(/<repl-result[^>]*>([^<]*)</)[1]); socket.destroy(); }
});
socket.on('error', (error) => { console.log('ERROR ' + error.code); process.exit(0); });
setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, 10000);
`;

let prosody: TestProsody;
let work: string;
beforeAll(async () => {
  prosody = await startTestProsody();
  // In production Prosody runs as uid 1000, so its socket (srwxr-xr-x) belongs to 1000: make this one alike.
  chownSync(prosody.socketPath, 1000, 1000);
  chmodSync(dirname(prosody.socketPath), 0o755);
  work = mkdtempSync(join(tmpdir(), 'meet-ro-'));
  chmodSync(work, 0o755);
  mkdirSync(join(work, 'mnt'));
  writeFileSync(join(work, 'client.mjs'), CLIENT, { mode: 0o644 });
});
afterAll(async () => {
  await prosody?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** In a private mount namespace: bind the socket's directory read-only, try a write as root, connect as `uid`. */
function throughReadOnlyBind(uid: number): Promise<string> {
  const mnt = join(work, 'mnt');
  const script = [
    'set -e',
    'mount --bind "$1" "$2"',
    'mount -o remount,bind,ro "$2"',
    'grep -q " $2 ro," /proc/self/mountinfo && echo MOUNT-RO',
    'if touch "$2/probe" 2>/dev/null; then echo WRITABLE; else echo NOT-WRITABLE; fi',
    'setpriv --reuid="$3" --regid="$3" --clear-groups node "$4" "$2/$5"',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        dirname(prosody.socketPath),
        mnt,
        String(uid),
        join(work, 'client.mjs'),
        'prosody.sock',
      ],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

describe("the agent's read-only mount of Prosody's storage", () => {
  it('uid 1000 runs an admin-shell command through the socket on a read-only bind mount', async () => {
    const out = await throughReadOnlyBind(1000);
    expect(out).toContain('MOUNT-RO');
    expect(out).toContain('NOT-WRITABLE');
    expect(out, out).toMatch(/^REPLY OK: \d+\.\d+/m); // server:version(), e.g. "OK: 13.0.1"
  });

  it("control: uid 1001 is refused by the socket's permissions, so the check above can fail", async () => {
    expect(await throughReadOnlyBind(1001)).toMatch(/^ERROR EACCES$/m);
  });
});
