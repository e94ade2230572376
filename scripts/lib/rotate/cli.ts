/** `npm run rotate -- <secret> [--dry-run]` (see ROTATE_USAGE): parses arguments and runs one plan. */
import { $ } from 'zx';
import { ConfigError, type AgentConfig } from '../../../edge/auth/config.js';
import { adminAgents } from '../admin-agents.js';
import { parseCliArgs, runCli, UsageError, type CliIo } from '../../../edge/shared/cli.js';
import { DEFAULT_BCRYPT_COST } from '../../../edge/auth/store/ticketmasters.js';
import { ACME_DIRECTORIES } from '../certs/config.js';
import { backupKeyPath } from '../backup/key.js';
import { AGENT_NAME } from '../local-stack.js';
import { planAcmeAccountRotation } from './acme-account.js';
import { planAgentKeyRotation } from './agent-keys.js';
import { planProductionAgentKeys } from './agent-keys-production.js';
import { actor, runPlan, StepFailed, type Plan } from './plan.js';
import { planServicePassword } from './service-password.js';
import { planBackupKey, planTicketmaster } from './simple.js';
import { join } from 'node:path';
import { DEFAULTS, ENVIRONMENT_NAME } from '../../../common/config.js';

const ROTATE_USAGE = `usage: npm run rotate -- <secret> [options]

secrets:
  agent-signing [--agent NAME]   the HMAC secret meet-auth signs deliveries with. Three steps, each loaded by the
                                 running stack before the next: the agent accepts a new secret, meet-auth signs
                                 with it, the old one goes. No delivery fails meanwhile.
  agent-sealing [--agent NAME]   the X25519 key passwords are sealed to. The agent accepts the new key, meet-auth
                                 seals to it, and the old key goes once no job of the outbox needs it.
  ticketmaster <name>            the token of one ticketmaster: the old one is refused at once; the new one is
                                 printed alone on the last line of stdout.
  jicofo | jvb                   the password of Jitsi's service account focus@ / jvb@ on the auth domain: set on
                                 the existing account through every agent, then handed to jicofo / the bridges.
  acme-account                   the ACME account key: RFC 8555 key rollover at the CA (same account URL), then
                                 the key file is replaced.
  backup-key                     the key new backups are encrypted with (the previous one is kept as .prev for
                                 older archives).

options:
  --dry-run                 print the exact steps and change nothing
  --agent NAME              only this agent (agent-signing, agent-sealing); default: all
  --secrets-file FILE       production (jicofo, jvb, agent-signing, agent-sealing): the operator's secrets file
                            (npm run secrets -- init); replaced atomically, mode 0600, previous kept as FILE.prev
  --env NAME                the environment of --secrets-file (deploys NAME-services)
  --deploy                  with --secrets-file: run each deploy step instead of printing it and pausing (run the
                            same command again after deploying to go on)
  --old-seals-drained       agent-sealing in production: no outbox job needs the old key any more (checked with
                            docker exec meet-edge node dist/scripts/tickets.mjs jobs); lets the last step remove it
  --help                    this text

A step that fails leaves the previous secrets working and says whether to resume (run the same command again)
or roll back. Every rotation writes an audit entry (who, what, when; never a value): npm run tickets -- audit.

environment:
  MEET_DATA_DIR         the local stack's state (default .meet): keys/, meet-auth.sqlite, acme/
  MEET_AGENT_PORT       the local agent's port (default 4000), for jicofo and jvb
  MEET_AGENTS, MEET_AGENT_SIGNING_SECRETS   the agents as meet-auth has them (instead of the local stack)
  MEET_ACME_DIRECTORY   production (default), staging or a directory URL (acme-account)
  MEET_BACKUP_KEY_FILE  the backup key (default $MEET_DATA_DIR/keys/backup.key)
  MEET_ADMIN            who you are, for the audit trail (default: $SUDO_USER or $USER)

exit status: 0 done, 1 a step failed (see the message), 2 bad usage or input (nothing changed).`;

const SECRETS = [
  'agent-signing',
  'agent-sealing',
  'ticketmaster',
  'jicofo',
  'jvb',
  'acme-account',
  'backup-key',
] as const;

export interface RotateIo extends CliIo {
  /** Tests: fail before step N. */
  readonly failBeforeStep?: number;
  readonly graceMs?: number;
}

