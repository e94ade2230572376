/**
 * The agent's admin routes for `npm run rotate` and `npm run backup` / `restore`: signed POSTs like the account
 * protocol (edge/shared/accounts-protocol.ts), each webhook-id accepted once.
 *
 * - `POST /service-accounts/password` `{"account": "focus"|"jvb", "sealedPassword"}` → `{"status": "changed"|"absent"}`:
 *   sets a new password on exactly one of Jitsi's two service accounts on the agent's auth domain, never any other.
 * - `POST /backup/list` `{}` → `{"domains": {"xmpp": [names], "auth": [names]}}`
 * - `POST /backup/export` `{"domain": "xmpp"|"auth", "usernames": [...]}` → `{"accounts": [records]}`
 * - `POST /backup/import` `{"domain": "xmpp"|"auth", "accounts": [records]}` → `{"imported": n}`
 * - `POST /backup/files` `{}` → `{"files": {"certs/cert.crt": base64, …}}`: the host's certificate and ACME account
 * - `POST /backup/restore-files` `{"files": {…}}` → `{"restored": n}`: only those four names, written atomically
 *
 * "xmpp" and "auth" name the agent's own two domains (MEET_XMPP_DOMAIN, MEET_XMPP_AUTH_DOMAIN): a request cannot
 * reach any other host of that Prosody.
 */
export const ADMIN_PATHS = {
  servicePassword: '/service-accounts/password',
  backupList: '/backup/list',
  backupExport: '/backup/export',
  backupImport: '/backup/import',
  backupFiles: '/backup/files',
  backupRestoreFiles: '/backup/restore-files',
} as const;

export const SERVICE_USERNAMES = ['focus', 'jvb'] as const;
export type ServiceUsername = (typeof SERVICE_USERNAMES)[number];
export type BackupDomain = 'xmpp' | 'auth';

/** At most this many usernames or records per export or import request. */
export const RECORDS_PER_REQUEST = 200;

/** A service password is sealed to this request and this account only. */
export function servicePasswordSealContext(requestId: string, account: ServiceUsername): string {
  return `service-password\n${requestId}\n${account}`;
}
