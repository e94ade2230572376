import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProsodyctlAccounts } from '../../../../edge/agent/prosody/prosodyctl-accounts.js';
import { ensureProsody012 } from '../../../support/prosody012.js';
import { startTestProsody, type TestProsody } from '../../../support/prosody.js';
import { TRICKY } from '../../../support/tricky-passwords.js';
import { xmppLogin } from '../../../support/xmpp.js';

describe('ProsodyctlAccounts against Prosody 0.12 (the fallback)', () => {
  let prosody: TestProsody;
  let accounts: ProsodyctlAccounts;
  beforeAll(async () => {
    const p012 = await ensureProsody012();
    prosody = await startTestProsody({ prosodyBinary: p012.prosody, prosodyctlBinary: p012.prosodyctl });
    accounts = new ProsodyctlAccounts({ configPath: prosody.configPath, prosodyctl: p012.prosodyctl });
  }, 120_000);
  afterAll(async () => {
    await prosody?.dispose();
  });

  it('runs a real 0.12', async () => {
    expect(await prosody.prosodyctl(['about'])).toMatchObject({ stdout: expect.stringMatching(/Prosody 0\.12\./) });
  });

  it('creates with adduser, refuses an existing name without touching it, and verifies passwords', async () => {
    const password = TRICKY[3]!;
    expect(await accounts.create('bob', password)).toEqual({ kind: 'created' });
    expect(await accounts.create('bob', 'other password 2')).toEqual({ kind: 'exists' });
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'bob', password })).toBe(true);
    expect(await xmppLogin({ port: prosody.c2sPort, username: 'bob', password: 'other password 2' })).toBe(false);
    expect(await accounts.verify('bob', password)).toBe(true);
    expect(await accounts.verify('bob', 'other password 2')).toBe(false);
  });

  it('handles every tricky password', async () => {
    for (const [index, password] of TRICKY.entries()) {
      expect(await accounts.create(`old${index}`, password)).toEqual({ kind: 'created' });
      expect(await xmppLogin({ port: prosody.c2sPort, username: `old${index}`, password, mechanism: 'PLAIN' })).toBe(
        true,
      );
    }
  });
});
