/**
 * `npm run rotate -- jicofo | jvb`: a new password for Jitsi's service account focus@ or jvb@ on the auth domain.
 * The images never update an existing account (register-setup:67,76 @ stable-11146-2: `prosodyctl shell user
 * create`, which refuses one), so the new password is first set on the account itself, through every agent (signed
 * /service-accounts/password), and only then handed to jicofo / the bridges:
 *   - local stack: keys/<name>-auth-password is replaced (previous kept as .prev);
 *   - production (--secrets-file): TF_VAR_<name>_auth_password is replaced in the secrets file (atomic, 0600,
 *     previous kept as .prev), then `cdktf deploy <env>-services` replaces prosody, jicofo and every jvb with it.
 * The new password waits in `<secret>.next` (0600) until the end, so a run that stopped is resumed by the same
 * command and uses the same password; until step 3, jicofo's file or variable still holds the old one.
 */
import { readFile, rename, rm, writeFile, copyFile, chmod } from 'node:fs/promises';
import type { AgentConfig } from '../../../edge/auth/config.js';
import { setServicePassword } from '../../../edge/auth/admin/admin-calls.js';
import { audit } from '../../../edge/auth/store/audit.js';
import { openDatabase } from '../../../edge/auth/store/db.js';
import {
  AUTH_DOMAIN,
  newServicePassword,
  SERVICE_ACCOUNTS,
  servicePasswordPath,
  type ServiceName,
} from '../local-secrets.js';
import type { Plan } from './plan.js';
import { replaceSecretVariable, readSecretsFile } from './secrets-file-edit.js';

type ServiceTarget =
  | { readonly kind: 'local'; readonly dataDir: string }
  | { readonly kind: 'secrets-file'; readonly path: string; readonly environment: string };

export interface ServicePasswordOptions {
  readonly service: ServiceName;
  readonly target: ServiceTarget;
  readonly agents: () => Promise<readonly AgentConfig[]>;
  readonly who: string;
  readonly err: (line: string) => void;
  /** Production: run the deploy instead of printing it. */
  readonly deploy?: (command: readonly string[]) => Promise<void>;
}

export async function planServicePassword(options: ServicePasswordOptions): Promise<Plan> {
  const { service, target, err } = options;
  const account = SERVICE_ACCOUNTS[service];
  const jid = `${account.username}@${AUTH_DOMAIN}`;
  const current = target.kind === 'local' ? servicePasswordPath(target.dataDir, service) : target.path;
  const nextFile = target.kind === 'local' ? `${current}.next` : `${current}.${service}.next`;
  // Validates what is there now (reads only).
  if (target.kind === 'secrets-file') await readSecretsFile(target.path, account.variable);
  else
    await readFile(current, 'utf8').catch(() => {
      throw new Error(
        `${current} does not exist: start the local stack once (npm start) to create the service accounts`,
      );
    });
  const pending = await readFile(nextFile, 'utf8').then(
    (text) => text.trim(),
    () => null,
  );
  const next = async () => (await readFile(nextFile, 'utf8')).trim();
  const deployCommand =
    target.kind === 'secrets-file'
      ? ['npx', 'cdktf', 'deploy', `${target.environment}-services`, '--auto-approve']
      : [];

  const steps = [
    ...(pending === null
      ? [
          {
            title: `generate a new password for ${jid} (kept in ${nextFile}, mode 0600, until the rotation is done)`,
            async run() {
              await writeFile(nextFile, `${newServicePassword()}\n`, { mode: 0o600, flag: 'wx' });
            },
          },
        ]
      : []),
    {
      title: `set it on the existing account ${jid} on every Jitsi server, through its agent (the images never update it)`,
      async run() {
        const password = await next();
        for (const agent of await options.agents()) {
          const status = await setServicePassword(agent, account.username, password);
          if (status === 'absent')
            throw new Error(
              `${jid} does not exist on ${agent.name}; its Prosody has not created the service accounts yet`,
            );
          err(`  ${agent.name}: password of ${jid} changed`);
        }
      },
    },
    {
      title:
        target.kind === 'local'
          ? `give ${service} the new password: ${current} replaced (previous kept as ${current}.prev)`
          : `give ${service} the new password: TF_VAR_${account.variable} replaced in ${target.path} (atomic, 0600, previous kept as ${target.path}.prev)`,
      async run() {
        const password = await next();
        if (target.kind === 'local') {
          await copyFile(current, `${current}.prev`);
          await chmod(`${current}.prev`, 0o600);
          await rename(nextFile, current);
        } else {
          await replaceSecretVariable(target.path, account.variable, password);
          await rm(nextFile, { force: true });
        }
      },
    },
    ...(target.kind === 'secrets-file'
      ? [
          {
            title: `deploy: set -a; . ${target.path}; set +a; ${deployCommand.join(' ')} (replaces prosody, jicofo and every jvb with the new value; conferences may drop while jicofo restarts)`,
            async run() {
              if (options.deploy) await options.deploy(deployCommand);
              else err(`  run it now: set -a; . ${target.path}; set +a; ${deployCommand.join(' ')}`);
            },
          },
        ]
      : []),
    {
      title: 'write the audit entry (who, what, when)',
      async run() {
        const detail = `${service} (${jid}) rotated by ${options.who}`;
        if (target.kind === 'local') {
          const db = openDatabase(target.dataDir);
          try {
            audit(db, { at: Date.now(), event: 'secret-rotated', detail });
          } finally {
            db.close();
          }
        } else {
          await writeFile(`${target.path}.audit`, `${new Date().toISOString()} secret-rotated ${detail}\n`, {
            mode: 0o600,
            flag: 'a',
          });
        }
      },
    },
  ];
  return {
    what: `${service} (${jid})`,
    steps,
    ...(pending !== null
      ? { resumed: `a new password was generated by an earlier run (${nextFile}) and is used again` }
      : {}),
    onFailure:
      `${service} still has its previous password (until the step that hands it the new one). If the account's password ` +
      `was already changed on a server, ${service} logs in again only with the new one: resume with the same command ` +
      `(it reuses ${nextFile}). To roll back instead, delete ${nextFile} and rotate again.`,
  };
}
