/**
 * `npm run rotate -- acme-account`: an ACME account key rollover (RFC 8555 §7.3.5) with acme-client's
 * updateAccountKey: the account keeps its URL (and so its rate-limit history and authorizations), orders are
 * signed with the new key from then on, and the CA refuses the old one. The new key waits in `account.key.next`
 * (0600) until the CA confirmed; a run that stopped after the CA switched finds that out (the CA names the account
 * for the new key) and only finishes the file swap.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmod, copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import acme from 'acme-client';
import { audit } from '../../../edge/auth/store/audit.js';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { ACCOUNT_KEY_FILE, ACCOUNTS_FILE } from '../certs/acme.js';
import type { Plan } from './plan.js';

export interface AcmeAccountOptions {
  readonly dataDir: string;
  readonly accountDir: string;
  readonly directoryUrl: string;
  readonly who: string;
  readonly err: (line: string) => void;
}

/** The account URL at this CA for `key`, or null when the CA knows no account for it. */
async function accountUrlFor(directoryUrl: string, key: string): Promise<string | null> {
  const client = new acme.Client({ directoryUrl, accountKey: key, backoffAttempts: 2 });
  try {
    await client.createAccount({ onlyReturnExisting: true });
    return client.getAccountUrl();
  } catch (error) {
    if (
      /accountDoesNotExist|does not exist|no account|unable to find existing account/i.test(
        String((error as Error).message),
      )
    )
      return null;
    throw error;
  }
}

export async function planAcmeAccountRotation(options: AcmeAccountOptions): Promise<Plan> {
  const { accountDir, directoryUrl, err } = options;
  const keyPath = join(accountDir, ACCOUNT_KEY_FILE);
  const nextPath = `${keyPath}.next`;
  const stored = JSON.parse(await readFile(join(accountDir, ACCOUNTS_FILE), 'utf8').catch(() => '{}')) as Record<
    string,
    { url: string }
  >;
  const accountUrl = stored[directoryUrl]?.url;
  if (!accountUrl)
    throw new Error(
      `there is no ACME account at ${directoryUrl} in ${accountDir} yet (npm run certs -- issue makes one)`,
    );
  await readFile(keyPath, 'utf8').catch(() => {
    throw new Error(`the ACME account key ${keyPath} is missing`);
  });
  const pending = await readFile(nextPath, 'utf8').then(
    () => true,
    () => false,
  );

  return {
    what: `acme-account (${accountUrl})`,
    ...(pending ? { resumed: `a new key from an earlier run is waiting in ${nextPath}` } : {}),
    steps: [
      ...(pending
        ? []
        : [
            {
              title: `generate a new account key (ECDSA P-256) in ${nextPath} (mode 0600)`,
              async run() {
                const { privateKey } = generateKeyPairSync('ec', {
                  namedCurve: 'P-256',
                  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
                  publicKeyEncoding: { type: 'spki', format: 'pem' },
                });
                await writeFile(nextPath, privateKey, { mode: 0o600, flag: 'wx' });
              },
            },
          ]),
      {
        title: `ask the CA to roll the account ${accountUrl} over to the new key (RFC 8555 key-change; the URL stays)`,
        async run() {
          const [oldKey, newKey] = await Promise.all([readFile(keyPath, 'utf8'), readFile(nextPath, 'utf8')]);
          if ((await accountUrlFor(directoryUrl, newKey)) === accountUrl) {
            err('  the CA already has the new key for this account (an earlier run got this far)');
            return;
          }
          const client = new acme.Client({ directoryUrl, accountKey: oldKey, accountUrl, backoffAttempts: 3 });
          await client.updateAccountKey(newKey);
          const confirmed = await accountUrlFor(directoryUrl, newKey);
          if (confirmed !== accountUrl)
            throw new Error(
              `the CA did not confirm the new key for ${accountUrl} (it names ${confirmed ?? 'no account'})`,
            );
        },
      },
      {
        title: `use the new key: ${keyPath} replaced (previous kept as ${keyPath}.prev; the CA refuses it now)`,
        async run() {
          await copyFile(keyPath, `${keyPath}.prev`);
          await chmod(`${keyPath}.prev`, 0o600);
          await rename(nextPath, keyPath);
          const db = openDatabase(options.dataDir);
          try {
            audit(db, {
              at: Date.now(),
              event: 'secret-rotated',
              detail: `acme-account key of ${accountUrl} rotated by ${options.who}`,
            });
          } finally {
            db.close();
          }
        },
      },
    ],
    onFailure:
      `${keyPath} is unchanged and signs for the account until the CA switched; after that, resume with the same command ` +
      `(it sees the switch and finishes). To roll back before the CA switched, delete ${nextPath}.`,
  };
}
