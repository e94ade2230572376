import { describe, expect, it } from 'vitest';
import acme from 'acme-client';
import { ACME_DIRECTORIES, ConfigError, loadCertsConfig } from '../../../../scripts/lib/certs/config.js';

const problems = (env: Record<string, string>) => {
  try {
    loadCertsConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a configuration error');
};

describe('loadCertsConfig', () => {
  it("defaults: Let's Encrypt production, 30 days, lock wait 600 s, self-check on, directories under MEET_DATA_DIR (where meet-auth serves challenges)", () => {
    expect(loadCertsConfig({ MEET_CERT_DOMAINS: 'Meet.Example.org., auth.example.org meet.example.org' })).toEqual({
      domains: ['meet.example.org', 'auth.example.org'],
      directoryUrl: ACME_DIRECTORIES.production,
      email: null,
      certsDir: '.meet/certs',
      challengeDir: '.meet/acme-challenge',
      accountDir: '.meet/acme',
      renewDays: 30,
      lockWaitSeconds: 600,
      selfCheck: true,
    });
  });

  it('MEET_ACME_SELF_CHECK: 1 or 0, empty means the default (on)', () => {
    const selfCheck = (value: string) =>
      loadCertsConfig({ MEET_CERT_DOMAINS: 'a.example', MEET_ACME_SELF_CHECK: value }).selfCheck;
    expect([selfCheck('1'), selfCheck('0'), selfCheck(''), selfCheck(' ')]).toEqual([true, false, true, true]);
    for (const bad of ['false', 'true', 'no', '00', ' 0']) {
      expect(problems({ MEET_CERT_DOMAINS: 'a.example', MEET_ACME_SELF_CHECK: bad })).toEqual([
        `MEET_ACME_SELF_CHECK: "${bad}" must be 1 (fetch each challenge URL before the CA validates it, the default) or 0 (do not)`,
      ]);
    }
  });

  it('staging shorthand, explicit directories and window, contact email', () => {
    const config = loadCertsConfig({
      MEET_CERT_DOMAINS: 'meet.example.org',
      MEET_ACME_DIRECTORY: 'staging',
      MEET_ACME_EMAIL: 'ops@example.org',
      MEET_DATA_DIR: '/data',
      MEET_CERTS_DIR: '/certs',
      MEET_ACME_CHALLENGE_DIR: '/acme-challenge',
      MEET_CERT_RENEW_DAYS: '20',
      MEET_CERT_LOCK_WAIT_SECONDS: '0',
      MEET_ACME_SELF_CHECK: '0',
    });
    expect(config).toMatchObject({
      directoryUrl: ACME_DIRECTORIES.staging,
      email: 'ops@example.org',
      certsDir: '/certs',
      challengeDir: '/acme-challenge',
      accountDir: '/data/acme',
      renewDays: 20,
      lockWaitSeconds: 0,
      selfCheck: false,
    });
    expect(
      loadCertsConfig({ MEET_CERT_DOMAINS: 'a.example', MEET_ACME_DIRECTORY: 'https://127.0.0.1:14000/dir' })
        .directoryUrl,
    ).toBe('https://127.0.0.1:14000/dir');
  });

  it("the shorthands are acme-client's Let's Encrypt directories", () => {
    expect(ACME_DIRECTORIES).toEqual(acme.directory.letsencrypt);
  });

  it('lists every problem at once, naming the variable and the bad value', () => {
    expect(
      problems({
        MEET_CERT_DOMAINS: 'ok.example, *.example.org 192.0.2.1 under_score.example -lead.example single',
        MEET_ACME_DIRECTORY: 'ftp://ca',
        MEET_ACME_EMAIL: 'ops',
        MEET_CERT_RENEW_DAYS: '0',
        MEET_ACME_SELF_CHECK: 'off',
      }),
    ).toEqual([
      'MEET_CERT_DOMAINS: "*.example.org" is a wildcard name: HTTP-01 cannot prove those (it needs DNS-01)',
      'MEET_CERT_DOMAINS: "192.0.2.1" is an IP address, not a DNS name',
      'MEET_CERT_DOMAINS: "under_score.example" is not a DNS name',
      'MEET_CERT_DOMAINS: "-lead.example" is not a DNS name',
      'MEET_CERT_DOMAINS: "single" is not a DNS name',
      'MEET_ACME_DIRECTORY: "ftp://ca" is neither "production", "staging" nor an https:// URL of an ACME directory',
      'MEET_ACME_EMAIL: "ops" is not an email address',
      'MEET_CERT_RENEW_DAYS: "0" must be a whole number of days from 1 to 365',
      'MEET_ACME_SELF_CHECK: "off" must be 1 (fetch each challenge URL before the CA validates it, the default) or 0 (do not)',
    ]);
    expect(problems({})).toEqual([
      'MEET_CERT_DOMAINS: is required: the names the certificate covers, comma-separated (e.g. meet.example.org)',
    ]);
    expect(problems({ MEET_CERT_DOMAINS: ' , ' })[0]).toContain('MEET_CERT_DOMAINS: is required');
    expect(problems({ MEET_CERT_DOMAINS: 'a.example', MEET_CERT_RENEW_DAYS: '1.5' })).toEqual([
      'MEET_CERT_RENEW_DAYS: "1.5" must be a whole number of days from 1 to 365',
    ]);
    expect(problems({ MEET_CERT_DOMAINS: 'a.example', MEET_CERT_LOCK_WAIT_SECONDS: '3601' })).toEqual([
      'MEET_CERT_LOCK_WAIT_SECONDS: "3601" must be a whole number of seconds from 0 to 3600',
    ]);
    expect(problems({ MEET_CERT_DOMAINS: 'a.example', MEET_CERT_LOCK_WAIT_SECONDS: '-1' })).toEqual([
      'MEET_CERT_LOCK_WAIT_SECONDS: "-1" must be a whole number of seconds from 0 to 3600',
    ]);
    expect(problems({ MEET_CERT_DOMAINS: Array.from({ length: 101 }, (_, i) => `n${i}.example`).join(',') })).toEqual([
      'MEET_CERT_DOMAINS: lists 101 names; at most 100 fit on one certificate',
    ]);
  });

  it('the error message lists the problems under one heading', () => {
    expect(() => loadCertsConfig({ MEET_CERT_DOMAINS: 'x' })).toThrow(
      'invalid certificate configuration:\n  - MEET_CERT_DOMAINS: "x" is not a DNS name',
    );
  });
});
