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
import { createFileOnce, ensureDirectory, replaceFiles } from './files.js';
import { describeCertificate, keyMismatch, uncoveredDomains } from './inspect.js';

export const ACCOUNT_KEY_FILE = 'account.key';
/** The account URL (and contact) per directory URL: the same key is a different account at each CA. */
export const ACCOUNTS_FILE = 'accounts.json';

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
  /**
   * How often acme-client polls (self-check, challenge and order status): `attempts` tries, waiting `minMs`
   * doubling up to `maxMs` in between. @default 10 tries, 1 s doubling to 30 s (about 2.5 minutes in all)
   */
  readonly polling?: { readonly attempts: number; readonly minMs: number; readonly maxMs: number };
}

const DEFAULT_POLLING = { attempts: 10, minMs: 1000, maxMs: 30_000 };

export interface ObtainedCertificate {
  /** PEM, the leaf first, then the chain. */
  readonly chainPem: string;
  /** PEM (PKCS#8) private key of the leaf. */
  readonly keyPem: string;
}

/** The ACME account key: made once (ECDSA P-256, mode 0600 in a 0700 directory) and then always reused. */
async function loadOrCreateAccountKey(accountDir: string, progress: (line: string) => void): Promise<string> {
  const path = join(accountDir, ACCOUNT_KEY_FILE);
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new Error(`cannot read the ACME account key ${path}: ${error.message}`);
  });
  if (existing !== null) {
    try {
      createPrivateKey(existing); // fail here, naming the file, rather than deep inside a signed request
    } catch (error) {
      throw new Error(
        `the ACME account key ${path} is not a private key (${(error as Error).message}); move it away to create a new account`,
      );
    }
    return existing;
  }
  await ensureDirectory(accountDir, 0o700);
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  if (await createFileOnce(path, privateKey, 0o600)) {
    progress(`created the ACME account key ${path}`);
    return privateKey;
  }
  return readFile(path, 'utf8'); // another run created it a moment ago
}

type StoredAccounts = Record<string, { readonly url: string; readonly contact: readonly string[] }>;

/**
 * An acme-client Client bound to our account at this CA. The account is registered once and its URL kept, so
 * later runs neither register again nor send an account update (an update without changes is refused by
 * Pebble, and Let's Encrypt counts registrations); the contact is updated only when MEET_ACME_EMAIL changed.
 */
async function accountClient(config: CertsConfig, accountKey: string, options: ObtainOptions): Promise<acme.Client> {
  const { progress } = options;
  const polling = options.polling ?? DEFAULT_POLLING;
  const file = join(config.accountDir, ACCOUNTS_FILE);
  const stored = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as StoredAccounts,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return {} as StoredAccounts;
      throw new Error(`cannot read ${file}: ${error.message}`);
    },
  );
  const contact = config.email ? [`mailto:${config.email}`] : [];
  const known = stored[config.directoryUrl];
  const client = new acme.Client({
    directoryUrl: config.directoryUrl,
    accountKey,
    ...(known ? { accountUrl: known.url } : {}),
    backoffAttempts: polling.attempts,
    backoffMin: polling.minMs,
    backoffMax: polling.maxMs,
  });
  if (known && JSON.stringify(known.contact) === JSON.stringify(contact)) return client;
  if (known) {
    await client.updateAccount({ contact });
    progress(`updated the account's contact to ${contact.join(', ') || 'none'}`);
  } else {
    await client.createAccount({ termsOfServiceAgreed: true, ...(contact.length > 0 ? { contact } : {}) });
    progress(`registered the ACME account ${client.getAccountUrl()}`);
  }
  const accounts: StoredAccounts = { ...stored, [config.directoryUrl]: { url: client.getAccountUrl(), contact } };
  await replaceFiles(config.accountDir, [
    { name: ACCOUNTS_FILE, data: `${JSON.stringify(accounts, null, 2)}\n`, mode: 0o600 },
  ]);
  return client;
}

/**
 * acme-client 5.4.0 loses the cause of a network error once its retries are used up (it then fails with
 * "Cannot read properties of undefined (reading 'config')"). Its log still names the error and URL of each retry;
 * keep the last one so the message can say what could not be reached.
 */
async function withNetworkErrors<T>(work: () => Promise<T>): Promise<T> {
  let lastNetworkError: string | null = null;
  acme.setLogger((line) => {
    const caught = /^Caught (\S+), retry attempt \d+\/\d+ to URL (\S+)/.exec(line);
    if (caught) lastNetworkError = `${caught[1]} from ${caught[2]}`;
  });
  try {
    return await work();
  } catch (error) {
    if (error instanceof TypeError && lastNetworkError) throw new Error(`network error: ${lastNetworkError}`);
    throw error;
  } finally {
    acme.setLogger(() => undefined);
  }
}

/**
 * Orders a certificate for config.domains and returns it once it is checked (covers every name, matches its
 * key). Writes nothing but challenge files (removed again) and, the first time, the account key.
 */
export function obtainCertificate(config: CertsConfig, options: ObtainOptions): Promise<ObtainedCertificate> {
  return withNetworkErrors(() => order(config, options));
}

async function order(config: CertsConfig, options: ObtainOptions): Promise<ObtainedCertificate> {
  const { progress } = options;
  const accountKey = await loadOrCreateAccountKey(config.accountDir, progress);
  const client = await accountClient(config, accountKey, options);
  const certificateKey = await acme.crypto.createPrivateEcdsaKey('P-256');
  const [, csr] = await acme.crypto.createCsr(
    { commonName: config.domains[0]!, altNames: [...config.domains] },
    certificateKey,
  );
  await ensureDirectory(config.challengeDir, 0o755);

  const written = new Set<string>();
  const tokenFile = (token: string) => {
    if (!TOKEN.test(token))
      throw new Error(`the CA sent a challenge token that is not base64url: ${JSON.stringify(token.slice(0, 80))}`);
    return join(config.challengeDir, token);
  };
  progress(`ordering a certificate for ${config.domains.join(', ')} from ${config.directoryUrl}`);
  let chainPem: string;
  try {
    chainPem = await client.auto({
      csr, // the account is registered already (accountClient), so auto() does not touch it
      challengePriority: ['http-01'],
      skipChallengeVerification: options.selfCheck === false,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01')
          throw new Error(`${authz.identifier.value}: the CA offers no http-01 challenge`);
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
  const uncovered = uncoveredDomains(info, config.domains);
  if (uncovered.length > 0) throw new Error(`the CA issued a certificate that does not cover ${uncovered.join(', ')}`);
  const mismatch = keyMismatch(chainPem, keyPem);
  if (mismatch) throw new Error(`the CA issued a certificate for another key (${mismatch})`);
  progress(`issued by ${info.issuer}, valid until ${info.notAfter.toISOString()}`);
  return { chainPem, keyPem };
}
