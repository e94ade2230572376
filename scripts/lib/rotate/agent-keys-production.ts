/**
 * `npm run rotate -- agent-signing | agent-sealing --secrets-file FILE --env NAME`: the same order as on the local
 * stack, on the operator's secrets file (every agent shares these variables), with a deploy of NAME-services after
 * each change (run with --deploy, else printed: deploy, then run the same command again to go on):
 *   signing  1. TF_VAR_agent_signing_secrets "old new": agents accept both, meet-auth signs with both (either
 *               container may be replaced first);  2. "new": the old secret goes.
 *   sealing  1. TF_VAR_agent_sealing_private_keys "old new": the agents open seals for both (only they change);
 *            2. TF_VAR_agent_sealing_public_key = the new public key: meet-auth seals to it (only it changes);
 *            3. with --old-seals-drained, once no outbox job holds a password sealed to the old key: "new".
 * The file is replaced atomically (0600, previous kept as FILE.prev); how many steps are done is kept in
 * FILE.agent-<kind>.rotation until the end, so the same command resumes where the last run stopped.
 */
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { generateSealingKeyPair, sealingPublicKeyOf } from '../../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../../edge/shared/signing.js';
import { sealingFingerprint } from '../live-keys.js';
import { DeployPending, type Plan, type Step } from './plan.js';
import { readSecretsFile, replaceSecretVariable } from './secrets-file-edit.js';

export interface ProductionAgentKeyOptions {
  readonly kind: 'signing' | 'sealing';
  readonly path: string;
  readonly environment: string;
  readonly who: string;
  readonly err: (line: string) => void;
  readonly oldSealsDrained: boolean;
  readonly deploy?: (command: readonly string[]) => Promise<void>;
}

const VARS = {
  signing: 'agent_signing_secrets',
  sealingPrivate: 'agent_sealing_private_keys',
  sealingPublic: 'agent_sealing_public_key',
} as const;
const list = (value: string) => value.split(/[\s,]+/).filter(Boolean);

export async function planProductionAgentKeys(options: ProductionAgentKeyOptions): Promise<Plan> {
  const { kind, path, environment } = options;
  const command = ['npx', 'cdktf', 'deploy', `${environment}-services`, '--auto-approve'];
  const marker = `${path}.agent-${kind}.rotation`;
  const markDone = (count: number) => writeFile(marker, `${JSON.stringify({ done: count })}\n`, { mode: 0o600 });
  const already = await readFile(marker, 'utf8').then(
    (text) => Number((JSON.parse(text) as { done?: unknown }).done) || 0,
    () => 0,
  );
  /** Each step records itself as done; a deploy counts as done once printed (the operator runs it before resuming). */
  const tracked = (steps: Step[]): Step[] =>
    steps.map((step, index) => ({
      title: step.title,
      async run() {
        if (index === steps.length - 1) {
          await step.run();
          await rm(marker, { force: true });
          return;
        }
        try {
          await step.run();
        } catch (error) {
          if (error instanceof DeployPending && step.title.startsWith('deploy ')) await markDone(index + 1);
          throw error;
        }
        await markDone(index + 1);
      },
    }));
  const deployStep = (what: string): Step => ({
    title: `deploy ${environment}-services (${what}): set -a; . ${path}; set +a; ${command.join(' ')}`,
    async run() {
      if (options.deploy) return options.deploy(command);
      throw new DeployPending(
        `deploy now: set -a; . ${path}; set +a; ${command.join(' ')}\nthen run the same rotate command again to continue.`,
      );
    },
  });
  const audit: Step = {
    title: 'write the audit entry (who, what, when)',
    run: () =>
      appendFile(
        `${path}.audit`,
        `${new Date().toISOString()} secret-rotated agent-${kind} (all agents of ${environment}) rotated by ${options.who}\n`,
        { mode: 0o600 },
      ),
  };

  if (kind === 'signing') {
    const secrets = list(await readSecretsFile(path, VARS.signing));
    const steps = tracked([
      {
        title: `add a new signing secret after the current one in TF_VAR_${VARS.signing} (agents accept both, meet-auth signs with both)`,
        run: () => replaceSecretVariable(path, VARS.signing, [...secrets, generateSigningSecret()].join(' ')),
      },
      deployStep('agents and meet-auth take both secrets'),
      {
        title: `keep only the new secret in TF_VAR_${VARS.signing}`,
        async run() {
          const now = list(await readSecretsFile(path, VARS.signing));
          await replaceSecretVariable(path, VARS.signing, now.at(-1)!);
        },
      },
      deployStep('the old secret goes'),
      audit,
    ]);
    return {
      what: `agent-signing (all agents of ${environment})`,
      steps: steps.slice(already),
      ...(already ? { resumed: `steps 1-${already} of ${steps.length} were done by an earlier run` } : {}),
      onFailure: `${path} holds secrets that all still work together with what is deployed. Resume with the same command.`,
    };
  }

  const privates = list(await readSecretsFile(path, VARS.sealingPrivate));
  await readSecretsFile(path, VARS.sealingPublic);
  const steps = tracked([
    {
      title: `add a new sealing key after the current one in TF_VAR_${VARS.sealingPrivate} (the agents open seals for both)`,
      run: () =>
        replaceSecretVariable(path, VARS.sealingPrivate, [...privates, generateSealingKeyPair().privateKey].join(' ')),
    },
    deployStep('the agents take both keys'),
    {
      title: `set TF_VAR_${VARS.sealingPublic} to the new key's public half (meet-auth seals to it)`,
      async run() {
        const now = list(await readSecretsFile(path, VARS.sealingPrivate));
        await replaceSecretVariable(path, VARS.sealingPublic, sealingPublicKeyOf(now.at(-1)!));
      },
    },
    deployStep('meet-auth seals to the new key'),
    {
      title: `once no job of the outbox holds a password sealed to the old key (check on the meet-auth host: docker exec meet-edge node dist/scripts/tickets.mjs jobs), keep only the new key in TF_VAR_${VARS.sealingPrivate}`,
      async run() {
        const now = list(await readSecretsFile(path, VARS.sealingPrivate));
        if (!options.oldSealsDrained) {
          throw new DeployPending(
            `old key(s) ${now.slice(0, -1).map(sealingFingerprint).join(', ')} may still be needed by jobs in the outbox: when no job is pending or dead ` +
              '(docker exec meet-edge node dist/scripts/tickets.mjs jobs), run the same command with --old-seals-drained.',
          );
        }
        await replaceSecretVariable(path, VARS.sealingPrivate, now.at(-1)!);
      },
    },
    deployStep('the old key goes'),
    audit,
  ]);
  return {
    what: `agent-sealing (all agents of ${environment})`,
    steps: steps.slice(already),
    ...(already ? { resumed: `steps 1-${already} of ${steps.length} were done by an earlier run` } : {}),
    onFailure: `${path} holds keys that all still work together with what is deployed (the agents open seals for every listed key). Resume with the same command.`,
  };
}
