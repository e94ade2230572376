import { describe, expect, it } from 'vitest';
import {
  decodeSigningSecret,
  generateSigningSecret,
  parseSigningSecrets,
  signRequest,
  verifyRequest,
} from '../../../edge/shared/signing.js';

const body = JSON.stringify({ id: 'job-1', username: 'alice', sealedPassword: 'x' });
const at = new Date('2026-05-01T12:00:00Z');

function input(headers: Record<string, string>, rawBody = body) {
  return {
    id: headers['webhook-id'],
    timestamp: headers['webhook-timestamp'],
    signature: headers['webhook-signature'],
    body: rawBody,
  };
}

describe('signing secrets', () => {
  it('are whsec_ + 32 random bytes and parse as lists (rotation)', () => {
    const a = generateSigningSecret();
    const b = generateSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    expect(parseSigningSecrets(`${a} ${b}`)).toHaveLength(2);
    expect(parseSigningSecrets(`${a},${b}`)).toHaveLength(2);
    expect(decodeSigningSecret(a)).toHaveLength(32);
  });

  it('refuse malformed secrets without echoing them', () => {
    for (const bad of ['', '   ', 'plain', 'whsec_c2hvcnQ=']) {
      try {
        parseSigningSecrets(bad);
        expect.unreachable();
      } catch (error) {
        const message = (error as Error).message;
        if (bad.length > 6) expect(message).not.toContain(bad.slice(6));
      }
    }
  });
});

describe('signRequest / verifyRequest', () => {
  const [key] = parseSigningSecrets(generateSigningSecret());

  it('round-trips, with the job id as webhook-id', () => {
    const headers = signRequest([key!], 'job-1', body, at);
    expect(headers['webhook-id']).toBe('job-1');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyRequest([key!], input(headers), at)).toBeNull();
  });

  it('rejects a tampered body, id or timestamp', () => {
    const headers = signRequest([key!], 'job-1', body, at);
    expect(verifyRequest([key!], input(headers, body.replace('alice', 'mallory')), at)).toBe('bad-signature');
    expect(verifyRequest([key!], { ...input(headers), id: 'job-2' }, at)).toBe('bad-signature');
    expect(
      verifyRequest([key!], { ...input(headers), timestamp: String(Number(headers['webhook-timestamp']) + 1) }, at),
    ).toBe('bad-signature');
  });

  it('rejects stale and future requests beyond ±300 s, accepts within', () => {
    const headers = signRequest([key!], 'job-1', body, at);
    expect(verifyRequest([key!], input(headers), new Date(at.getTime() + 299_000))).toBeNull();
    expect(verifyRequest([key!], input(headers), new Date(at.getTime() + 301_000))).toBe('stale');
    expect(verifyRequest([key!], input(headers), new Date(at.getTime() - 301_000))).toBe('stale');
  });

  it('rejects missing or malformed headers', () => {
    const headers = signRequest([key!], 'job-1', body, at);
    expect(verifyRequest([key!], { ...input(headers), signature: undefined }, at)).toBe('missing-headers');
    expect(verifyRequest([key!], { ...input(headers), id: '' }, at)).toBe('missing-headers');
    expect(verifyRequest([key!], { ...input(headers), timestamp: '12ab' }, at)).toBe('missing-headers');
    expect(verifyRequest([key!], { ...input(headers), signature: 'v1,short' }, at)).toBe('bad-signature');
    expect(
      verifyRequest([key!], { ...input(headers), signature: 'v2,' + headers['webhook-signature']!.slice(3) }, at),
    ).toBe('bad-signature');
  });

  it('supports rotation: signed with new+old, accepted by a receiver holding either', () => {
    const [newKey, oldKey] = parseSigningSecrets(`${generateSigningSecret()} ${generateSigningSecret()}`) as [
      Buffer,
      Buffer,
    ];
    const headers = signRequest([newKey, oldKey], 'job-1', body, at);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifyRequest([oldKey], input(headers), at)).toBeNull();
    expect(verifyRequest([newKey], input(headers), at)).toBeNull();
    const [stranger] = parseSigningSecrets(generateSigningSecret());
    expect(verifyRequest([stranger!], input(headers), at)).toBe('bad-signature');
  });
});
