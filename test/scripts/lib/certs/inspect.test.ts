/** Reading the certificate on disk and deciding whether it is due, with real certificates made by openssl. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeCertificate,
  nameCovers,
  readCertificateState,
  renewalDecision,
  type CertificateState,
} from '../../../../scripts/lib/certs/inspect.js';
import { writeSelfSigned } from '../../../support/self-signed.js';

const DAY = 86_400_000;
let root: string;

/** A self-signed certificate with these names in a fresh certs dir (cert.crt + cert.key). */
function makeCertsDir(name: string, names: readonly string[], days: number): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeSelfSigned({
    cert: join(dir, 'cert.crt'),
    key: join(dir, 'cert.key'),
    commonName: names[0]!,
    altNames: names.map((n) => `DNS:${n}`),
    days,
  });
  return dir;
}

let good: string;
let goodState: CertificateState & { kind: 'present' };
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'meet-certs-inspect-'));
  good = makeCertsDir('good', ['meet.example.test', 'auth.example.test'], 60);
  goodState = (await readCertificateState(good)) as typeof goodState;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('readCertificateState', () => {
  it('reads names, issuer and validity, and checks the key', () => {
    expect(goodState.kind).toBe('present');
    expect(goodState.keyProblem).toBeNull();
    expect(goodState.info).toMatchObject({
      names: ['meet.example.test', 'auth.example.test'],
      issuer: 'meet.example.test',
      chainLength: 1,
    });
    const lifetime = goodState.info.notAfter.getTime() - goodState.info.notBefore.getTime();
    expect(Math.round(lifetime / DAY)).toBe(60);
  });

  it('missing, unreadable, missing key, key of another certificate', async () => {
    expect(await readCertificateState(join(root, 'nowhere'))).toEqual({
      kind: 'missing',
      certFile: join(root, 'nowhere', 'cert.crt'),
    });
    mkdirSync(join(root, 'garbage'));
    writeFileSync(join(root, 'garbage', 'cert.crt'), 'not a certificate');
    expect(await readCertificateState(join(root, 'garbage'))).toMatchObject({
      kind: 'unreadable',
      problem: 'holds no PEM certificate',
    });
    mkdirSync(join(root, 'nokey'));
    copyFileSync(join(good, 'cert.crt'), join(root, 'nokey', 'cert.crt'));
    expect(await readCertificateState(join(root, 'nokey'))).toMatchObject({
      kind: 'present',
      keyProblem: 'cert.key cannot be read: ENOENT',
    });
    const other = makeCertsDir('other', ['meet.example.test'], 60);
    copyFileSync(join(good, 'cert.key'), join(other, 'cert.key'));
    expect(await readCertificateState(other)).toMatchObject({
      kind: 'present',
      keyProblem: 'cert.key is not the key of cert.crt',
    });
  });

  it('describeCertificate counts the chain and takes the issuer from the leaf', () => {
    const leaf = readFileSync(join(good, 'cert.crt'), 'utf8');
    const other = readFileSync(join(makeCertsDir('chain', ['x.example.test'], 1), 'cert.crt'), 'utf8');
    expect(describeCertificate(leaf + other)).toMatchObject({ chainLength: 2, issuer: 'meet.example.test' });
  });
});

describe('renewalDecision', () => {
  const names = ['meet.example.test', 'auth.example.test'];
  const notAfter = () => goodState.info.notAfter.getTime();

  it('not due outside the window: says how long it is valid and when renewal starts', () => {
    const now = new Date(notAfter() - 31 * DAY);
    expect(renewalDecision(goodState, names, 30, now)).toEqual({
      due: false,
      daysLeft: 31,
      reason: `the certificate is valid for 31 more days; renewal is due from ${new Date(notAfter() - 30 * DAY).toISOString()}`,
    });
  });

  it('due from the first moment inside the window, and once expired', () => {
    expect(renewalDecision(goodState, names, 30, new Date(notAfter() - 30 * DAY))).toEqual({
      due: true,
      daysLeft: 30,
      reason: 'the certificate expires in 30 days (renewal window 30 days)',
    });
    expect(renewalDecision(goodState, names, 30, new Date(notAfter() + DAY))).toMatchObject({
      due: true,
      reason: `the certificate expired on ${goodState.info.notAfter.toISOString()}`,
    });
    expect(renewalDecision(goodState, names, 90, new Date())).toMatchObject({ due: true, daysLeft: 59 });
  });

  it('due when a configured name is not covered, the key is wrong, or there is no certificate', async () => {
    expect(renewalDecision(goodState, [...names, 'www.example.test'], 30)).toMatchObject({
      due: true,
      reason: 'the certificate does not cover www.example.test',
    });
    expect(
      renewalDecision({ ...goodState, keyProblem: 'cert.key is not the key of cert.crt' }, names, 30),
    ).toMatchObject({ due: true, reason: 'cert.key is not the key of cert.crt' });
    expect(renewalDecision(await readCertificateState(join(root, 'nowhere')), names, 30)).toEqual({
      due: true,
      daysLeft: null,
      reason: `there is no certificate at ${join(root, 'nowhere', 'cert.crt')}`,
    });
    expect(renewalDecision({ kind: 'unreadable', certFile: '/c/cert.crt', problem: 'EACCES' }, names, 30)).toEqual({
      due: true,
      daysLeft: null,
      reason: '/c/cert.crt cannot be used: EACCES',
    });
  });

  it('a wildcard covers exactly one label', () => {
    expect(nameCovers('*.example.test', 'meet.example.test')).toBe(true);
    expect(nameCovers('*.example.test', 'a.meet.example.test')).toBe(false);
    expect(nameCovers('*.example.test', 'example.test')).toBe(false);
    expect(nameCovers('meet.example.test', 'meet.example.test')).toBe(true);
  });
});
