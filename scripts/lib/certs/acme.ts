/**
 * Obtaining a certificate from an ACME CA (Let's Encrypt, or Pebble in tests) with acme-client and HTTP-01:
 * each token is written as a file into the challenge directory, which the web server of that host serves at
 * /.well-known/acme-challenge/ (nginx in jitsi-web, meet-auth itself on its host), and removed afterwards,
 * also when the order fails.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import acme from 'acme-client';
import type { CertsConfig } from './config.js';
import { createFileOnce, ensureDirectory } from './files.js';
import { describeCertificate, keyMismatch, nameCovers } from './inspect.js';

export const ACCOUNT_KEY_FILE = 'account.key';

/** RFC 8555 tokens are base64url; anything else could name a path outside the challenge directory. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export interface ObtainOptions {
  /** Progress lines for a person (the CLI prints them on stderr). */
  readonly progress: (line: string) => void;
  /**
   * Before asking the CA to validate, fetch each challenge URL ourselves (acme-client's check over public DNS
   * and port 80), so a broken set-up fails without spending a failed validation. @default true
   * Off only when the names resolve inside the test CA alone (Pebble + challtestsrv).
   */
  readonly selfCheck?: boolean;
}

export interface ObtainedCertificate {
  /** PEM, the leaf first, then the chain. */
  readonly chainPem: string;
  /** PEM (PKCS#8) private key of the leaf. */
  readonly keyPem: string;
}

/** The ACME account key: made once (ECDSA P-256, mode 0600 in a 0700 directory) and then always reused. */
export async function loadOrCreateAccountKey(accountDir: string, progress: (line: string) => void): Promise<string> {
  const path = join(accountDir, ACCOUNT_KEY_FILE);
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new Error(`cannot read the ACME account key ${path}: ${error.message}`);
  });
  if (existing !== null) {
    createPrivateKey(existing); // fail here, naming the file, rather than deep inside a signed request
    return existing;
  }
  await ensureDirectory(accountDir, 0o700);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  if (await createFileOnce(path, privateKey, 0o600)) {
    progress(`created the ACME account key ${path}`);
    return privateKey;
  }
  return readFile(path, 'utf8'); // another run created it a moment ago
}

/**
 * Orders a certificate for config.domains and returns it once it is checked (covers every name, matches its
 * key). Writes nothing but challenge files (removed again) and, the first time, the account key.
 */
export async function obtainCertificate(config: CertsConfig, options: ObtainOptions): Promise<ObtainedCertificate> {
  const { progress } = options;
  const accountKey = await loadOrCreateAccountKey(config.accountDir, progress);
  const client = new acme.Client({ directoryUrl: config.directoryUrl, accountKey });
  const certificateKey = await acme.crypto.createPrivateEcdsaKey('P-256');
  const [, csr] = await acme.crypto.createCsr({ commonName: config.domains[0]!, altNames: [...config.domains] }, certificateKey);
  await ensureDirectory(config.challengeDir, 0o755);

  const written = new Set<string>();
  const tokenFile = (token: string) => {
    if (!TOKEN.test(token)) throw new Error(`the CA sent a challenge token that is not base64url: ${JSON.stringify(token.slice(0, 80))}`);
    return join(config.challengeDir, token);
  };
  progress(`ordering a certificate for ${config.domains.join(', ')} from ${config.directoryUrl}`);
  let chainPem: string;
  try {
    chainPem = await client.auto({
      csr,
      ...(config.email ? { email: config.email } : {}),
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      skipChallengeVerification: options.selfCheck === false,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01') throw new Error(`${authz.identifier.value}: the CA offers no http-01 challenge`);
        const file = tokenFile(challenge.token);
        written.add(file);
        // World-readable: nginx and meet-auth serve it (same uid in production, but not necessarily locally).
        await writeFile(file, keyAuthorization, { mode: 0o644 });
        progress(`${authz.identifier.value}: challenge file ${file} written, asking the CA to validate`);
      },
      challengeRemoveFn: async (authz, challenge) => {
        if (challenge.type !== 'http-01') return;
        const file = tokenFile(challenge.token);
        await rm(file, { force: true });
        written.delete(file);
        progress(`${authz.identifier.value}: challenge file removed`);
      },
    });
  } finally {
    // acme-client removes what it created, but swallows errors doing so; make sure nothing is left behind.
    await Promise.all([...written].map((file) => rm(file, { force: true })));
  }

  const keyPem = certificateKey.toString();
  const info = describeCertificate(chainPem);
  const uncovered = config.domains.filter((domain) => !info.names.some((name) => nameCovers(name, domain)));
  if (uncovered.length > 0) throw new Error(`the CA issued a certificate that does not cover ${uncovered.join(', ')}`);
  const mismatch = keyMismatch(chainPem, keyPem);
  if (mismatch) throw new Error(`the CA issued a certificate for another key (${mismatch})`);
  progress(`issued by ${info.issuer}, valid until ${info.notAfter.toISOString()}`);
  return { chainPem, keyPem };
}
