import { describe, expect, it } from 'vitest';
import { generateSealingKeyPair, openSeal, seal, SealError, sealingKeyId, sealingPublicKeyOf } from '../../../edge/shared/sealing.js';

describe('sealing', () => {
  const agent = generateSealingKeyPair();
  const context = 'job-1\nalice';

  it('round-trips any password, including spaces and every script', () => {
    for (const password of ['correct horse battery staple', 'пароль очень длинный', '密码密码密码密码密码', 'x'.repeat(1024)]) {
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
});
