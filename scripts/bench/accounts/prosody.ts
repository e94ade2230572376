/**
 * The accounts bench's Prosody figures: the prosodyctl baseline, where Prosody's own time goes per account, and
 * checking a password over the admin socket vs a real SCRAM login.
 */
import { spawn } from 'node:child_process';
import { AdminSocketConnection } from '../../../edge/agent/prosody/admin-socket.js';
import { createUserLine, luaLiteral, storeHashedUserLine } from '../../../edge/agent/prosody/lua.js';
import { scramCredentials } from '../../../edge/agent/prosody/scram.js';
import type { AdminSocketAccounts } from '../../../edge/agent/prosody/socket-accounts.js';
import type { LocalProsody } from '../../lib/local-prosody.js';
import { xmppLogin } from '../../lib/xmpp-login.js';

const PROSODY_SAMPLES = 100;

/** Each measurement's samples in ms (and the PBKDF2 iteration count Prosody uses). */
export interface ProsodyTimes {
  readonly baseline: number[];
  readonly userCreate: number[];
  readonly singleCall: number[];
  readonly storeHashed: number[];
  readonly pbkdf2: number[];
  readonly iterations: number;
  readonly viaSocket: number[];
  readonly viaScram: number[];
}

/**
 * Measures on `prosody` (its c2s at `port`): `baselineCount` prosodyctl creations, then the split; the password
 * checks use the account warm1 the bench's warm-up created.
 */
export async function measureProsody(
  prosody: LocalProsody,
  accounts: AdminSocketAccounts,
  port: number,
  baselineCount: number,
): Promise<ProsodyTimes> {
  // Baseline: one synchronous `prosodyctl shell user create` per account, password on stdin.
  const baseline: number[] = [];
  for (let i = 0; i < baselineCount; i++) {
    const started = performance.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        'prosodyctl',
        ['--config', prosody.configPath, 'shell', 'user', 'create', `base${i}@meet.jitsi`],
        {
          stdio: ['pipe', 'ignore', 'ignore'],
        },
      );
      child.stdin.end(`baseline password ${i}\nbaseline password ${i}\n`);
      child.once('exit', resolve);
    });
    baseline.push(performance.now() - started);
    if (code !== 0) throw new Error(`prosodyctl shell user create exited ${code}`);
  }

  // Where Prosody's own time goes, per account, one at a time on one admin connection: Prosody 13's
  // `user:create` (create disabled, set role, set password, enable: four writes, and a yield for the password)
  // vs the agent's single call (one write of the hashed account plus the role), vs the PBKDF2 alone.
  const prosodyTimes = {
    userCreate: [] as number[],
    singleCall: [] as number[],
    storeHashed: [] as number[],
    pbkdf2: [] as number[],
  };
  const direct = new AdminSocketConnection({ socketPath: prosody.socketPath });
  const iterations = Number(
    (
      await direct.run('>require"core.configmanager".get("meet.jitsi", "default_iteration_count") or 10000')
    ).text.replace('Result: ', ''),
  );
  for (let i = 0; i < PROSODY_SAMPLES; i++) {
    const password = `prosody split password ${i}`;
    let started = performance.now();
    if (!(await direct.run(`user:create(${luaLiteral(`split${i}@meet.jitsi`)})`, password)).ok)
      throw new Error('user:create failed');
    prosodyTimes.userCreate.push(performance.now() - started);
    started = performance.now();
    if (!(await direct.run(createUserLine(`single${i}`, 'meet.jitsi', password))).ok)
      throw new Error('single-call create failed');
    prosodyTimes.singleCall.push(performance.now() - started);
    // What the agent sends now: credentials computed outside Prosody, which only stores them.
    const credentials = await scramCredentials(password, { hash: 'SHA-1', iterations });
    started = performance.now();
    if (!(await direct.run(storeHashedUserLine(`stored${i}`, 'meet.jitsi', credentials))).ok)
      throw new Error('stored-hashed create failed');
    prosodyTimes.storeHashed.push(performance.now() - started);
    started = performance.now();
    await direct.run(
      `>require"util.hashes".pbkdf2_hmac_sha1(${luaLiteral(password)}, "bench salt", ${iterations}) ~= nil`,
    );
    prosodyTimes.pbkdf2.push(performance.now() - started);
  }
  direct.close();

  // Checking an existing account's password: admin socket test_password vs a real SCRAM login.
  const viaSocket: number[] = [];
  const viaScram: number[] = [];
  for (let i = 0; i < 10; i++) {
    let started = performance.now();
    if (!(await accounts.verify('warm1', 'warm up password 1'))) throw new Error('verify failed');
    viaSocket.push(performance.now() - started);
    started = performance.now();
    if (!(await xmppLogin({ port, username: 'warm1', password: 'warm up password 1' })))
      throw new Error('login failed');
    viaScram.push(performance.now() - started);
  }

  return { baseline, ...prosodyTimes, iterations, viaSocket, viaScram };
}
