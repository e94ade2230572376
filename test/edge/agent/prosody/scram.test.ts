import { describe, expect, it } from 'vitest';
import { parseHashingScheme } from '../../../../edge/agent/prosody/answers.js';
import { luaLiteral, storeHashedUserLine } from '../../../../edge/agent/prosody/lua.js';
import { hashableOutsideProsody, scramCredentials } from '../../../../edge/agent/prosody/scram.js';

describe('SCRAM credentials made by the agent', () => {
  it('hashes only passwords our policy admits (SASLprep leaves them unchanged); the rest is left to Prosody', () => {
    expect(hashableOutsideProsody('Ünïcödé пароль 密码')).toBe(true);
    expect(hashableOutsideProsody('has spaces in it')).toBe(true);
    expect(hashableOutsideProsody('bell \u0007 password')).toBe(false);
    expect(hashableOutsideProsody('ﬁne ligature password')).toBe(false); // NFKC changes it
    expect(hashableOutsideProsody('short')).toBe(false);
  });

  it('the store line carries no password, only the derived keys as escaped literals', async () => {
    const password = 'a secret password 1';
    const credentials = await scramCredentials(password, { hash: 'SHA-1', iterations: 10000 });
    expect(credentials.salt).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const line = storeHashedUserLine('someone', 'meet.jitsi', credentials);
    expect(line).not.toContain(luaLiteral(password));
    expect(line).not.toContain(password);
    expect(line).toContain(luaLiteral(credentials.storedKey));
    expect(line).not.toMatch(/[\n\r]/);
  });

  it('reads a hashing scheme only when it is one we can reproduce', () => {
    expect(parseHashingScheme('Result: SHA-1 10000')).toEqual({ hash: 'SHA-1', iterations: 10000 });
    expect(parseHashingScheme('Result: SHA-256 20000')).toEqual({ hash: 'SHA-256', iterations: 20000 });
    expect(parseHashingScheme('Result: none')).toBeNull();
    expect(parseHashingScheme('Result: SHA-1 100')).toBeNull();
    expect(parseHashingScheme('Result: SHA-1 10000.5')).toBeNull();
  });
});
