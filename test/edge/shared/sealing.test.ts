import { describe, expect, it } from 'vitest';
import {
  generateSealingKeyPair,
  openSeal,
  seal,
  SealError,
  sealingKeyId,
  sealingPublicKeyOf,
  sealContext,
} from '../../../edge/shared/sealing.js';

describe('sealing', () => {
  const agent = generateSealingKeyPair();
  const context = 'job-1\nalice';

  it('round-trips any password, including spaces and every script', () => {
    for (const password of [
      'correct horse battery staple',
      'пароль очень длинный',
      '密码密码密码密码密码',
      'x'.repeat(1024),
    ]) {
      expect(openSeal([agent.privateKey], seal(agent.publicKey, password, context), context)).toBe(password);
    }
  });

  it('does not contain the plaintext, and each seal is fresh', () => {
    const a = seal(agent.publicKey, 'correct horse battery staple', context);
    const b = seal(agent.publicKey, 'correct horse battery staple', context);
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64url').includes(Buffer.from('correct horse'))).toBe(false);
  });

  it('binds the seal to its context (job id and username)', () => {
    const sealed = seal(agent.publicKey, 'secret password', context);
    expect(() => openSeal([agent.privateKey], sealed, 'job-2\nalice')).toThrow(SealError);
    expect(() => openSeal([agent.privateKey], sealed, 'job-1\nmallory')).toThrow(SealError);
  });

  it('opens only with the right private key, and tries every key (rotation)', () => {
    const other = generateSealingKeyPair();
    const sealed = seal(agent.publicKey, 'secret password', context);
    expect(() => openSeal([other.privateKey], sealed, context)).toThrow(/does not hold/);
    expect(openSeal([other.privateKey, agent.privateKey], sealed, context)).toBe('secret password');
  });

  it('rejects tampering and garbage with SealError carrying no secret', () => {
    const sealed = Buffer.from(seal(agent.publicKey, 'secret password', context), 'base64url');
    sealed[sealed.length - 1]! ^= 1;
    expect(() => openSeal([agent.privateKey], sealed.toString('base64url'), context)).toThrow(SealError);
    expect(() => openSeal([agent.privateKey], 'AAAA', context)).toThrow(/malformed/);
    try {
      openSeal([agent.privateKey], sealed.toString('base64url'), context);
    } catch (error) {
      expect((error as Error).message).not.toContain('secret password');
      expect((error as Error).message).not.toContain(agent.privateKey);
    }
  });

  it('derives public keys and key ids consistently, and refuses malformed keys', () => {
    expect(sealingPublicKeyOf(agent.privateKey)).toBe(agent.publicKey);
    expect(sealingKeyId(agent.publicKey)).toHaveLength(8);
    expect(() => seal('short', 'x', context)).toThrow(/32 bytes/);
    expect(() => sealingKeyId(`${agent.publicKey}AA`)).toThrow();
  });

  it('keeps keys apart although key material is cached: two key pairs used in turn, then a rotation', () => {
    const first = generateSealingKeyPair();
    const second = generateSealingKeyPair();
    for (let round = 0; round < 3; round++) {
      const toFirst = seal(first.publicKey, `for the first ${round}`, context);
      const toSecond = seal(second.publicKey, `for the second ${round}`, context);
      expect(sealingKeyId(first.publicKey).equals(sealingKeyId(second.publicKey))).toBe(false);
      expect(openSeal([first.privateKey], toFirst, context)).toBe(`for the first ${round}`);
      expect(openSeal([second.privateKey], toSecond, context)).toBe(`for the second ${round}`);
      expect(() => openSeal([first.privateKey], toSecond, context)).toThrow(/does not hold/);
      expect(() => openSeal([second.privateKey], toFirst, context)).toThrow(/does not hold/);
      expect(openSeal([second.privateKey, first.privateKey], toFirst, context)).toBe(`for the first ${round}`);
    }
    // Rotation: the agent gets a new key first, keeps the old one a while, then drops it.
    const rotated = generateSealingKeyPair();
    const old = seal(first.publicKey, 'sealed before the rotation', context);
    const fresh = seal(rotated.publicKey, 'sealed after the rotation', context);
    expect(openSeal([rotated.privateKey, first.privateKey], old, context)).toBe('sealed before the rotation');
    expect(openSeal([rotated.privateKey, first.privateKey], fresh, context)).toBe('sealed after the rotation');
    expect(() => openSeal([rotated.privateKey], old, context)).toThrow(/does not hold/);
  });

  it('opens seals made with a public key given in another spelling of the same bytes (padding) alike', () => {
    const padded = `${agent.publicKey}=`;
    expect(() => seal(padded, 'x', context)).not.toThrow();
    expect(openSeal([agent.privateKey], seal(padded, 'padded key', context), context)).toBe('padded key');
  });
});

describe('sealContext', () => {
  it('is the job id and the folded username on two lines, as the job protocol fixes it', () => {
    expect(sealContext('job1', 'alice')).toBe('job1\nalice');
    const { publicKey, privateKey } = generateSealingKeyPair();
    const sealed = seal(publicKey, 'a password', sealContext('job1', 'alice'));
    expect(openSeal([privateKey], sealed, 'job1\nalice')).toBe('a password');
    expect(() => openSeal([privateKey], sealed, sealContext('job2', 'alice'))).toThrow(SealError);
  });
});