async function agentsOf(io: CliIo, dataDir: string): Promise<readonly AgentConfig[]> {
  try {
    return await adminAgents(io.env, dataDir);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

export function runRotateCli(args: readonly string[], io: RotateIo): Promise<number> {
  return runCli(io, 'rotate', ROTATE_USAGE, async () => {
    const { values: argv, positionals } = parseCliArgs(args, {
      help: { type: 'boolean', short: 'h' },
      'dry-run': { type: 'boolean' },
      deploy: { type: 'boolean' },
      'old-seals-drained': { type: 'boolean' },
      agent: { type: 'string' },
      'secrets-file': { type: 'string' },
      env: { type: 'string' },
    });
    if (argv.help) {
      io.out(ROTATE_USAGE);
      return;
    }
    const [secret, ...rest] = positionals;
    if (!secret) throw new UsageError('which secret? one of ' + SECRETS.join(', '));
    if (!(SECRETS as readonly string[]).includes(secret))
      throw new UsageError(`"${secret}" is not a secret this rotates; one of ${SECRETS.join(', ')}`);
    const extra = secret === 'ticketmaster' ? rest.slice(1) : rest;
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    if (argv.agent !== undefined && secret !== 'agent-signing' && secret !== 'agent-sealing')
      throw new UsageError('--agent applies to agent-signing and agent-sealing only');
    if (
      (argv['secrets-file'] !== undefined || argv.env !== undefined || argv.deploy) &&
      !['jicofo', 'jvb', 'agent-signing', 'agent-sealing'].includes(secret)
    ) {
      throw new UsageError('--secrets-file, --env and --deploy apply to jicofo, jvb, agent-signing and agent-sealing');
    }
    if (argv['old-seals-drained'] && secret !== 'agent-sealing')
      throw new UsageError('--old-seals-drained applies to agent-sealing');
    const dataDir = io.env.MEET_DATA_DIR || DEFAULTS.dataDir;
    const who = actor(io.env);
    const dryRun = Boolean(argv['dry-run']);
    let plan: Plan;
    try {
      plan = await planFor(secret as (typeof SECRETS)[number]);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError((error as Error).message);
    }
    try {
      await runPlan(plan, { dryRun, err: io.err, ...(io.failBeforeStep ? { failBeforeStep: io.failBeforeStep } : {}) });
    } catch (error) {
      if (error instanceof StepFailed) throw new Error(error.message);
      throw error;
    }

    async function planFor(name: (typeof SECRETS)[number]): Promise<Plan> {
      switch (name) {
        case 'agent-signing':
        case 'agent-sealing': {
          const kind = name === 'agent-signing' ? 'signing' : 'sealing';
          if (argv['secrets-file'] !== undefined) {
            if (argv.env === undefined || !ENVIRONMENT_NAME.test(argv.env))
              throw new UsageError('--secrets-file needs --env NAME (the environment it deploys)');
            // Production's agents share these variables: --agent can only name all of them.
            if (argv.agent !== undefined)
              throw new UsageError(
                `--agent "${argv.agent}": in production every agent shares the keys of the secrets file; rotate them all (no --agent)`,
              );
            return planProductionAgentKeys({
              kind,
              path: argv['secrets-file'],
              environment: argv.env,
              who,
              err: io.err,
              oldSealsDrained: Boolean(argv['old-seals-drained']),
              ...(argv.deploy
                ? {
                    deploy: async (command: readonly string[]) =>
                      void (await $({ stdio: ['ignore', 2, 2] })`${command}`),
                  }
                : {}),
            });
          }
          if (io.env.MEET_AGENTS)
            throw new UsageError(
              `${name} with MEET_AGENTS: rotate production's keys in the secrets file with --secrets-file FILE --env NAME`,
            );
          if (argv.agent !== undefined && argv.agent !== AGENT_NAME)
            throw new UsageError(`no agent is named "${argv.agent}" (the local stack has one: ${AGENT_NAME})`);
          return planAgentKeyRotation({
            dataDir,
            kind,
            who,
            err: io.err,
            ...(io.graceMs !== undefined ? { graceMs: io.graceMs } : {}),
          });
        }
        case 'ticketmaster': {
          if (!rest[0]) throw new UsageError('ticketmaster needs the name of the ticketmaster');
          const cost = Number(io.env.MEET_BCRYPT_COST || DEFAULT_BCRYPT_COST);
          return planTicketmaster({ dataDir, name: rest[0], who, cost, out: io.out });
        }
        case 'jicofo':
        case 'jvb': {
          const file = argv['secrets-file'];
          if ((file === undefined) !== (argv.env === undefined))
            throw new UsageError('--secrets-file and --env go together');
          if (argv.env !== undefined && !ENVIRONMENT_NAME.test(argv.env))
            throw new UsageError(`--env "${argv.env}" is not an environment name`);
          return planServicePassword({
            service: name,
            target: file ? { kind: 'secrets-file', path: file, environment: argv.env! } : { kind: 'local', dataDir },
            agents: () => agentsOf(io, dataDir),
            who,
            err: io.err,
            ...(argv.deploy
              ? {
                  deploy: async (command: readonly string[]) => void (await $({ stdio: ['ignore', 2, 2] })`${command}`),
                }
              : {}),
          });
        }
        case 'acme-account': {
          const raw = io.env.MEET_ACME_DIRECTORY || 'production';
          const directoryUrl = raw in ACME_DIRECTORIES ? ACME_DIRECTORIES[raw as keyof typeof ACME_DIRECTORIES] : raw;
          if (!URL.canParse(directoryUrl) || new URL(directoryUrl).protocol !== 'https:')
            throw new UsageError(`MEET_ACME_DIRECTORY "${raw}" is neither production, staging nor an https:// URL`);
          return planAcmeAccountRotation({
            dataDir,
            accountDir: join(dataDir, 'acme'),
            directoryUrl,
            who,
            err: io.err,
          });
        }
        case 'backup-key':
          // Production's key is meet-edge's MEET_BACKUP_KEY: rotating a key file there would change nothing.
          if (io.env.MEET_BACKUP_KEY) {
            throw new UsageError(
              'MEET_BACKUP_KEY is set (meet-edge has the key from TF_VAR_backup_key): there is no key file to rotate; put a new key in TF_VAR_backup_key of the secrets file, keep the old one for older archives, and deploy <env>-services',
            );
          }
          return planBackupKey({ dataDir, path: backupKeyPath(io.env), who });
      }
    }
  });
}
